"""PackedMatrix.dot_rows (re-ranking chosen rows) and weighted_sum (a weighted superposition) against numpy."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_matrix import random_rows

from embeddenator import vsa


@given(n=st.integers(1, 30), dim=st.sampled_from([1, 5, 64, 100, 321, 700]), c=st.integers(0, 12),
       seed=st.integers(0, 2**32))
def test_dot_rows_matches_numpy(path, n, dim, c, seed):
    rows = random_rows(n, dim, seed)
    queries = random_rows(4, dim, seed + 1)
    which = np.random.default_rng(seed).integers(0, n, (4, c))
    want = np.einsum('qd,qcd->qc', queries.astype(np.int64), rows[which].astype(np.int64))
    book = vsa.PackedMatrix.from_dense(rows)
    got = book.dot_rows([vsa.SparseVec.from_dense(q) for q in queries], which)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(book.dot_rows(vsa.PackedMatrix.from_dense(queries), which), want)


def test_dot_rows_checks_its_rows():
    book = vsa.PackedMatrix.from_dense(np.eye(3, dtype=np.int8))
    q = [vsa.SparseVec(3, [0], [])]
    with pytest.raises(ValueError, match=r'row numbers in \[0, 3\)'):
        book.dot_rows(q, [[3]])
    with pytest.raises(ValueError, match=r'row numbers in \[0, 3\)'):
        book.dot_rows(q, [[-1]])
    with pytest.raises(ValueError, match='shape'):
        book.dot_rows(q, [1, 2])
    with pytest.raises(ValueError, match='dim'):
        book.dot_rows([vsa.SparseVec(4, [0], [])], [[0]])
    assert book.dot_rows(q, np.zeros((1, 0), np.int64)).shape == (1, 0)


@given(n=st.integers(0, 30), dim=st.sampled_from([1, 5, 64, 100, 321, 700]), seed=st.integers(0, 2**32))
def test_weighted_sum_matches_numpy(n, dim, seed):
    rows = random_rows(n, dim, seed)
    weights = np.random.default_rng(seed).integers(-1000, 1000, n)
    got = vsa.PackedMatrix.from_dense(rows).weighted_sum(weights) if n else \
        vsa.PackedMatrix.from_buffer(dim, 0, vsa.aligned_words(0)).weighted_sum([])
    assert got.dtype == np.int64 and got.shape == (dim,)
    np.testing.assert_array_equal(got, weights @ rows.astype(np.int64) if n else np.zeros(dim))


def test_weighted_sum_refuses_sums_that_could_overflow():
    book = vsa.PackedMatrix.from_dense(np.ones((2, 3), np.int8))
    with pytest.raises(ValueError, match='2\\^31'):
        book.weighted_sum([2**30, 2**30])
    with pytest.raises(ValueError, match='2 integers'):
        book.weighted_sum([1.5, 2])


@pytest.mark.parametrize('threads', [1, 2])
def test_weighted_sum_split_across_threads(path, threads):
    """Large enough for the columns to be split between threads (uneven split: 157 words on 2 threads)."""
    rows = np.random.default_rng(threads).choice(np.array([-1, 0, 1], np.int8), (100, 10_000))
    weights = np.random.default_rng(5).integers(-10_000, 10_000, 100)
    before = vsa.get_num_threads()
    vsa.set_num_threads(threads)
    try:
        got = vsa.PackedMatrix.from_dense(rows).weighted_sum(weights)
    finally:
        vsa.set_num_threads(before)
    np.testing.assert_array_equal(got, weights @ rows.astype(np.int64))
