"""Every regular file, directory and symlink comes back with its source's mode and nanosecond mtime (lstat).

The source tree gets a distinct permission set and a distinct mtime, with a nanosecond part, on every entry, so
a time set on the wrong entry, through a symlink, rounded to microseconds or changed afterwards by writing into
a directory shows as a mismatch on that path.
"""
import os
import stat

import pytest

from embeddenator import fs

FILE_MODES = (0o600, 0o644, 0o755, 0o640, 0o700)
DIR_MODES = (0o755, 0o750, 0o700, 0o711)
BASE_NS = 1_600_000_000_123_456_789


def _walk(root):
    """Workspace-relative path -> lstat of every entry under `root` (the root itself excluded)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            out[os.path.relpath(path, root)] = os.lstat(path)
    return out


@pytest.fixture
def source(tmp_path):
    """A tree with nested folders, files and symlinks (to a file, to a folder, dangling), each with its own
    mode and mtime; times are set last and deepest first, as writing into a folder changes its mtime."""
    src = tmp_path / 'src'
    (src / 'a' / 'b' / 'c').mkdir(parents=True)
    (src / 'empty').mkdir()
    files = ['top.txt', 'a/one.txt', 'a/b/two.bin', 'a/b/c/three.txt', 'a/b/c/empty.txt']
    for i, name in enumerate(files):
        (src / name).write_bytes(os.urandom(300 * i))
        os.chmod(src / name, FILE_MODES[i % len(FILE_MODES)])
    os.symlink('one.txt', src / 'a' / 'to-file')
    os.symlink('b/c', src / 'a' / 'to-dir')
    os.symlink('missing', src / 'dangling')
    entries = sorted(_walk(src), key=lambda p: (-p.count(os.sep), p))
    for i, rel in enumerate(entries):
        path = src / rel
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, DIR_MODES[i % len(DIR_MODES)])
        t = BASE_NS + i * 1_000_000_007
        os.utime(path, ns=(t, t), follow_symlinks=False)
    return src


def _assert_same_metadata(src, out):
    want, got = _walk(src), _walk(out)
    assert sorted(got) == sorted(want)
    kinds = {stat.S_IFMT(st.st_mode) for st in want.values()}
    assert kinds == {stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK}
    for rel, st in want.items():
        assert (oct(got[rel].st_mode), got[rel].st_mtime_ns) == (oct(st.st_mode), st.st_mtime_ns), rel


def test_extract_restores_mode_and_mtime_of_every_entry(source, tmp_path):
    fs.extract(fs.ingest(source, workers=1), tmp_path / 'out')
    _assert_same_metadata(source, tmp_path / 'out')


def test_metadata_survives_the_engram_file(source, tmp_path):
    fs.ingest_to(source, tmp_path / 't.engram', workers=1)
    fs.extract(fs.load(tmp_path / 't.engram'), tmp_path / 'out', threads=1)
    _assert_same_metadata(source, tmp_path / 'out')
