"""Engram format v3: updates append a segment; a torn append reads as the state before it; racy files are hashed;
deleted entries are recorded, skipped by every reader, and dropped by compact; v2 engrams still read."""
import os

import numpy as np
import pytest

from embeddenator import fs
from embeddenator.fs.tree import Tree
from embeddenator.fs.update import compact, remove_paths, update_to

CODEC = fs.ChunkCodec(dim=1024, chunk_size=128)
OLD_NS = 1_500_000_000 * 10**9                  # 2017: far from any engram write, so not racily clean


def _tree(root, files, mtime_ns=None):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime_ns is not None:
            os.utime(path, ns=(mtime_ns, mtime_ns))


def _extracted(engram, out):
    fs.extract(engram, out)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob('*') if p.is_file()}


def _state(src):
    return {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob('*') if p.is_file()}


@pytest.fixture
def updated(tmp_path):
    """An engram of an old tree, its size before the update, and both states."""
    src = tmp_path / 'src'
    _tree(src, {f'f{i}.bin': os.urandom(3000) for i in range(12)}, OLD_NS)
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    old, size = _state(src), target.stat().st_size
    _tree(src, {'f3.bin': os.urandom(4000), 'new.bin': os.urandom(900)})
    (src / 'f5.bin').unlink()
    update_to(target, src, workers=1)
    return src, target, size, old, _state(src)


def test_an_update_appends_one_segment_and_keeps_the_rows_before_it(updated, tmp_path):
    src, target, size, old, new = updated
    data = target.read_bytes()
    engram = fs.load(target)
    assert engram.journal['generation'] == 1 and len(data) > size
    assert _extracted(engram, tmp_path / 'out') == new
    assert fs.verify(target) == 2
    assert fs.query(engram, (src / 'new.bin').read_bytes(), k=1)['files'][0].path == 'new.bin'


@pytest.mark.parametrize('cut', [1, 63, 64, 500, -1])
def test_a_torn_append_opens_as_the_state_before_it(updated, tmp_path, cut):
    src, target, size, old, new = updated
    total = target.stat().st_size
    with open(target, 'r+b') as fh:
        fh.truncate(size + cut if cut > 0 else total + cut)
    engram = fs.load(target)
    assert engram.journal['generation'] == 0 and _extracted(engram, tmp_path / 'out') == old
    engram, counts = update_to(target, src, workers=1)            # the next update cuts the torn tail off
    assert _extracted(fs.load(target), tmp_path / 'again') == new and fs.verify(target) == 2


def test_an_append_whose_bytes_never_reached_the_disk_opens_as_the_state_before_it(updated, tmp_path):
    src, target, size, old, new = updated
    data = bytearray(target.read_bytes())
    data[size + 4096:] = bytes(len(data) - size - 4096)          # the size grew, the data is zeros (power loss)
    target.write_bytes(bytes(data))
    assert _extracted(fs.load(target), tmp_path / 'out') == old


def test_rm_marks_entries_deleted_and_every_reader_skips_them(updated, tmp_path):
    src, target, size, old, new = updated
    remove_paths(target, ['f3.bin'])
    engram = fs.load(target)
    assert [(d['path'], d['generation']) for d in engram.deleted] == [(b'f5.bin', 1), (b'f3.bin', 2)]
    assert Tree(engram).lookup(b'f3.bin') is None and Tree(engram).lookup(b'f5.bin') is None
    assert 'f3.bin' not in _extracted(engram, tmp_path / 'out')
    hits = fs.query(engram, new['f3.bin'], k=20)['files']
    assert all(h.path != 'f3.bin' for h in hits)
    storage = engram.storage()
    assert storage['dead_rows'] > 0 and storage['dead_bytes'] > 0 and storage['deleted_entries'] == 2
    _, counts = compact(target)
    after = fs.load(target)
    assert after.storage()['dead_bytes'] == 0 and after.deleted == [] and after.journal['generation'] == 0
    assert counts['file_bytes_after'] < counts['file_bytes_before']
    assert _extracted(after, tmp_path / 'compacted') == {k: v for k, v in new.items() if k != 'f3.bin'}


def test_a_racily_clean_file_is_hashed_and_caught(tmp_path):
    src = tmp_path / 'src'
    _tree(src, {'a.bin': b'A' * 700, 'b.bin': b'B' * 700})       # written just now: within a second of the ingest
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    stamp = (src / 'a.bin').stat().st_mtime_ns
    (src / 'a.bin').write_bytes(b'Z' * 700)                        # same size, mtime put back
    os.utime(src / 'a.bin', ns=(stamp, stamp))
    engram, counts = update_to(target, src, workers=1)
    assert counts['hashed_files'] == 2 and counts['encoded_files'] == 1
    assert _extracted(engram, tmp_path / 'out')['a.bin'] == b'Z' * 700


