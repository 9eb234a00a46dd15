import hashlib
import importlib
import multiprocessing
import os
import signal
import subprocess

import numpy as np
import pytest

from embeddenator import fs
from embeddenator.io import FormatError

ingest_module = importlib.import_module('embeddenator.fs.ingest')   # the package exports a function of that name


def _same_tree(a, b):
    out = subprocess.run(['diff', '-r', '--no-dereference', str(a), str(b)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_round_trip_is_bit_perfect_with_metadata(tree, tmp_path):
    engram = fs.ingest_to([tree], tmp_path / 't.engram', workers=1)
    out = tmp_path / 'out'
    fs.extract(fs.load(tmp_path / 't.engram'), out)
    _same_tree(tree, out)
    assert os.readlink(out / 'link') == 'a/hello.txt'
    assert (out / 'empty-dir').is_dir() and (out / 'a' / 'empty.txt').stat().st_size == 0
    assert (out / 'a' / 'hello.txt').stat().st_mode & 0o777 == 0o600
    assert (out / 'a' / 'b').stat().st_mtime_ns == (tree / 'a' / 'b').stat().st_mtime_ns
    summary = engram.summary()
    assert summary['recovered_bytes'] == summary['bytes'] and summary['corrections'] == 0
    assert summary['unique_chunks'] < summary['chunks']          # the two equal files share a chunk


def test_large_files_are_cut_into_pieces_and_pooled(tmp_path, monkeypatch):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'big.bin').write_bytes(os.urandom(3_000_000))
    for i in range(40):
        (src / f'small{i}.txt').write_bytes(b'line %d\n' % i * 300)
    monkeypatch.setattr(ingest_module, 'BATCH_BYTES', 256 * 1250)
    pooled = fs.ingest(src, workers=2)
    assert pooled.summary()['bytes'] == 3_000_000 + sum(len(b'line %d\n' % i * 300) for i in range(40))
    fs.extract(pooled, tmp_path / 'out')
    _same_tree(src, tmp_path / 'out')
    inline = fs.ingest(src, workers=1)
    assert np.array_equal(inline.codebook, pooled.codebook) and inline.entries == pooled.entries


def test_same_tree_gives_byte_identical_engrams(tree, tmp_path):
    fs.ingest_to(tree, tmp_path / 'one.engram', workers=1)
    fs.ingest_to(tree, tmp_path / 'two.engram', workers=1)
    assert (tmp_path / 'one.engram').read_bytes() == (tmp_path / 'two.engram').read_bytes()


def test_a_damaged_codebook_row_of_a_v3_engram_is_repaired_by_its_correction(tree):
    engram = fs.ingest(tree, workers=1)
    entry = next(e for e in engram.entries if e.path == b'a/b/blob.bin')
    row = int(engram.chunk_ids[entry.first])
    original = fs.read_file(engram, entry)
    engram.codebook, engram.store = np.array(engram.codebook), None     # read as v3 read: packed rows
    engram.codebook[row, 0, :3] ^= np.uint64(0xFFFF)                   # flip the +1 plane of 48 dimensions
    from embeddenator.fs.corrections import make_correction
    decoded = engram.codec.decode(engram.codebook[row:row + 1])[0]
    truth = np.frombuffer(original[:1250], dtype=np.uint8)
    engram.corrections[row] = make_correction(decoded, truth)
    assert engram.corrections[row].kind in ('flips', 'block')
    assert fs.read_file(engram, entry) == original


def test_integrity_failures_are_reported_and_leave_no_file(tree, tmp_path, damage_chunk):
    engram = fs.ingest(tree, workers=1)
    entry = next(e for e in engram.entries if e.path == b'a/b/blob.bin')
    damage_chunk(engram, int(engram.chunk_ids[entry.first]))
    with pytest.raises(fs.IntegrityError, match='blob.bin.*SHA-256 mismatch'):
        fs.extract(engram, tmp_path / 'out')
    assert not (tmp_path / 'out' / 'a' / 'b' / 'blob.bin').exists()


def test_corrupted_engram_file_is_a_format_error(tree, tmp_path):
    path = tmp_path / 't.engram'
    fs.ingest_to(tree, path, workers=1)
    data = bytearray(path.read_bytes())
    data[data.index(b'{"entries":') + 20] ^= 0x01                       # the manifest: checked on load
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="checksum mismatch: array 'manifest'"):
        fs.load(path)


