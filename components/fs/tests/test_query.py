import os

import pytest

from embeddenator import fs


@pytest.fixture
def engram(tree):
    return fs.ingest(tree, workers=1)


def test_a_stored_file_finds_itself_first(engram, tree):
    hits = fs.query(engram, tree / 'ünïcødé ✓.txt', k=3)
    assert hits['files'][0].path == 'ünïcødé ✓.txt'
    assert hits['chunks'][0].path == 'ünïcødé ✓.txt' and hits['chunks'][0].chunk == 0
    assert [h.score for h in hits['files']] == sorted((h.score for h in hits['files']), reverse=True)


def test_a_slice_of_a_chunk_finds_the_chunk_and_its_offset(engram, tree):
    blob = (tree / 'a' / 'b' / 'blob.bin').read_bytes()
    hits = fs.query(engram, blob[1250:2500], k=2)['chunks']
    assert (hits[0].path, hits[0].chunk, hits[0].offset, hits[0].score) == ('a/b/blob.bin', 1, 1250, 10_000)
    assert hits[1].score < hits[0].score


def test_bad_queries_are_clear_errors(engram, tmp_path):
    with pytest.raises(fs.FsError, match='cannot read the query'):
        fs.query(engram, tmp_path / 'nope')
    with pytest.raises(fs.FsError, match='empty'):
        fs.query(engram, b'')
    with pytest.raises(fs.FsError, match='at least one'):
        fs.query(engram, b'x', k=0)


def test_hits_serialise_without_unused_fields(engram):
    hit = fs.query(engram, b'hello, world\n', k=1)['files'][0]
    assert set(hit.to_json()) == {'path', 'score'}
    assert os.fsencode(hit.path) in {e.path for e in engram.files}
