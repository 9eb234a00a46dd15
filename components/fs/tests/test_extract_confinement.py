"""Extraction never writes outside its output folder: pre-existing symlinks are never followed, for files,
folders, links, metadata and --force replacement alike; modes follow GNU tar's rule."""
import os
import stat
import subprocess
import sys

import pytest

from embeddenator import fs
from embeddenator.fs.modes import restored_mode
from embeddenator.io import FormatError

CLI = [sys.executable, '-m', 'embeddenator.cli']


def _cli(*argv, cwd):
    return subprocess.run([*CLI, *map(str, argv)], cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def trap(tmp_path):
    """The issue's scenario: A holds a symlink d -> an outside folder v; B holds a real folder d with a file x."""
    for name in ('A', 'B/d', 'v'):
        (tmp_path / name).mkdir(parents=True)
    os.symlink(tmp_path / 'v', tmp_path / 'A' / 'd')
    (tmp_path / 'B' / 'd' / 'x').write_text('pwn\n')
    os.chmod(tmp_path / 'B' / 'd', 0o777)
    os.chmod(tmp_path / 'v', 0o755)
    for name in ('A', 'B'):
        assert _cli('ingest', name, '-o', f'{name}.engram', '--workers', '1', cwd=tmp_path).returncode == 0
    assert _cli('extract', 'A.engram', '-o', 'out', cwd=tmp_path).returncode == 0
    return tmp_path


def test_extract_over_a_planted_symlink_is_refused_without_writing_outside(trap):
    result = _cli('extract', 'B.engram', '-o', 'out', cwd=trap)
    assert result.returncode == 1 and 'already exists' in result.stderr
    assert os.listdir(trap / 'v') == []
    assert stat.S_IMODE(os.stat(trap / 'v').st_mode) == 0o755
    assert os.path.islink(trap / 'out' / 'd')


def test_forced_extract_replaces_the_planted_symlink_and_never_writes_through_it(trap):
    result = _cli('extract', 'B.engram', '-o', 'out', '--force', cwd=trap)
    assert result.returncode == 0, result.stderr
    assert os.listdir(trap / 'v') == []
    assert stat.S_IMODE(os.stat(trap / 'v').st_mode) == 0o755        # the crafted 0777 stays inside
    assert not os.path.islink(trap / 'out' / 'd') and (trap / 'out' / 'd' / 'x').read_text() == 'pwn\n'
    assert stat.S_IMODE(os.lstat(trap / 'out' / 'd').st_mode) == 0o777


def test_a_planted_symlink_to_a_file_is_replaced_not_written_through(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'f').write_bytes(b'inside\n')
    outside = tmp_path / 'outside.txt'
    outside.write_bytes(b'keep me\n')
    os.chmod(outside, 0o600)
    out = tmp_path / 'out'
    out.mkdir()
    os.symlink(outside, out / 'f')
    engram = fs.ingest(src, workers=1)
    with pytest.raises(fs.FsError, match='already exists'):
        fs.extract(engram, out)
    fs.extract(engram, out, force=True)
    assert outside.read_bytes() == b'keep me\n' and stat.S_IMODE(outside.stat().st_mode) == 0o600
    assert not os.path.islink(out / 'f') and (out / 'f').read_bytes() == b'inside\n'


def test_a_planted_symlink_deep_in_the_output_is_never_followed_for_a_stored_symlink(tmp_path):
    src = tmp_path / 'src'
    (src / 'a' / 'b').mkdir(parents=True)
    os.symlink('../elsewhere', src / 'a' / 'b' / 'link')
    (tmp_path / 'v').mkdir()
    out = tmp_path / 'out'
    (out / 'a').mkdir(parents=True)
    os.symlink(tmp_path / 'v', out / 'a' / 'b')
    fs.extract(fs.ingest(src, workers=1), out, force=True)
    assert os.listdir(tmp_path / 'v') == []
    assert os.readlink(out / 'a' / 'b' / 'link') == '../elsewhere'


def test_a_planted_folder_in_the_way_of_a_file_is_replaced_only_when_forced(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'f').write_bytes(b'data')
    out = tmp_path / 'out'
    (out / 'f' / 'deep').mkdir(parents=True)
    engram = fs.ingest(src, workers=1)
    with pytest.raises(fs.FsError, match='already exists'):
        fs.extract(engram, out)
    assert (out / 'f' / 'deep').is_dir()
    fs.extract(engram, out, force=True)
    assert (out / 'f').read_bytes() == b'data'


def test_modes_as_root_are_restored_whole():
    assert restored_mode(0o6755, euid=0, umask=0o022, same_permissions=False) == 0o6755
    assert restored_mode(0o1777, euid=0, umask=0o077, same_permissions=False) == 0o1777


def test_modes_as_another_user_take_the_umask_and_lose_setuid_and_setgid():
    assert restored_mode(0o6777, euid=1000, umask=0o022, same_permissions=False) == 0o755
    assert restored_mode(0o1777, euid=1000, umask=0o027, same_permissions=False) == 0o1750
    assert restored_mode(0o6777, euid=1000, umask=0o022, same_permissions=True) == 0o6777


def test_a_mode_outside_0o7777_is_a_format_error(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'f').write_bytes(b'data')
    engram = fs.ingest(src, workers=1)
    engram.entries[0].mode = 0o107777
    fs.save(engram, tmp_path / 'bad.engram')
    with pytest.raises(FormatError, match='mode'):
        fs.load(tmp_path / 'bad.engram')


@pytest.mark.skipif(os.geteuid() != 0, reason='restoring setuid bits whole is the superuser rule')
def test_setuid_and_sticky_bits_come_back_as_root(tmp_path):
    src = tmp_path / 'src'
    (src / 'shared').mkdir(parents=True)
    (src / 'tool').write_bytes(b'#!/bin/sh\n')
    os.chmod(src / 'tool', 0o4755)
    os.chmod(src / 'shared', 0o1777)
    fs.extract(fs.ingest(src, workers=1), tmp_path / 'out')
    assert stat.S_IMODE(os.stat(tmp_path / 'out' / 'tool').st_mode) == 0o4755
    assert stat.S_IMODE(os.stat(tmp_path / 'out' / 'shared').st_mode) == 0o1777


def _extract_as_nobody(engram_path, out, same_permissions):
    """Extract in a forked child that became uid/gid 65534 with umask 022; (name -> (mode, uid)) back."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child: never returns into pytest
        code = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.umask(0o022)
            fs.extract(fs.load(engram_path), out, same_permissions=same_permissions)
            lines = [f'{n} {stat.S_IMODE(os.lstat(os.path.join(out, n)).st_mode):o} '
                     f'{os.lstat(os.path.join(out, n)).st_uid}' for n in ('tool', 'shared')]
            os.write(write, '\n'.join(lines).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as fh:
        text = fh.read()
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    return {line.split()[0]: tuple(line.split()[1:]) for line in text.splitlines()}


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to become another user')
def test_another_user_gets_the_umask_no_setuid_and_owns_what_it_extracts(tmp_path):
    import shutil
    import tempfile
    src = tmp_path / 'src'
    (src / 'shared').mkdir(parents=True)
    (src / 'tool').write_bytes(b'#!/bin/sh\n')
    os.chown(src / 'tool', 1234, 1234)                           # before chmod: chown clears setuid
    os.chmod(src / 'tool', 0o6777)
    os.chmod(src / 'shared', 0o1777)
    public = tempfile.mkdtemp(prefix='embeddenator-user-')        # tmp_path's parents are closed to others
    try:
        os.chmod(public, 0o777)
        engram = os.path.join(public, 't.engram')
        fs.ingest_to(src, engram, workers=1)
        plain = _extract_as_nobody(engram, os.path.join(public, 'out'), False)
        kept = _extract_as_nobody(engram, os.path.join(public, 'out-p'), True)
    finally:
        shutil.rmtree(public)
    assert plain == {'tool': ('755', '65534'), 'shared': ('1755', '65534')}
    assert kept == {'tool': ('6777', '65534'), 'shared': ('1777', '65534')}
