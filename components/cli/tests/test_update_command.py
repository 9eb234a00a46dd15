"""`embeddenator update`: behaviour and bad input (missing engram, read-only engram)."""
import json
import os
import stat

import pytest

from embeddenator.cli.__main__ import OK, USER_ERROR, main


@pytest.fixture
def src(tmp_path):
    root = tmp_path / 'src'
    root.mkdir()
    (root / 'a.txt').write_bytes(b'alpha ' * 300)
    (root / 'b.bin').write_bytes(os.urandom(4000))
    return root


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_update_encodes_only_the_changed_file(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    assert run(capsys, 'ingest', src, '-o', engram, '--workers', '1')[0] == OK
    (src / 'b.bin').write_bytes(os.urandom(4100))
    code, out, _ = run(capsys, 'update', engram, src, '--json', '--workers', '1')
    result = json.loads(out)
    assert code == OK and (result['encoded_files'], result['reused_files'], result['removed_files']) == (1, 1, 0)
    assert run(capsys, 'extract', engram, '-o', tmp_path / 'out')[0] == OK
    assert (tmp_path / 'out' / 'b.bin').read_bytes() == (src / 'b.bin').read_bytes()


def test_update_of_a_missing_engram_is_one_line_exit_1(src, tmp_path, capsys):
    code, out, err = run(capsys, 'update', tmp_path / 'nope.engram', src)
    assert code == USER_ERROR and 'no such engram' in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / 'nope.engram').exists()


def test_update_of_a_read_only_engram_changes_nothing(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    assert run(capsys, 'ingest', src, '-o', engram, '--workers', '1')[0] == OK
    before = engram.read_bytes()
    engram.chmod(0o444)
    (src / 'a.txt').write_bytes(b'changed')
    code, _, err = run(capsys, 'update', engram, src)
    assert code == USER_ERROR and 'read-only' in err and len(err.strip().splitlines()) == 1
    assert engram.read_bytes() == before and stat.S_IMODE(engram.stat().st_mode) == 0o444


def test_rm_removes_a_path_and_refuses_unknown_or_read_only(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    assert run(capsys, 'ingest', src, '-o', engram, '--workers', '1')[0] == OK
    before = engram.read_bytes()
    code, _, err = run(capsys, 'rm', engram, 'not/there.txt')
    assert code == USER_ERROR and 'not in the engram' in err and engram.read_bytes() == before
    for outside in ('/etc/passwd', '../a.txt', 'd/../../a.txt'):
        code, _, err = run(capsys, 'rm', engram, outside)
        assert code == USER_ERROR and 'outside the stored tree' in err and len(err.strip().splitlines()) == 1
    assert engram.read_bytes() == before
    engram.chmod(0o444)
    code, _, err = run(capsys, 'rm', engram, 'a.txt')
    assert code == USER_ERROR and 'read-only' in err and engram.read_bytes() == before
    engram.chmod(0o644)
    code, out, _ = run(capsys, 'rm', engram, 'a.txt', '--json')
    assert code == OK and json.loads(out)['files'] == 1
    code, _, err = run(capsys, 'rm', tmp_path / 'missing.engram', 'a.txt')
    assert code == USER_ERROR and 'no such engram' in err


def test_add_a_folder_and_refuse_missing_clashing_or_read_only(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    assert run(capsys, 'ingest', src, '-o', engram, '--workers', '1')[0] == OK
    more = tmp_path / 'more'
    more.mkdir()
    (more / 'n.txt').write_bytes(b'new file')
    code, out, _ = run(capsys, 'add', engram, more, '--json', '--workers', '1')
    assert code == OK and json.loads(out)['encoded_files'] == 1
    before = engram.read_bytes()
    for bad, said in ((more, 'already in the engram'), (tmp_path / 'gone', 'cannot read')):
        code, _, err = run(capsys, 'add', engram, bad)
        assert code == USER_ERROR and said in err and len(err.strip().splitlines()) == 1
    engram.chmod(0o444)
    code, _, err = run(capsys, 'add', engram, src / 'a.txt')
    assert code == USER_ERROR and 'read-only' in err and engram.read_bytes() == before
    code, _, err = run(capsys, 'add', tmp_path / 'missing.engram', more)
    assert code == USER_ERROR and 'no such engram' in err


def test_compact_keeps_the_tree_and_refuses_missing_or_read_only(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    assert run(capsys, 'ingest', src, '-o', engram, '--workers', '1')[0] == OK
    assert run(capsys, 'rm', engram, 'a.txt')[0] == OK
    code, out, _ = run(capsys, 'info', engram, '--json')
    info = json.loads(out)
    assert code == OK and info['dead_bytes'] > 0 and info['deleted_entries'] == 1 and info['generation'] == 1
    code, out, _ = run(capsys, 'compact', engram, '--json')
    result = json.loads(out)
    assert code == OK and result['rows_after'] < result['rows_before']        # a.txt's rows were dead
    assert result['file_bytes_after'] < result['file_bytes_before'] and result['dead_bytes_before'] > 0
    code, out, _ = run(capsys, 'info', engram, '--json')
    info = json.loads(out)
    assert info['dead_bytes'] == 0 and info['deleted_entries'] == 0 and info['generation'] == 0
    assert run(capsys, 'extract', engram, '-o', tmp_path / 'out')[0] == OK
    assert (tmp_path / 'out' / 'b.bin').read_bytes() == (src / 'b.bin').read_bytes()
    engram.chmod(0o444)
    assert run(capsys, 'compact', engram)[0] == USER_ERROR
    assert run(capsys, 'compact', tmp_path / 'missing.engram')[0] == USER_ERROR


def test_update_checksum_catches_a_rewrite_that_kept_size_and_mtime(src, tmp_path, capsys):
    old = 1_500_000_000 * 10**9                          # far from the engram's write: not racily clean
    os.utime(src / 'a.txt', ns=(old, old))
    engram = tmp_path / 'e.engram'
    assert run(capsys, 'ingest', src, '-o', engram, '--workers', '1')[0] == OK
    (src / 'a.txt').write_bytes(b'ALPHA ' * 300)
    os.utime(src / 'a.txt', ns=(old, old))
    code, out, _ = run(capsys, 'update', engram, src, '--json')
    assert code == OK and json.loads(out)['encoded_files'] == 0          # size and mtime say unchanged
    code, out, _ = run(capsys, 'update', engram, src, '--checksum', '--json')
    result = json.loads(out)
    assert code == OK and result['encoded_files'] == 1 and result['hashed_files'] == 2
    assert run(capsys, 'extract', engram, '-o', tmp_path / 'out')[0] == OK
    assert (tmp_path / 'out' / 'a.txt').read_bytes() == b'ALPHA ' * 300


def test_update_of_a_damaged_engram_is_a_data_error_and_changes_nothing(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    assert run(capsys, 'ingest', src, '-o', engram, '--workers', '1')[0] == OK
    data = bytearray(engram.read_bytes())
    data[data.index(b'{"entries":') + 20] ^= 0x01
    engram.write_bytes(bytes(data))
    (src / 'c.txt').write_bytes(b'more')
    code, _, err = run(capsys, 'update', engram, src)
    assert code == 2 and 'checksum mismatch' in err and len(err.strip().splitlines()) == 1
    assert engram.read_bytes() == bytes(data)
