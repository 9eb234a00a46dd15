"""Error recovery: index corruption, a failing ingest worker, and the scalar SIMD fallback."""
import hashlib
import json
import multiprocessing
import os
import signal
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from embeddenator import fs, io, vsa
from embeddenator.retrieval import Index


def test_corrupted_index_postings_are_detected_and_rebuilt(tmp_path):
    vectors = [vsa.random(seed=s) for s in range(100)]
    Index.from_vectors(vectors).save(tmp_path / 'idx')
    postings = tmp_path / 'idx' / 'postings.edn'
    data = bytearray(postings.read_bytes())
    data[len(data) // 2] ^= 0xFF
    postings.write_bytes(bytes(data))
    with pytest.raises(io.FormatError, match='postings'):
        Index.load(tmp_path / 'idx')
    rebuilt = Index.rebuild(tmp_path / 'idx')
    ids, _ = rebuilt.query(vectors[42], k=1)
    assert ids[0] == 42 and len(Index.load(tmp_path / 'idx')) == 100


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_damaged_manifest_is_a_data_error_everywhere(tree, tmp_path):
    path = tmp_path / 'e.engram'
    fs.ingest_to(tree, path, workers=1)
    _flip(path, path.read_bytes().index(b'"textwrap.py"') + 3)
    with pytest.raises(io.FormatError, match='checksum'):
        fs.load(path)
    for argv in (['info', path], ['extract', path, '-o', tmp_path / 'out'], ['export', path, '-o', tmp_path / 'v.npz'],
                 ['update', path, tree]):
        code, _, err = run_cli(*argv)
        assert code == 2 and 'checksum' in err and 'Traceback' not in err, (argv[0], code, err)
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'v.npz').exists()


def test_a_damaged_frame_is_caught_when_read_and_by_info_verify(tree, tmp_path):
    """Stored chunks are checked as they are read (loading does not hash them): extraction fails whole at the
    first file whose frame is damaged, with nothing left behind, and `info --verify` checks every byte like
    `zstd -t`."""
    path = tmp_path / 'e.engram'
    engram = fs.ingest_to(tree, path, workers=1)
    entry = next(e for e in engram.files if e.path == b'textwrap.py')
    part = engram.store.parts[0]
    frame = int(part.row_frames[engram.chunk_ids[entry.first]])
    lo, hi = int(part.frame_offsets[frame]), int(part.frame_offsets[frame + 1])
    data = bytearray(path.read_bytes())
    start = data.index(bytes(part.frames[lo:hi]))
    data[start + (hi - lo) // 2] ^= 0x10
    del engram, part
    path.write_bytes(bytes(data))
    assert run_cli('info', path)[0] == 0
    code, _, err = run_cli('info', '--verify', path)
    assert code == 2 and 'checksum' in err and 'Traceback' not in err
    code, _, err = run_cli('extract', path, '-o', tmp_path / 'out')
    assert code == 2 and 'the engram is damaged' in err and 'Traceback' not in err
    assert not (tmp_path / 'out').exists()


def test_info_verify_passes_an_intact_engram_after_an_update(tree, tmp_path):
    path = tmp_path / 'e.engram'
    fs.ingest_to(tree, path, workers=1)
    (tree / 'new.txt').write_text('fresh content\n' * 300)
    try:
        assert run_cli('update', path, tree)[0] == 0
    finally:
        (tree / 'new.txt').unlink()
    code, out, err = run_cli('info', '--verify', path)
    assert code == 0 and 'verified: 2 segments' in out, (out, err)


def _kill_first_worker(done, total):
    children = multiprocessing.active_children()
    if children:
        os.kill(children[0].pid, signal.SIGKILL)


def test_a_killed_ingest_worker_leaves_the_previous_engram_readable(tree, tmp_path, monkeypatch):
    import importlib
    ingest_module = importlib.import_module('embeddenator.fs.ingest')
    big = tmp_path / 'big'
    big.mkdir()
    for i in range(16):
        (big / f'{i}.bin').write_bytes(os.urandom(150_000))
    target = tmp_path / 'e.engram'
    fs.ingest_to(tree, target, workers=1)
    before = hashlib.sha256(target.read_bytes()).digest()
    monkeypatch.setattr(ingest_module, 'BATCH_BYTES', 150_000)
    with pytest.raises(fs.FsError, match='worker process died'):
        fs.ingest_to(big, target, workers=2, progress=_kill_first_worker)
    assert hashlib.sha256(target.read_bytes()).digest() == before
    fs.extract(fs.load(target), tmp_path / 'out')
    assert (tmp_path / 'out' / 'textwrap.py').read_bytes() == (tree / 'textwrap.py').read_bytes()
    assert multiprocessing.active_children() == []


def test_a_worker_that_fails_names_the_file(tree, tmp_path):
    victim = tmp_path / 'src'
    victim.mkdir()
    for i in range(8):
        (victim / f'{i}.bin').write_bytes(os.urandom(400_000))
    entries = fs.scan(victim)
    os.unlink(victim / '5.bin')
    with pytest.raises(fs.FsError, match='5.bin: cannot read'):
        fs.ingest_entries(entries, workers=2)


_SIMD_RUN = '''
import json, sys
from embeddenator import fs, vsa
engram = fs.ingest_to(sys.argv[1], sys.argv[2], workers=2)
hits = fs.query(fs.load(sys.argv[2]), sys.argv[3], k=5)
print(json.dumps({"path": vsa.simd_path(), "files": [h.to_json() for h in hits["files"]],
                  "chunks": [h.to_json() for h in hits["chunks"]]}))
'''


def test_scalar_fallback_gives_byte_identical_engrams_and_answers(tree, tmp_path):
    import subprocess
    results = {}
    for simd in ('scalar', None):
        env = {k: v for k, v in os.environ.items() if k != 'EMBEDDENATOR_SIMD'}
        if simd:
            env['EMBEDDENATOR_SIMD'] = simd
        target = tmp_path / f'{simd or "default"}.engram'
        argv = [sys.executable, '-c', _SIMD_RUN, str(tree), str(target), str(tree / 'json' / 'scanner.py')]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        results[simd] = (json.loads(out.stdout), target.read_bytes())
    (scalar, scalar_bytes), (default, default_bytes) = results['scalar'], results[None]
    assert scalar['path'] == 'scalar' and default['path'] == vsa.simd_path()
    assert scalar_bytes == default_bytes
    assert (scalar['files'], scalar['chunks']) == (default['files'], default['chunks'])
