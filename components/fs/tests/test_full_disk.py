"""A write that fails for want of room (a full disk, a file size limit) is one line naming the file and what to do,
exit 1, and leaves nothing half-written: the engram as it was, no partial, no staging folder, no output.

The commands run as processes under RLIMIT_FSIZE (writes past the limit fail with EFBIG, as a full disk fails them
with ENOSPC, at whatever write reaches it first), so every write path is exercised, buffered ones included.
"""
import hashlib
import os
import resource
import signal
import subprocess
import sys

import pytest

from embeddenator import fs

LIMIT = 200_000         # bytes any one file may reach: well under the 1 MB of random data the commands must store


def _cli(*args, cwd, limit=LIMIT):
    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # the write then fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([sys.executable, '-m', 'embeddenator.cli', *map(str, args)], cwd=cwd, text=True,
                          capture_output=True, preexec_fn=limited, timeout=120)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def work(tmp_path):
    (tmp_path / 'small').mkdir()
    (tmp_path / 'small' / 'a.txt').write_bytes(b'hello\n')
    (tmp_path / 'big').mkdir()
    (tmp_path / 'big' / 'r.bin').write_bytes(os.urandom(1_000_000))
    fs.ingest_to(tmp_path / 'small', tmp_path / 's.engram', workers=1)
    return tmp_path


def _one_clear_line(result, name):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in result.stderr, result.stderr
    assert name in lines[0] and 'File too large' in lines[0], lines[0]


def _only(folder, names):
    assert sorted(os.listdir(folder)) == sorted(names)      # no .partial, no staging folder, no stray output


def test_ingest_into_a_full_disk_names_the_engram_and_writes_nothing(work):
    result = _cli('ingest', 'big', '-o', 'b.engram', '--workers', '1', cwd=work)
    _one_clear_line(result, 'b.engram')
    _only(work, ['small', 'big', 's.engram'])


@pytest.mark.parametrize('command', ['update', 'add'])
def test_update_or_add_on_a_full_disk_names_the_engram_and_leaves_it_as_it_was(work, command):
    (work / 'small' / 'r.bin').write_bytes((work / 'big' / 'r.bin').read_bytes())
    before = _digest(work / 's.engram')
    args = ('update', 's.engram', 'small') if command == 'update' else ('add', 's.engram', 'big/r.bin')
    result = _cli(*args, '--workers', '1', cwd=work)
    _one_clear_line(result, 's.engram')
    assert _digest(work / 's.engram') == before
    assert [e.path for e in fs.load(work / 's.engram').files] == [b'a.txt']
    _only(work, ['small', 'big', 's.engram'])


def test_extract_onto_a_full_disk_names_the_output_and_leaves_no_output(work):
    fs.ingest_to(work / 'big', work / 'b.engram', workers=1)
    result = _cli('extract', 'b.engram', '-o', 'out', cwd=work)
    _one_clear_line(result, 'out')
    _only(work, ['small', 'big', 's.engram', 'b.engram'])


def test_compact_on_a_full_disk_leaves_the_engram_as_it_was(work):
    from embeddenator.fs.update import add_paths
    add_paths(work / 's.engram', [work / 'big' / 'r.bin'], workers=1)   # over the limit once compacted: 1 MB live
    before = _digest(work / 's.engram')
    result = _cli('compact', 's.engram', cwd=work)
    _one_clear_line(result, 's.engram')
    assert _digest(work / 's.engram') == before
    _only(work, ['small', 'big', 's.engram'])


def test_an_update_refused_while_appending_is_cut_back_to_the_old_engram(work):
    """The frames fit (300 KB) but the engram cannot grow past the limit: the append fails part way."""
    fs.ingest_to(work / 'big', work / 'b.engram', workers=1)
    (work / 'big' / 'more.bin').write_bytes(os.urandom(300_000))
    before, size = _digest(work / 'b.engram'), (work / 'b.engram').stat().st_size
    result = _cli('update', 'b.engram', 'big', '--workers', '1', cwd=work, limit=size + 150_000)
    _one_clear_line(result, 'b.engram')
    assert _digest(work / 'b.engram') == before
    assert [e.path for e in fs.load(work / 'b.engram').files] == [b'r.bin']
