"""Whole trees, like tar: hard links, sparse files, owners, the root folder's metadata, fifos and devices come
back; sockets are skipped with a warning; the engram file itself gets the mode the umask gives."""
import hashlib
import json
import os
import socket
import stat

import numpy as np
import pytest

from embeddenator import fs
from embeddenator.cli.__main__ import main
from embeddenator.io import FormatError

as_root = pytest.mark.skipif(os.geteuid() != 0, reason='restoring owners and devices is the superuser rule')


def _sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _round_trip(src, tmp_path, **options):
    fs.ingest_to(src, tmp_path / 't.engram', workers=1)
    out = tmp_path / 'out'
    fs.extract(fs.load(tmp_path / 't.engram'), out, **options)
    return out


def test_hard_links_come_back_as_hard_links(tmp_path):
    src = tmp_path / 'src'
    (src / 'x').mkdir(parents=True)
    (src / 'a').write_bytes(os.urandom(5000))
    os.link(src / 'a', src / 'x' / 'b')
    os.link(src / 'a', src / 'z')
    out = _round_trip(src, tmp_path)
    inodes = {os.stat(out / n).st_ino for n in ('a', 'x/b', 'z')}
    assert len(inodes) == 1 and os.stat(out / 'a').st_nlink == 3
    assert (out / 'z').read_bytes() == (src / 'a').read_bytes()
    assert fs.load(tmp_path / 't.engram').summary()['hardlinks'] == 2


def _sparse(path, size, data_at):
    with open(path, 'wb') as fh:
        fh.truncate(size)
        for offset in data_at:
            fh.seek(offset)
            fh.write(os.urandom(4096))


