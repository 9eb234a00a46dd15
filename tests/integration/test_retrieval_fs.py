"""retrieval -> fs: the engram's vectors are kernel rows, and fs.query ranks exactly as retrieval does."""
import os

import numpy as np

from embeddenator import fs, vsa
from embeddenator.fs.query import to_vsa
from embeddenator.retrieval import Index


def test_codebook_rows_are_packed_matrix_rows(tree):
    engram = fs.ingest(tree, workers=1)
    book = vsa.PackedMatrix.from_buffer(engram.codec.dim, len(engram.codebook),
                                        np.ascontiguousarray(engram.codebook).reshape(-1))   # checks every row
    dense = engram.codec.to_dense(np.asarray(engram.codebook[:5]))
    for i in range(5):
        assert book.row(i) == vsa.PackedVec.from_dense(dense[i])
        assert vsa.dot(book.row(i), book.row(i)) == np.count_nonzero(dense[i])


def test_file_ranking_is_the_retrieval_index_ranking(tree):
    engram = fs.ingest(tree, workers=1)
    target = tree / 'json' / 'decoder.py'
    hits = fs.query(engram, target, k=4)['files']
    index = Index.from_vectors([to_vsa(v, engram.codec.dim) for v in engram.file_vectors])
    qvec = fs.query.__globals__['file_vector'](engram, target.read_bytes())
    ids, scores = index.query(to_vsa(qvec, engram.codec.dim), k=4)
    assert [h.path for h in hits] == [os.fsdecode(engram.files[i].path) for i in ids]
    assert [h.score for h in hits] == scores.tolist()
    assert hits[0].path == 'json/decoder.py'


def test_every_chunk_of_a_file_finds_its_own_place(tree):
    engram = fs.ingest(tree, workers=1)
    data = (tree / 'textwrap.py').read_bytes()
    for chunk in (0, 3, len(data) // 1250):
        piece = data[chunk * 1250:(chunk + 1) * 1250]
        best = fs.query(engram, piece, k=1)['chunks'][0]
        assert (best.path, best.chunk, best.score) == ('textwrap.py', chunk, 8 * len(piece))
