"""`embeddenator mount`, for real: a subprocess mounts through FUSE, the tests read the mount and unmount it.

Where /dev/fuse exists a mount that does not work FAILS these tests (a missing fuse3 package or binding too);
they skip only on machines without /dev/fuse.
"""
import contextlib
import errno
import filecmp
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from embeddenator import fs
from embeddenator.cli.__main__ import USER_ERROR, main

BIG = 4096 * 1250 * 2          # a multiple of the page and of the chunk: the last 4 KB is exactly 4 chunks
needs_fuse = pytest.mark.skipif(not os.path.exists('/dev/fuse'), reason='no /dev/fuse on this machine')


@pytest.fixture(scope='module')
def stored(tmp_path_factory):
    root = tmp_path_factory.mktemp('mount')
    src = root / 'src'
    (src / 'docs' / 'deep').mkdir(parents=True)
    (src / 'empty-dir').mkdir()
    (src / 'big.bin').write_bytes(np.random.default_rng(7).integers(0, 256, BIG, dtype=np.uint8).tobytes())
    for i in range(20):
        (src / 'docs' / f'f{i}.txt').write_bytes(f'line {i}\n'.encode() * (i * 97))
    (src / 'docs' / 'deep' / 'x.py').write_bytes(b'print(1)\n')
    with open(os.path.join(os.fsencode(src), b'latin-\xe9.bin'), 'wb') as fh:
        fh.write(b'not utf-8 name')
    with open(src / 'sparse', 'wb') as fh:
        fh.write(b'head')
        fh.seek(2 << 20)
        fh.write(b'tail')
    os.link(src / 'docs' / 'f3.txt', src / 'hard')
    os.symlink('docs/f1.txt', src / 'link')
    os.mkfifo(src / 'fifo')
    os.chmod(src / 'docs' / 'f2.txt', 0o600)
    if os.geteuid() == 0:
        os.chown(src / 'docs' / 'f4.txt', 1234, 5678)
        os.mknod(src / 'null', 0o620 | stat.S_IFCHR, os.makedev(1, 3))
    engram = root / 't.engram'
    fs.ingest_to([src], engram, workers=1)
    return src, engram