def test_sparse_files_stay_sparse_and_store_no_chunks_for_holes(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    _sparse(src / 'holes.img', 200 << 20, [100 << 20])
    _sparse(src / 'tail.img', 50 << 20, [0])
    _sparse(src / 'empty.img', 30 << 20, [])
    if os.stat(src / 'holes.img').st_blocks * 512 > 1 << 20:
        pytest.skip('this filesystem does not keep holes')
    out = _round_trip(src, tmp_path)
    engram = fs.load(tmp_path / 't.engram')
    assert engram.summary()['chunks'] <= 2 * (-(-4096 // engram.codec.chunk_size))
    for name in ('holes.img', 'tail.img', 'empty.img'):
        st = os.stat(out / name)
        assert st.st_size == os.stat(src / name).st_size and st.st_blocks * 512 <= 64 << 10
        assert _sha(out / name) == _sha(src / name)


def test_sparse_and_dense_files_mix_in_one_pooled_ingest(tmp_path, monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module('embeddenator.fs.ingest'), 'BATCH_BYTES', 64 * 1250)
    src = tmp_path / 'src'
    src.mkdir()
    _sparse(src / 'holes.img', 8 << 20, [1 << 20, 3 << 20, (8 << 20) - 4096])
    (src / 'dense.bin').write_bytes(os.urandom(3_000_000))
    engram = fs.ingest(src, workers=2)
    fs.extract(engram, tmp_path / 'out')
    for name in ('holes.img', 'dense.bin'):
        assert _sha(tmp_path / 'out' / name) == _sha(src / name)
    assert fs.read_file(engram, next(e for e in engram.files if e.path == b'holes.img')) == \
        (src / 'holes.img').read_bytes()


@as_root
def test_owners_come_back_as_root_unless_told_not_to(tmp_path):
    src = tmp_path / 'src'
    (src / 'd').mkdir(parents=True)
    (src / 'd' / 'f').write_bytes(b'owned')
    os.symlink('f', src / 'd' / 'l')
    os.chown(src / 'd' / 'f', 1234, 5678)
    os.chown(src / 'd', 42, 43)
    os.lchown(src / 'd' / 'l', 7, 8)
    os.chmod(src / 'd' / 'f', 0o6750)
    out = _round_trip(src, tmp_path)
    assert (os.stat(out / 'd' / 'f').st_uid, os.stat(out / 'd' / 'f').st_gid) == (1234, 5678)
    assert stat.S_IMODE(os.stat(out / 'd' / 'f').st_mode) == 0o6750          # chown did not eat setuid
    assert (os.stat(out / 'd').st_uid, os.stat(out / 'd').st_gid) == (42, 43)
    assert (os.lstat(out / 'd' / 'l').st_uid, os.lstat(out / 'd' / 'l').st_gid) == (7, 8)
    mine = tmp_path / 'mine'
    fs.extract(fs.load(tmp_path / 't.engram'), mine, same_owner=False)
    assert os.stat(mine / 'd' / 'f').st_uid == os.geteuid()


def test_the_output_roots_mode_and_mtime_are_the_sources(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'f').write_bytes(b'x')
    os.chmod(src, 0o751)
    os.utime(src, ns=(1_500_000_000_123_456_789, 1_500_000_000_123_456_789))
    out = _round_trip(src, tmp_path)
    assert os.stat(out).st_mtime_ns == 1_500_000_000_123_456_789
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o751


@as_root
def test_fifos_and_devices_are_stored_and_recreated(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    os.mkfifo(src / 'pipe', 0o640)
    os.mknod(src / 'null', 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    out = _round_trip(src, tmp_path)
    assert stat.S_ISFIFO(os.lstat(out / 'pipe').st_mode) and stat.S_IMODE(os.lstat(out / 'pipe').st_mode) == 0o640
    dev = os.lstat(out / 'null')
    assert stat.S_ISCHR(dev.st_mode) and (os.major(dev.st_rdev), os.minor(dev.st_rdev)) == (1, 3)


@pytest.fixture
def with_socket(tmp_path):
    """A source folder holding a file and a bound Unix socket."""
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'f').write_bytes(b'x')
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / 'sock'))
    yield src
    sock.close()


def test_sockets_are_skipped_with_a_warning_naming_the_path(with_socket):
    with pytest.warns(fs.FsWarning, match='sock: a socket'):
        entries = fs.scan(with_socket)
    assert b'sock' not in {e.path for e in entries}


def test_skip_special_leaves_out_fifos(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    os.mkfifo(src / 'pipe')
    (src / 'f').write_bytes(b'x')
    assert [e.path for e in fs.scan(src, skip_special=True) if e.path] == [b'f']
    assert b'pipe' in {e.path for e in fs.scan(src)}


def test_cli_switches_for_owners_and_special_files(tmp_path, capsys):
    src = tmp_path / 'src'
    src.mkdir()
    os.mkfifo(src / 'pipe')
    (src / 'f').write_bytes(b'x')
    os.chown(src / 'f', 1234, 1234) if os.geteuid() == 0 else None
    assert main(['ingest', str(src), '-o', str(tmp_path / 't.engram'), '--skip-special', '--workers', '1']) == 0
    assert main(['extract', str(tmp_path / 't.engram'), '-o', str(tmp_path / 'out'), '--no-same-owner']) == 0
    assert os.listdir(tmp_path / 'out') == ['f'] and os.stat(tmp_path / 'out' / 'f').st_uid == os.geteuid()


def test_engram_files_get_the_mode_the_umask_gives(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'f').write_bytes(b'x')
    old = os.umask(0o027)
    try:
        fs.ingest_to(src, tmp_path / 't.engram', workers=1)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / 't.engram').st_mode) == 0o640


def test_version_one_manifest_entries_still_load():
    item = {'path': 'a.txt', 'kind': 'file', 'mode': 0o644, 'mtime_ns': 5, 'size': 3, 'sha256': 'ab', 'first': 0,
            'count': 1}
    entry = fs.Entry.from_json(item)
    assert entry.uid is None and entry.extents is None


def test_an_engram_from_a_newer_format_is_refused_with_a_clear_error(tmp_path):
    from embeddenator.fs.engram import to_arrays
    from embeddenator.fs.journal import checks
    from embeddenator.io import write_arrays
    engram = fs.ingest(_one_file(tmp_path), workers=1)
    arrays, meta, _ = to_arrays(engram)
    write_arrays(tmp_path / 'new.engram', arrays, schema='embeddenator-fs/engram/v9', extra=meta)
    with pytest.raises(FormatError, match='newer embeddenator-fs'):
        fs.load(tmp_path / 'new.engram')
    manifest = json.loads(bytes(arrays['manifest']))
    manifest['entries'][0]['kind'] = 'socket'
    arrays['manifest'] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    meta['checks'] = checks(arrays)                     # a crafted engram whose checksums match
    write_arrays(tmp_path / 'odd.engram', arrays, schema=fs.SCHEMA, extra=meta)
    with pytest.raises(FormatError, match="kind 'socket'"):
        fs.load(tmp_path / 'odd.engram')


def _one_file(tmp_path):
    src = tmp_path / 'one'
    src.mkdir()
    (src / 'f').write_bytes(b'x')
    return src


def test_the_cli_names_a_skipped_socket_on_stderr_and_in_json(with_socket, tmp_path, capsys):
    code = main(['ingest', str(with_socket), '-o', str(tmp_path / 't.engram'), '--workers', '1', '--json'])
    out, err = capsys.readouterr()
    assert code == 0 and 'warning:' in err and 'sock: a socket, skipped' in err
    assert any('sock: a socket' in w for w in json.loads(out)['warnings'])


def test_a_version_one_engram_file_still_loads_and_extracts(tmp_path, legacy_arrays):
    from embeddenator.io import write_arrays
    src = _one_file(tmp_path)
    arrays, meta = legacy_arrays(fs.ingest(src, workers=1))
    manifest = json.loads(bytes(arrays['manifest']))
    manifest.pop('root')
    for item in manifest['entries']:
        item.pop('uid'), item.pop('gid')
    arrays['manifest'] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    write_arrays(tmp_path / 'v1.engram', arrays, schema='embeddenator-fs/engram/v1', extra=meta)
    fs.extract(fs.load(tmp_path / 'v1.engram'), tmp_path / 'out')
    assert (tmp_path / 'out' / 'f').read_bytes() == b'x'


@pytest.mark.parametrize('damage', ['row_frames', 'frame_offsets', 'row_lengths'])
def test_a_crafted_row_table_that_points_outside_the_frames_is_a_format_error(tmp_path, damage):
    from embeddenator.fs.engram import to_arrays
    from embeddenator.fs.journal import checks
    from embeddenator.io import write_arrays
    arrays, meta, _ = to_arrays(fs.ingest(_one_file(tmp_path), workers=1))
    arrays[damage] = (np.array(arrays[damage]) + 7) if damage != 'row_lengths' else np.zeros_like(arrays[damage])
    meta['checks'] = checks(arrays)                     # its checksums match: only the row table is wrong
    write_arrays(tmp_path / 'odd.engram', arrays, schema=fs.SCHEMA, extra=meta)
    with pytest.raises(FormatError, match='not a valid engram'):
        fs.load(tmp_path / 'odd.engram')