def test_an_old_file_rewritten_with_its_mtime_put_back_needs_checksum(tmp_path):
    src = tmp_path / 'src'
    _tree(src, {'a.bin': b'A' * 700}, OLD_NS)
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    _tree(src, {'a.bin': b'Z' * 700}, OLD_NS)                      # same size, same (old) mtime
    _, counts = update_to(target, src, workers=1)                  # the quick check trusts size and mtime
    assert counts == {'reused_files': 1, 'encoded_files': 0, 'removed_files': 0, 'hashed_files': 0}
    engram, counts = update_to(target, src, workers=1, checksum=True)
    assert counts['hashed_files'] == 1 and counts['encoded_files'] == 1
    assert _extracted(engram, tmp_path / 'out') == {'a.bin': b'Z' * 700}


@pytest.mark.parametrize('schema', ['embeddenator-fs/engram/v2', 'embeddenator-fs/engram/v3'])
def test_a_v2_or_v3_engram_still_reads_and_its_first_update_rewrites_it_as_v4(tmp_path, legacy_arrays, schema):
    from embeddenator.io import write_arrays
    src = tmp_path / 'src'
    _tree(src, {'a.bin': os.urandom(900), 'd/b.bin': os.urandom(300)}, OLD_NS)
    arrays, meta = legacy_arrays(fs.ingest(src, codec=CODEC, workers=1))
    if schema.endswith('v2'):
        meta = {k: v for k, v in meta.items() if k in ('codec', 'stats')}
    target = tmp_path / 'old.engram'
    write_arrays(target, arrays, schema=schema, extra=meta)
    old = fs.load(target)
    assert old.store is None and _extracted(old, tmp_path / 'out') == _state(src)
    _tree(src, {'c.bin': b'new'})
    update_to(target, src, workers=1)
    engram = fs.load(target)
    assert engram.journal['generation'] == 0 and _extracted(engram, tmp_path / 'again') == _state(src)
    assert engram.store is not None and b'embeddenator-fs/engram/v4' in target.read_bytes()[:4096]


def test_segmented_rows_gather_like_one_array():
    from embeddenator.fs.journal import SegmentedRows
    parts = [np.arange(12).reshape(3, 2, 2), np.zeros((0, 2, 2), int), np.arange(12, 20).reshape(2, 2, 2)]
    rows = SegmentedRows(parts)
    whole = np.concatenate(parts)
    ids = np.array([4, 0, 3, 2, 4])
    assert len(rows) == 5 and np.array_equal(rows[ids], whole[ids]) and np.array_equal(np.asarray(rows), whole)
    assert np.array_equal(rows[1:4], whole[1:4]) and np.array_equal(rows[[3]], whole[[3]])


def test_an_update_with_nothing_changed_appends_nothing(tmp_path):
    src = tmp_path / 'src'
    _tree(src, {'a.bin': os.urandom(900), 'd/b.bin': os.urandom(300)}, OLD_NS)
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    before = target.read_bytes()
    _, counts = update_to(target, src, workers=1)
    assert counts['reused_files'] == 2 and counts['encoded_files'] == 0 and target.read_bytes() == before


def test_random_reads_of_a_journaled_engram_gather_rows_from_every_segment(updated):
    import random
    from embeddenator.fs.reader import ChunkReader
    src, target, size, old, new = updated
    (src / 'f7.bin').write_bytes(os.urandom(5000))
    update_to(target, src, workers=1)
    engram = fs.load(target)
    assert len(engram.store.parts) == 3 and all(len(p.lengths) for p in engram.store.parts)
    reader, rng = ChunkReader(engram), random.Random(5)
    tree = Tree(engram)
    for _ in range(60):
        name = rng.choice(sorted(_state(src)))
        data = (src / name).read_bytes()
        offset = rng.randrange(len(data))
        assert reader.read(tree.lookup(name.encode()), offset, 700) == data[offset: offset + 700]


def test_saving_a_journaled_or_a_v3_engram_packs_its_chunks_into_one_segment(updated, tmp_path, legacy_arrays):
    from embeddenator.io import write_arrays
    src, target, size, old, new = updated
    engram = fs.load(target)
    assert len(engram.store.parts) == 2
    fs.save(engram, tmp_path / 'one.engram')
    again = fs.load(tmp_path / 'one.engram')
    assert len(again.store.parts) == 1 and _extracted(again, tmp_path / 'out') == new
    arrays, meta = legacy_arrays(again)
    write_arrays(tmp_path / 'v3.engram', arrays, schema='embeddenator-fs/engram/v3', extra=meta)
    v3 = fs.load(tmp_path / 'v3.engram')
    assert v3.store is None
    fs.save(v3, tmp_path / 'v4.engram')
    assert _extracted(fs.load(tmp_path / 'v4.engram'), tmp_path / 'out4') == new
