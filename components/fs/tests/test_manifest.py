import os

import pytest

from embeddenator.fs import Entry, FsError, scan
from embeddenator.fs.manifest import check_relative


def test_scan_lists_every_kind_in_a_stable_order(tree):
    entries = scan(tree)
    kinds = {e.path: e.kind for e in entries}
    assert kinds[b'link'] == 'symlink' and kinds[b'empty-dir'] == 'dir' and kinds[b'a/b/blob.bin'] == 'file'
    assert b'latin-\xe9\xff.bin' in kinds
    assert [e.path for e in entries] == [e.path for e in scan(tree)]
    assert entries.index(next(e for e in entries if e.path == b'a')) < entries.index(
        next(e for e in entries if e.path == b'a/hello.txt'))


def test_several_sources_keep_their_names(tree, tmp_path):
    other = tmp_path / 'other.txt'
    other.write_text('x')
    paths = {e.path for e in scan([tree / 'a', other])}
    assert {b'a', b'a/hello.txt', b'other.txt'} <= paths


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(FsError, match='missing.*check the path'):
        scan(tmp_path / 'missing')


def test_a_fifo_is_stored_as_an_entry_not_refused(tmp_path):
    os.mkfifo(tmp_path / 'pipe')
    assert [(e.path, e.kind) for e in scan(tmp_path)] == [(b'', 'dir'), (b'pipe', 'fifo')]


@pytest.mark.parametrize('path', [b'caf\xc3\xa9.txt', b'\xe9\xff', 'ünï ✓'.encode()])
def test_entries_survive_json(path):
    entry = Entry(path, 'file', 0o640, 123, size=4, sha256='ab', first=2, count=1)
    assert Entry.from_json(entry.to_json()) == entry


@pytest.mark.parametrize('path', [b'../x', b'/etc/passwd', b'a/../../b', b'a//b', b''])
def test_paths_that_escape_are_refused(path):
    with pytest.raises(FsError, match='not a plain relative path'):
        check_relative(path)