class Mount:
    """`embeddenator mount ENGRAM MOUNTPOINT --json` in a subprocess, waited for until the kernel has it."""

    def __init__(self, engram, where):
        self.where = str(where)
        self.proc = subprocess.Popen([sys.executable, '-m', 'embeddenator.cli', 'mount', str(engram), self.where,
                                      '--json'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not os.path.ismount(self.where):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                out, err = self.proc.communicate()
                pytest.fail(f'the mount did not come up (exit {self.proc.returncode}): {err.decode()}')
            time.sleep(0.05)

    def end(self, how='unmount'):
        """Stop it (fusermount3 -u, or a signal); (exit code, JSON result or None, stderr)."""
        if how == 'unmount':
            subprocess.run(['fusermount3', '-u', self.where], check=True)
        else:
            self.proc.send_signal(how)
        out, err = self.proc.communicate(timeout=60)
        assert not os.path.ismount(self.where)
        return self.proc.returncode, json.loads(out) if out.strip() else None, err.decode()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            subprocess.run(['fusermount3', '-u', '-z', self.where], check=False)
            self.proc.wait(timeout=60)


def fresh(tmp_path, name='mnt'):
    where = tmp_path / name
    where.mkdir()
    return where


def walk(root):
    """Every path under `root` (bytes, relative), as os.walk sees it without following symlinks."""
    root = os.fsencode(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            yield os.path.relpath(os.path.join(folder, name), root)


@needs_fuse
def test_the_mount_is_the_source_tree(stored, tmp_path):
    src, engram = stored
    with Mount(engram, fresh(tmp_path)) as mounted:
        where = mounted.where
        with open('/proc/mounts', encoding='utf-8') as table:          # the engram names the file system
            assert f'{engram} {where} fuse.embeddenator ro,' in table.read()
        assert subprocess.run(['diff', '-r', str(src / 'docs'), os.path.join(where, 'docs')]).returncode == 0
        assert sorted(walk(src)) == sorted(walk(where))
        for rel in walk(src):
            source, served = os.path.join(os.fsencode(src), rel), os.path.join(os.fsencode(where), rel)
            want, got = os.lstat(source), os.lstat(served)
            for field in ('st_mode', 'st_uid', 'st_gid', 'st_nlink', 'st_mtime_ns', 'st_rdev'):
                assert getattr(got, field) == getattr(want, field), (rel, field)
            if stat.S_ISREG(want.st_mode):
                assert got.st_size == want.st_size and filecmp.cmp(source, served, shallow=False), rel
        assert os.readlink(os.path.join(where, 'link')) == 'docs/f1.txt'
        assert os.stat(os.path.join(where, 'hard')).st_ino == os.stat(os.path.join(where, 'docs', 'f3.txt')).st_ino
        data, rng = (src / 'big.bin').read_bytes(), random.Random(3)
        fd = os.open(os.path.join(where, 'big.bin'), os.O_RDONLY)
        try:
            for _ in range(200):
                offset, size = rng.randrange(BIG + 100), rng.choice([1, 1000, 4096, 70000])
                assert os.pread(fd, size, offset) == data[offset: offset + size]
        finally:
            os.close(fd)
        for attempt in (lambda: open(os.path.join(where, 'big.bin'), 'r+b'),
                        lambda: open(os.path.join(where, 'new'), 'wb'),
                        lambda: os.mkdir(os.path.join(where, 'd')),
                        lambda: os.unlink(os.path.join(where, 'link'))):
            with pytest.raises(OSError) as info:
                attempt()
            assert info.value.errno == errno.EROFS
        code, result, err = mounted.end()
    assert code == 0 and result['reads'] > 0 and result['signal'] is None and 'Traceback' not in err


@needs_fuse
def test_reading_the_last_4_kb_of_a_large_file_decodes_only_those_chunks(stored, tmp_path):
    _, engram = stored
    with Mount(engram, fresh(tmp_path)) as mounted:
        with open(os.path.join(mounted.where, 'big.bin'), 'rb', buffering=0) as fh:
            fh.seek(BIG - 4096)
            assert len(fh.read(4096)) == 4096
        code, result, _ = mounted.end()
    assert code == 0 and result['chunks_decoded'] == 4          # of 8,192: 4096 bytes over 1250-byte chunks


@needs_fuse
def test_ctrl_c_unmounts_and_exits_130_even_with_a_file_open(stored, tmp_path):
    _, engram = stored
    with Mount(engram, fresh(tmp_path)) as mounted:
        held = os.open(os.path.join(mounted.where, 'big.bin'), os.O_RDONLY)
        try:
            code, result, err = mounted.end(signal.SIGINT)
        finally:
            with contextlib.suppress(OSError):      # ENOTCONN: the file system is gone, as with libfuse's Ctrl-C
                os.close(held)
    assert code == 130 and result is None and 'Traceback' not in err and 'interrupted' in err


@needs_fuse
def test_a_busy_mountpoint_is_one_line_and_exit_1(stored, tmp_path):
    _, engram = stored
    with Mount(engram, fresh(tmp_path)) as mounted:
        again = subprocess.run([sys.executable, '-m', 'embeddenator.cli', 'mount', str(engram), mounted.where],
                               capture_output=True, text=True, timeout=60)
        assert again.returncode == USER_ERROR
        assert again.stderr.strip().count('\n') == 0 and 'already a mount point' in again.stderr
        assert mounted.end()[0] == 0


@needs_fuse
def test_background_returns_once_mounted(stored, tmp_path):
    _, engram = stored
    where = fresh(tmp_path)
    done = subprocess.run([sys.executable, '-m', 'embeddenator.cli', 'mount', str(engram), str(where),
                           '--background', '--json'], capture_output=True, text=True, timeout=120)
    try:
        assert done.returncode == 0 and os.path.ismount(where), done.stderr
        assert (where / 'docs' / 'deep' / 'x.py').read_bytes() == b'print(1)\n'
    finally:
        subprocess.run(['fusermount3', '-u', str(where)], check=False)
    assert json.loads(done.stdout)['background'] is True
    assert not os.path.ismount(where)


@pytest.mark.parametrize('case, words', [('missing', 'no such mountpoint'), ('file', 'not a folder'),
                                         ('full', 'not empty'), ('engram', 'no such engram')])
def test_bad_input_is_one_line_and_exit_1(stored, tmp_path, capsys, case, words):
    _, engram = stored
    where = tmp_path / 'mnt'
    if case == 'file':
        where.write_bytes(b'')
    elif case in ('full', 'engram'):
        where.mkdir()
        if case == 'full':
            (where / 'x').write_bytes(b'')
    code = main(['mount', str(tmp_path / 'nope.engram' if case == 'engram' else engram), str(where)])
    err = capsys.readouterr().err
    assert code == USER_ERROR and words in err and err.strip().count('\n') == 0


def test_a_corrupt_engram_is_a_data_error(stored, tmp_path, capsys):
    _, engram = stored
    damaged = tmp_path / 'bad.engram'
    data = bytearray(engram.read_bytes())
    data[data.index(b'{"entries":') + 20] ^= 0x01           # the manifest: checked on load (rows: as decoded)
    damaged.write_bytes(bytes(data))
    (tmp_path / 'mnt').mkdir()
    assert main(['mount', str(damaged), str(tmp_path / 'mnt')]) == 2
    assert not os.path.ismount(tmp_path / 'mnt') and capsys.readouterr().err.count('\n') == 1
