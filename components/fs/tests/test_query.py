import os

import numpy as np
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


@pytest.mark.parametrize('sizes', [[1], [20], [25], [26], [1250], [600], [1250, 1250], [1250, 3], [1250] * 5 + [999]])
def test_file_vectors_made_from_bit_counts_equal_the_bundle_of_encoded_chunks(sizes):
    """Ingest sums bits instead of encoding chunks (`vsa.bit_sums` of the file's bytes) and thins without spreading
    them (`worker.thin_bits`; `worker.thin_one` for a file of one chunk): the vector must be exactly the thinned
    bundle of the codec's chunk vectors."""
    from embeddenator.fs import worker
    from embeddenator.fs.hierarchy import thin
    codec = fs.ChunkCodec()
    rng = np.random.default_rng(len(sizes) * 1000 + sizes[-1])
    data = rng.integers(0, 256, sum(sizes), dtype=np.uint8).tobytes()
    if sizes == [600]:
        data = bytes(600)                                       # all bits clear: every trit -1
    if sizes == [1250, 1250]:
        data = data[:1250] + bytes(b ^ 0xFF for b in data[:1250])   # opposite bits: every trit 0
    pos, neg = codec.encode_planes(data)
    bundle = (pos.view(np.int8) - neg.view(np.int8)).sum(axis=0, dtype=np.int32)[: codec.dim]
    rows, last = codec.chunk_matrix(data)
    trits = worker._vector(codec, worker.Piece(0, '', 0, len(data), False), rows, last, 200)[codec._table('slots')]
    assert np.array_equal(worker.spread(codec, trits), bundle)
    for max_nnz in (200, 13):
        want = thin(bundle, max_nnz)
        for got in [worker.thin_bits(codec, trits, max_nnz)] + \
                [worker.thin_one(codec, rows[0], last, max_nnz)] * (len(rows) == 1):
            assert np.array_equal(got.idx, want.idx) and np.array_equal(got.sign, want.sign)


def test_chunk_hits_through_plain_rows_equal_those_through_the_codec_rows(tree, tmp_path):
    fs.ingest_to(tree, tmp_path / 't.engram', workers=1)
    engram = fs.load(tmp_path / 't.engram')
    from embeddenator.fs.query import rank_chunks, scanned_rows
    from embeddenator.fs.store import DerivedRows
    assert isinstance(engram.codebook, DerivedRows)
    blob = (tree / 'a' / 'b' / 'blob.bin').read_bytes()
    for data in (blob[1250:2500], blob[3000:3700], blob[:1], b'hello, world\n' * 300, bytes(range(256)) * 9):
        book, rows = scanned_rows(engram, data)
        assert book is not engram.codebook                       # the plain rows are what is scanned
        assert fs.query(engram, data, k=8)['chunks'] == rank_chunks(engram, engram.codec.encode(data), 8)


def test_a_superposed_engram_is_scanned_through_its_codec_rows(tree, tmp_path):
    """Plain rows score like the codec's only for the exact codec: a superposed one keeps its own rows."""
    from embeddenator.fs.query import scanned_rows
    fs.ingest_to(tree, tmp_path / 's.engram', codec=fs.ChunkCodec(chunk_size=2500), workers=1)
    engram = fs.load(tmp_path / 's.engram')
    blob = (tree / 'a' / 'b' / 'blob.bin').read_bytes()
    book, rows = scanned_rows(engram, blob)
    assert book is engram.codebook and np.array_equal(rows, engram.codec.encode(blob))
    hits = fs.query(engram, blob, k=1)
    assert hits['files'][0].path == 'a/b/blob.bin' and hits['chunks'][0].path == 'a/b/blob.bin'
