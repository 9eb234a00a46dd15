"""PackedMatrix: layout, zero-copy buffers, and exact top-k against a numpy reference."""
import numpy as np
import pytest
from conftest import make_dense
from hypothesis import given
from hypothesis import strategies as st

from embeddenator import vsa


def reference_top_k(dense_rows, query, k):
    """Scores by numpy, ordered by score descending then id ascending."""
    scores = dense_rows.astype(np.int64) @ query.astype(np.int64)
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    return order, scores[order]


def random_rows(n, dim, seed):
    rng = np.random.default_rng(seed)
    kinds = ['sparse', 'mid', 'empty', 'full']
    out = np.zeros((n, dim), np.int8)
    for i in range(n):
        out[i] = make_dense(dim, kinds[i % 4], rng.integers(2**32))
    return out


@given(n=st.integers(0, 40), dim=st.sampled_from([1, 5, 64, 100, 256, 321, 700]), seed=st.integers(0, 2**32),
       data=st.data())
def test_top_k_matches_numpy(path, n, dim, seed, data):
    rows = random_rows(n, dim, seed)
    m = vsa.PackedMatrix.from_dense(rows)
    queries = random_rows(3, dim, seed + 1)
    k = data.draw(st.integers(0, n + 5))           # k larger than n included
    for q in queries:
        ids, scores = m.top_k(vsa.PackedVec.from_dense(q), k)
        want_ids, want_scores = reference_top_k(rows, q, k)
        assert ids.dtype == scores.dtype == np.int64
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(scores, want_scores)
    ids, scores = m.top_k_batch([vsa.SparseVec.from_dense(q) for q in queries], k)
    assert ids.shape == scores.shape == (3, min(k, n))
    for i, q in enumerate(queries):
        want_ids, want_scores = reference_top_k(rows, q, k)
        np.testing.assert_array_equal(ids[i], want_ids)
        np.testing.assert_array_equal(scores[i], want_scores)


def test_ties_are_broken_by_ascending_id(path):
    rows = np.zeros((10, 70), np.int8)
    rows[[2, 5, 7], 3] = 1
    ids, scores = vsa.PackedMatrix.from_dense(rows).top_k(vsa.PackedVec.from_dense(rows[5]), 5)
    assert ids.tolist() == [2, 5, 7, 0, 1]
    assert scores.tolist() == [1, 1, 1, 0, 0]


@pytest.mark.parametrize('threads', [1, 2])
def test_parallel_scan_of_a_large_codebook(path, threads):
    """Large enough to be split across threads and chunks (several chunks of rows, last one partial)."""
    vs = [vsa.random(seed=i).to_packed() for i in range(2600)]
    m = vsa.PackedMatrix.from_vectors(vs)
    queries = [vsa.random(seed=10_000 + i).to_packed() for i in range(3)] + [vs[1234]]
    dense = m.to_dense()
    before = vsa.get_num_threads()
    vsa.set_num_threads(threads)
    try:
        assert vsa.get_num_threads() == threads
        ids, scores = m.top_k_batch(vsa.PackedMatrix.from_vectors(queries), 10)
    finally:
        vsa.set_num_threads(before)
    for i, q in enumerate(queries):
        want_ids, want_scores = reference_top_k(dense, q.to_dense(), 10)
        np.testing.assert_array_equal(ids[i], want_ids)
        np.testing.assert_array_equal(scores[i], want_scores)
        single = m.top_k(q, 10)
        np.testing.assert_array_equal(single[0], want_ids)
    assert ids[3][0] == 1234 and scores[3][0] == 200


def test_layout_alignment_and_rows():
    rows = random_rows(7, 300, 1)
    m = vsa.PackedMatrix.from_dense(rows)
    nw, half, stride = vsa.row_layout(300)
    assert (nw, half, stride) == (5, 8, 16)
    assert m.words.dtype == np.uint64 and m.words.shape == (7 * stride,) and m.stride == stride
    assert m.words.ctypes.data % 64 == 0
    assert len(m) == 7 and m.dim == 300
    for i in range(7):
        np.testing.assert_array_equal(m.row(i).to_dense(), rows[i])
    np.testing.assert_array_equal(m.row(-1).to_dense(), rows[6])
    np.testing.assert_array_equal(m.to_dense(), rows)
    with pytest.raises(IndexError):
        m.row(7)
    again = vsa.PackedMatrix.from_vectors([vsa.BlockSparseVec.from_dense(r) for r in rows])
    np.testing.assert_array_equal(again.words, m.words)


def test_from_buffer_is_zero_copy_over_a_read_only_memmap(tmp_path):
    rows = random_rows(9, 130, 2)
    m = vsa.PackedMatrix.from_dense(rows)
    path = tmp_path / 'codebook.u64'
    m.words.tofile(path)
    mapped = np.memmap(path, dtype=np.uint64, mode='r')
    view = vsa.PackedMatrix.from_buffer(130, 9, mapped)
    assert np.shares_memory(view.words, mapped)
    q = vsa.PackedVec.from_dense(rows[4])
    np.testing.assert_array_equal(view.top_k(q, 4)[0], m.top_k(q, 4)[0])
    np.testing.assert_array_equal(view.row(4).to_dense(), rows[4])


