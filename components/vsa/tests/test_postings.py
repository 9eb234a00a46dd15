"""PostingLists (the inverted index kernel): construction both ways, validation, and exact top-k of sparse queries
against a numpy reference (ties by id ascending) with rows not yet indexed, removed rows and arbitrary ids."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddenator import vsa
from embeddenator.vsa import PostingLists, pack_rows, sparse_rows

FIELDS = ('plus_indptr', 'plus_rows', 'minus_indptr', 'minus_rows')


def reference(dense, ids, query, k, dead=()):
    """numpy: scores of the live rows, score descending then id ascending; returns (rows, scores)."""
    scores = dense.astype(np.int64) @ query.astype(np.int64)
    live = np.setdiff1d(np.arange(len(dense)), np.asarray(dead, np.int64))
    order = live[np.lexsort((ids[live], -scores[live]))][:k]
    return order, scores[order]


def ternary(rng, n, dim, density):
    return (rng.choice([-1, 0, 1], size=(n, dim), p=[density / 2, 1 - density, density / 2])).astype(np.int8)


def sparse(dense):
    return [vsa.SparseVec.from_dense(row) for row in dense]


def query_top_k(lists, book, queries, k, dead=None, ids=None):
    return lists.top_k(book, *sparse_rows(sparse(queries), book.dim), k, dead, ids)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 50), dim=st.sampled_from([1, 3, 64, 65, 200, 513]),
       density=st.sampled_from([0.0, 0.05, 0.3, 1.0]), covered=st.floats(0, 1), k=st.integers(0, 60),
       shuffle_ids=st.booleans(), ndead=st.integers(0, 10), threads=st.sampled_from([1, 2]))
def test_top_k_matches_numpy(seed, n, dim, density, covered, k, shuffle_ids, ndead, threads):
    rng = np.random.default_rng(seed)
    dense = ternary(rng, n, dim, density)
    queries = ternary(rng, 5, dim, 0.2)
    queries[0] = 0                                                   # the empty query
    book = vsa.PackedMatrix.from_dense(dense) if n else vsa.PackedMatrix.from_buffer(dim, 0, vsa.aligned_words(0))
    lists = PostingLists.from_codebook(book, int(covered * n))      # rows past `covered` come from the codebook
    ids = rng.permutation(3 * n)[:n].astype(np.int64) if shuffle_ids else np.arange(n)
    dead = np.unique(rng.integers(0, n, ndead)) if n else np.zeros(0, np.int64)
    vsa.set_num_threads(threads)
    try:
        rows, scores = query_top_k(lists, book, queries, k, dead, ids if shuffle_ids else None)
    finally:
        vsa.set_num_threads(2)
    assert rows.shape == scores.shape == (len(queries), min(k, n - len(dead)))
    for i, q in enumerate(queries):
        want_rows, want_scores = reference(dense, ids, q, k, dead)
        np.testing.assert_array_equal(rows[i], want_rows)
        np.testing.assert_array_equal(scores[i], want_scores)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 40), split=st.floats(0, 1),
       dim=st.sampled_from([1, 64, 100, 700]))
def test_built_from_sparse_rows_equals_built_from_codebook(seed, n, split, dim):
    rng = np.random.default_rng(seed)
    dense = ternary(rng, n, dim, 0.1)
    cut = int(split * n)
    lists = PostingLists.empty(dim)
    for part in (dense[:cut], dense[cut:]):                         # extended twice: old lists + new rows
        lists = lists.extended(*sparse_rows(sparse(part), dim))
    book = vsa.PackedMatrix.from_dense(dense) if n else vsa.PackedMatrix.from_buffer(dim, 0, vsa.aligned_words(0))
    whole = PostingLists.from_codebook(book)
    assert lists.n == whole.n == n and len(lists) == int(np.count_nonzero(dense))
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(lists, field), getattr(whole, field))
    for d in range(0, dim, max(1, dim // 7)):                      # each list: the rows with that sign there
        np.testing.assert_array_equal(whole.plus_rows[whole.plus_indptr[d]:whole.plus_indptr[d + 1]],
                                      np.flatnonzero(dense[:, d] == 1))
        np.testing.assert_array_equal(whole.minus_rows[whole.minus_indptr[d]:whole.minus_indptr[d + 1]],
                                      np.flatnonzero(dense[:, d] == -1))


def test_duplicate_scores_rank_by_id_and_k_beyond_rows():
    dense = np.tile(np.array([[1, -1, 0, 1]], np.int8), (12, 1))     # every row scores the same
    book = vsa.PackedMatrix.from_dense(dense)
    lists = PostingLists.from_codebook(book)
    ids = np.array([50, 3, 7, 1, 99, 20, 4, 8, 60, 2, 11, 0], np.int64)
    rows, scores = query_top_k(lists, book, np.array([[1, 0, 0, 1]], np.int8), 100, ids=ids)
    assert ids[rows[0]].tolist() == sorted(ids.tolist()) and scores[0].tolist() == [2] * 12
    rows, _ = query_top_k(lists, book, np.array([[1, 0, 0, 1]], np.int8), 3, dead=[3, 11])
    assert rows[0].tolist() == [0, 1, 2]


def test_wide_scores_and_int32_rows_match_numpy():
    """Queries whose scores overflow int16 counters, and more rows than uint16 row numbers can name."""
    rng = np.random.default_rng(5)
    dim = 33_000
    dense = ternary(rng, 3, dim, 1.0)
    book = vsa.PackedMatrix.from_dense(dense)
    q = dense[1].copy()                                              # scores up to 33,000
    rows, scores = query_top_k(PostingLists.from_codebook(book), book, q[None, :], 3)
    want = reference(dense, np.arange(3), q, 3)
    np.testing.assert_array_equal(rows[0], want[0])
    np.testing.assert_array_equal(scores[0], want[1])
    many = ternary(rng, 70_000, 3, 0.5)
    book = vsa.PackedMatrix.from_dense(many)
    rows, scores = query_top_k(PostingLists.from_codebook(book, 69_000), book, many[:4], 5, dead=[0, 65_536])
    for i in range(4):
        want = reference(many, np.arange(len(many)), many[i], 5, [0, 65_536])
        np.testing.assert_array_equal(rows[i], want[0])
        np.testing.assert_array_equal(scores[i], want[1])


def test_from_arrays_round_trip_and_rejects_bad_arrays():
    dense = ternary(np.random.default_rng(2), 9, 70, 0.2)
    lists = PostingLists.from_codebook(vsa.PackedMatrix.from_dense(dense))
    arrays = [getattr(lists, f).copy() for f in FIELDS]
    again = PostingLists.from_arrays(70, 9, *arrays)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(again, field), getattr(lists, field))
    bad_row = [a.copy() for a in arrays]
    bad_row[1][0] = 9
    bad_ptr = [a.copy() for a in arrays]
    bad_ptr[0][3] = bad_ptr[0][4] + 1
    for args, message in (((70, 9, *bad_row), 'outside'), ((70, 9, *bad_ptr), 'non-decreasing'),
                          ((71, 9, *arrays), 'offsets'), ((70, 9, arrays[0], arrays[1].astype(np.int64),
                                                           arrays[2], arrays[3]), 'int32')):
        with pytest.raises(ValueError, match=message):
            PostingLists.from_arrays(*args)


def test_queries_are_checked_before_the_kernel_runs():
    book = vsa.PackedMatrix.from_dense(np.eye(4, dtype=np.int8))
    lists = PostingLists.from_codebook(book)
    ok = ([0], [0, 1], [], [0, 0])
    for args, message in ((([4], [0, 1], [], [0, 0]), 'outside'), (([0], [0, 2], [], [0, 0]), 'offsets'),
                          (([0], [0, 1], [], [0]), 'same number')):
        with pytest.raises(ValueError, match=message):
            lists.top_k(book, *args, 2)
    with pytest.raises(ValueError, match='dead'):
        lists.top_k(book, *ok, 2, dead=[2, 1])
    with pytest.raises(ValueError, match='ids'):
        lists.top_k(book, *ok, 2, ids=[1, 2])
    with pytest.raises(ValueError, match='dimension'):
        lists.top_k(vsa.PackedMatrix.from_dense(np.eye(5, dtype=np.int8)), *ok, 2)
    rows, scores = lists.top_k(book, *ok, 10, dead=[0, 1, 2, 3])
    assert rows.shape == scores.shape == (1, 0)


def test_sparse_rows_and_pack_rows_rebuild_the_codebook():
    rng = np.random.default_rng(3)
    dense = ternary(rng, 6, 130, 0.3)
    vectors = [vsa.SparseVec.from_dense(dense[0]), vsa.PackedVec.from_dense(dense[1]),
               vsa.BlockSparseVec.from_dense(dense[2])] + sparse(dense[3:])
    pos, po, neg, no = sparse_rows(vectors, 130)
    for i, row in enumerate(dense):
        assert pos[po[i]:po[i + 1]].tolist() == np.flatnonzero(row == 1).tolist()
        assert neg[no[i]:no[i + 1]].tolist() == np.flatnonzero(row == -1).tolist()
    book = vsa.PackedMatrix.from_dense(dense)
    words = vsa.aligned_words(len(book.words))
    pack_rows(words, 130, 0, pos, po, neg, no)
    np.testing.assert_array_equal(words, book.words)
    with pytest.raises(ValueError, match='dim 64'):
        sparse_rows([vsa.random(64, 4)], 130)
    with pytest.raises(ValueError, match='do not fit'):
        pack_rows(words, 130, 1, pos, po, neg, no)
    before = words.copy()
    with pytest.raises(ValueError, match='outside'):                  # checked before any bit is set
        pack_rows(words, 130, 0, [3], [0, 1], [130], [0, 1])
    np.testing.assert_array_equal(words, before)
    with pytest.raises(ValueError, match='outside'):
        PostingLists.empty(130).extended([3], [0, 1], [-1], [0, 1])