def test_a_damaged_frame_is_found_by_verify_and_by_extract_not_by_load(tree, tmp_path):
    path = tmp_path / 't.engram'
    engram = fs.ingest_to(tree, path, workers=1)
    fs.verify(path)
    part = engram.store.parts[0]
    data = bytearray(path.read_bytes())
    start = data.index(bytes(part.frames[: int(part.frame_offsets[1])]))
    data[start + int(part.frame_offsets[1]) // 2] ^= 0x01                # inside the compressed bytes
    path.write_bytes(bytes(data))
    damaged = fs.load(path)                                              # frames are checked as they are read
    with pytest.raises(FormatError, match='checksum'):
        fs.verify(path)
    with pytest.raises(fs.IntegrityError, match='blob.bin'):
        fs.extract(damaged, tmp_path / 'out')


def test_extract_refuses_to_overwrite_unless_forced(tree, tmp_path):
    engram = fs.ingest(tree, workers=1)
    fs.extract(engram, tmp_path / 'out')
    with pytest.raises(fs.FsError, match='already exists'):
        fs.extract(engram, tmp_path / 'out')
    fs.extract(engram, tmp_path / 'out', force=True)
    _same_tree(tree, tmp_path / 'out')


def test_a_file_vanishing_mid_ingest_fails_with_its_name_in_a_worker(tree, tmp_path):
    entries = fs.scan(tree)
    os.unlink(tree / 'a' / 'b' / 'blob.bin')
    with pytest.raises(fs.FsError, match='blob.bin: cannot read'):
        fs.ingest_entries(entries, workers=1)


def _kill_a_worker(done, total):
    victims = multiprocessing.active_children()
    if victims:
        os.kill(victims[0].pid, signal.SIGKILL)


def test_killing_a_worker_fails_the_ingest_and_keeps_the_previous_engram(tmp_path, monkeypatch):
    src = tmp_path / 'src'
    src.mkdir()
    for i in range(24):
        (src / f'f{i}.bin').write_bytes(os.urandom(200_000))
    target = tmp_path / 't.engram'
    fs.ingest_to(src / 'f0.bin', target, workers=1)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    monkeypatch.setattr(ingest_module, 'BATCH_BYTES', 200_000)
    with pytest.raises(fs.FsError, match='worker process died'):
        fs.ingest_to(src, target, workers=2, progress=_kill_a_worker)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert [e.path for e in fs.load(target).entries] == [b'f0.bin']
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.partial')]


def test_unwritable_target_keeps_the_previous_engram(tree, tmp_path):
    with pytest.raises(fs.FsError, match='cannot write the engram'):
        fs.ingest_to(tree, tmp_path / 'missing-dir' / 't.engram', workers=1)


def test_an_engram_inside_its_sources_is_not_ingested_into_itself(tree):
    target = tree / 'self.engram'
    fs.ingest_to(tree, target, workers=1)
    with pytest.warns(fs.FsWarning, match=r'self\.engram: the engram being written; not stored'):
        again = fs.ingest_to(tree, target, workers=1)
    assert b'self.engram' not in {e.path for e in again.entries}


def test_the_engram_named_as_a_source_is_not_stored_and_said_so_as_tar_does(tree, tmp_path):
    """`tar -cf a.tar f a.tar` says "a.tar: file is the archive; not dumped" and leaves it out."""
    target = tmp_path / 't.engram'
    fs.ingest_to(tree, target, workers=1)
    with pytest.warns(fs.FsWarning, match=r't\.engram: the engram being written; not stored'):
        again = fs.ingest_to([tree / 'a', target], target, workers=1)
    assert {e.path.split(b'/')[0] for e in again.entries} == {b'a'}


@pytest.mark.parametrize('command', ['ingest', 'update'])
def test_the_engram_as_its_only_source_is_refused_with_nothing_changed(tree, tmp_path, command):
    from embeddenator.fs.update import update_to
    target = tmp_path / 't.engram'
    fs.ingest_to(tree, target, workers=1)
    before = target.read_bytes()
    run = (lambda: fs.ingest_to(target, target, workers=1)) if command == 'ingest' else \
        (lambda: update_to(target, target, workers=1))
    with pytest.warns(fs.FsWarning), pytest.raises(fs.FsError, match=r't\.engram is the engram being written'):
        run()
    assert target.read_bytes() == before


def test_entries_under_a_stored_symlink_are_refused(tree, tmp_path):
    engram = fs.ingest(tree, workers=1)
    hello = next(e for e in engram.entries if e.path == b'a/hello.txt')
    engram.entries.append(fs.Entry(b'link/escape.txt', 'file', 0o644, 0, size=hello.size, sha256=hello.sha256,
                                   first=hello.first, count=hello.count))
    with pytest.raises(fs.IntegrityError, match='under a stored symlink'):
        fs.extract(engram, tmp_path / 'out')
    assert not (tree / 'a' / 'escape.txt').exists()


def test_a_lossy_codec_counts_what_its_decode_gets_wrong_and_the_stored_content_stays_exact(tree, tmp_path):
    engram = fs.ingest(tree, codec=fs.ChunkCodec(chunk_size=2500), workers=1)
    summary = engram.summary()
    assert summary['corrections'] == 0 and 0 < summary['recovered_bytes'] < summary['bytes']
    fs.save(engram, tmp_path / 'lossy.engram')
    fs.extract(fs.load(tmp_path / 'lossy.engram'), tmp_path / 'out')
    _same_tree(tree, tmp_path / 'out')