def test_from_buffer_rejects_bad_rows_and_shapes():
    m = vsa.PackedMatrix.from_dense(random_rows(4, 100, 3))
    words = m.words.copy()
    words[2 * m.stride + 1] |= np.uint64(1) << np.uint64(40)     # position 104 >= dim: padding of row 2
    with pytest.raises(ValueError, match='row 2: padding'):
        vsa.PackedMatrix.from_buffer(100, 4, words)
    words = m.words.copy()
    _, half, stride = vsa.row_layout(100)
    words[3 * stride] = words[3 * stride + half] = 1
    with pytest.raises(ValueError, match='row 3: a position is set in both planes'):
        vsa.PackedMatrix.from_buffer(100, 4, words)
    with pytest.raises(ValueError, match='must hold'):
        vsa.PackedMatrix.from_buffer(100, 5, m.words)
    with pytest.raises(ValueError, match='C-contiguous'):
        vsa.PackedMatrix.from_buffer(100, 2, m.words[::2])
    with pytest.raises(ValueError, match='uint64'):
        vsa.PackedMatrix.from_buffer(100, 4, m.words.view(np.int64))


def test_top_k_errors_and_empty_cases():
    m = vsa.PackedMatrix.from_dense(random_rows(3, 64, 4))
    with pytest.raises(ValueError, match='dimension mismatch'):
        m.top_k(vsa.random(65, 2), 1)
    with pytest.raises(ValueError, match='k must be >= 0'):
        m.top_k(vsa.random(64, 2), -1)
    ids, scores = m.top_k(vsa.random(64, 2), 0)
    assert ids.shape == scores.shape == (0,)
    empty = vsa.PackedMatrix.from_buffer(64, 0, vsa.aligned_words(0))
    assert len(empty) == 0 and empty.top_k(vsa.random(64, 2), 5)[0].shape == (0,)
    ids, _ = m.top_k_batch([], 2)
    assert ids.shape == (0, 2)
    with pytest.raises(TypeError):
        vsa.PackedMatrix()


def test_pickle_round_trip_keeps_rows_and_alignment():
    import pickle
    m = vsa.PackedMatrix.from_dense(random_rows(5, 130, 9))
    back = pickle.loads(pickle.dumps(m))
    assert (back.dim, len(back)) == (130, 5) and back.words.ctypes.data % 64 == 0
    np.testing.assert_array_equal(back.words, m.words)


@pytest.mark.parametrize('first, last, unbalanced', [
    ([0.0001, 0.0002], [0.0100, 0.0101], False),     # both started at once and finished together
    ([0.0001, 0.0000], [0.0100, 0.0000], True),      # the helper never got a chunk
    ([0.0001, 0.0050], [0.0100, 0.0101], True),      # the helper started 5 ms late
    ([0.0001, 0.0002], [0.0100, 0.0400], True),      # the helper finished 30 ms behind
])
def test_scan_thread_balance_rule(first, last, unbalanced):
    from embeddenator.vsa import _kernels
    assert _kernels._is_unbalanced(first, last, 0.0) is unbalanced


def test_from_buffer_at_an_unaligned_file_offset(path, tmp_path):
    """A codebook after an 8-byte header: the buffer is not 64-byte aligned, and every path still reads it."""
    rows = random_rows(11, 200, 5)
    m = vsa.PackedMatrix.from_dense(rows)
    file = tmp_path / 'codebook.bin'
    file.write_bytes(b'HEADER!!' + m.words.tobytes())
    mapped = np.memmap(file, dtype=np.uint64, mode='r', offset=8)
    view = vsa.PackedMatrix.from_buffer(200, 11, mapped)
    assert view.words.ctypes.data % 64 != 0
    queries = [vsa.PackedVec.from_dense(r) for r in rows[:3]]
    for got, want in zip(view.top_k_batch(queries, 11), m.top_k_batch(queries, 11)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize('nq', [8, 15, 16])
def test_batches_of_every_group_size(path, nq):
    """Queries are scored in groups of 8, 4, 2 and 1 over tiles of 32 rows: 15 = 8 + 4 + 2 + 1, 70 rows = 3 tiles."""
    rows = random_rows(70, 300, nq)
    m = vsa.PackedMatrix.from_dense(rows)
    queries = random_rows(nq, 300, nq + 100)
    ids, scores = m.top_k_batch([vsa.PackedVec.from_dense(q) for q in queries], 7)
    for i, q in enumerate(queries):
        want_ids, want_scores = reference_top_k(rows, q, 7)
        np.testing.assert_array_equal(ids[i], want_ids)
        np.testing.assert_array_equal(scores[i], want_scores)
