"""Every operation, in every representation and on every SIMD path, against numpy on the dense view."""
import itertools
import pickle

import numpy as np
import pytest
from conftest import KINDS, dense_vectors, make_dense, simd
from hypothesis import given
from hypothesis import strategies as st

from embeddenator import vsa
from embeddenator.vsa import _kernels

REPS = list(KINDS)


def i64(a):
    return a.astype(np.int64)


@pytest.mark.parametrize('rep', REPS)
@given(vs=dense_vectors(1))
def test_dense_round_trip(path, rep, vs):
    [a] = vs
    v = KINDS[rep].from_dense(a)
    assert v.dim == a.shape[0]
    assert v.nnz == np.count_nonzero(a)
    out = v.to_dense()
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, a)
    np.testing.assert_array_equal(v.pos, np.flatnonzero(a > 0))
    np.testing.assert_array_equal(v.neg, np.flatnonzero(a < 0))


@pytest.mark.parametrize('src, dst', list(itertools.product(REPS, REPS)))
@given(vs=dense_vectors(1))
def test_every_conversion_is_lossless(path, src, dst, vs):
    [a] = vs
    v = KINDS[src].from_dense(a)
    w = getattr(KINDS[dst], f'from_{"block_sparse" if src == "blocks" else src}')(v)
    assert isinstance(w, KINDS[dst])
    np.testing.assert_array_equal(w.to_dense(), a)
    back = {'sparse': w.to_sparse, 'packed': w.to_packed, 'blocks': w.to_block_sparse}[src]()
    assert back == v


@pytest.mark.parametrize('rep', REPS)
@given(vs=dense_vectors(2))
def test_bind_bundle_dot_cosine(path, rep, vs):
    a, b = vs
    x, y = KINDS[rep].from_dense(a), KINDS[rep].from_dense(b)
    np.testing.assert_array_equal(x.bind(y).to_dense(), a * b)
    np.testing.assert_array_equal(vsa.bind(x, y).to_dense(), a * b)
    np.testing.assert_array_equal(x.bundle(y).to_dense(), np.sign(i64(a) + b))
    np.testing.assert_array_equal(vsa.bundle(x, y).to_dense(), np.sign(i64(a) + b))
    expected = int(np.sum(i64(a) * b))
    assert x.dot(y) == vsa.dot(x, y) == expected
    assert type(x.dot(y)) is int
    na, nb = np.count_nonzero(a), np.count_nonzero(b)
    cos = expected / np.sqrt(float(na) * nb) if na and nb else 0.0
    assert x.cosine(y) == pytest.approx(cos, abs=1e-12)
    assert vsa.cosine(x, y) == pytest.approx(cos, abs=1e-12)


@pytest.mark.parametrize('rep', REPS)
@given(vs=dense_vectors(2))
def test_mixed_representations_follow_the_left_operand(path, rep, vs):
    a, b = vs
    x = KINDS[rep].from_dense(a)
    for other in REPS:
        y = KINDS[other].from_dense(b)
        assert isinstance(x.bind(y), KINDS[rep])
        np.testing.assert_array_equal(x.bind(y).to_dense(), a * b)
        assert x.dot(y) == int(np.sum(i64(a) * b))


@pytest.mark.parametrize('rep', REPS)
@given(vs=dense_vectors(1), data=st.data())
def test_permute_is_np_roll(path, rep, vs, data):
    [a] = vs
    s = data.draw(st.integers(-3 * a.shape[0] - 5, 3 * a.shape[0] + 5))
    x = KINDS[rep].from_dense(a)
    np.testing.assert_array_equal(x.permute(s).to_dense(), np.roll(a, s))
    np.testing.assert_array_equal(vsa.permute(x, s).to_dense(), np.roll(a, s))
    np.testing.assert_array_equal(x.inverse_permute(s).to_dense(), np.roll(a, -s))
    np.testing.assert_array_equal(vsa.inverse_permute(x.permute(s), s).to_dense(), a)


@pytest.mark.parametrize('rep', REPS)
@given(vs=dense_vectors(2))
def test_bind_is_self_inverse_on_the_support(path, rep, vs):
    a, b = vs
    x, y = KINDS[rep].from_dense(a), KINDS[rep].from_dense(b)
    np.testing.assert_array_equal(x.bind(y).bind(y).to_dense(), a * (b != 0))


@pytest.mark.parametrize('rep', REPS)
@given(data=st.data(), n=st.integers(1, 12))
def test_bundle_many_is_sign_of_sum(path, rep, data, n):
    vs = data.draw(dense_vectors(n))
    out = vsa.bundle_many([KINDS[rep].from_dense(a) for a in vs])
    assert isinstance(out, KINDS[rep])
    np.testing.assert_array_equal(out.to_dense(), np.sign(np.sum(vs, axis=0, dtype=np.int64)))


@pytest.mark.parametrize('rep', REPS)
def test_bundle_many_of_many_sparse_vectors(path, rep):
    vs = [vsa.random(1000, 30, seed=i) for i in range(300)]
    expected = np.sign(np.sum([v.to_dense() for v in vs], axis=0, dtype=np.int64))
    out = vsa.bundle_many([KINDS[rep].from_sparse(v) for v in vs])
    np.testing.assert_array_equal(out.to_dense(), expected)


@given(dim=st.integers(1, 3000), data=st.data(), seed=st.integers(0, 2**63))
def test_random_has_exactly_nnz_half_each_sign(dim, data, seed):
    nnz = data.draw(st.integers(0, dim))
    v = vsa.random(dim, nnz, seed)
    assert v.nnz == nnz
    assert len(v.pos) == nnz - nnz // 2 and len(v.neg) == nnz // 2
    assert v == vsa.random(dim, nnz, seed)
    np.testing.assert_array_equal(vsa.SparseVec(dim, v.pos, v.neg).to_dense(), v.to_dense())


def test_random_defaults_and_seeds():
    v = vsa.random()
    assert (v.dim, v.nnz) == (vsa.DEFAULT_DIM, vsa.DEFAULT_NNZ) == (10_000, 200)
    assert v != vsa.random(seed=1)


@pytest.mark.parametrize('rep', REPS)
@given(vs=dense_vectors(1), data=st.data(), seed=st.integers(0, 2**32))
def test_thin_keeps_t_of_the_support_in_proportion(rep, vs, data, seed):
    [a] = vs
    nnz = int(np.count_nonzero(a))
    t = data.draw(st.integers(0, nnz + 3))
    x = KINDS[rep].from_dense(a)
    y = vsa.thin(x, t, seed)
    d = y.to_dense()
    assert np.count_nonzero(d) == min(t, nnz)
    assert np.all(d[d != 0] == a[d != 0])             # a subset of the support, signs kept
    if t < nnz:
        assert abs(np.count_nonzero(d > 0) - t * np.count_nonzero(a > 0) / nnz) <= 1
    assert y == x.thin(t, seed)


@pytest.mark.parametrize('rep', REPS)
def test_pickle_round_trip(rep):
    v = KINDS[rep].from_dense(make_dense(777, 'mid', 3))
    assert pickle.loads(pickle.dumps(v)) == v


def test_every_path_agrees_at_the_default_dimension():
    a, b = vsa.random(seed=5).to_packed(), vsa.random(10_000, 5000, seed=6).to_packed()
    results = set()
    for p in vsa.available_paths():
        with simd(p):
            results.add((a.dot(b), b.nnz, vsa.popcount(b.pos_words)))
    assert len(results) == 1


@pytest.mark.parametrize('dim, nnz', [(40_000, 300), (70_000, 3000), (70_001, 20)])
def test_large_dims_take_the_merge_and_gil_free_branches(path, dim, nnz):
    """Above 32,768 positions the sparse dot merges instead of using its sign table; above 1,024 non-zeros or
    1,024 words the kernels release the GIL. Same results either way."""
    a, b = vsa.random(dim, nnz, seed=1), vsa.random(dim, nnz, seed=2)
    c = vsa.bundle(a, vsa.thin(b, nnz // 2, 3))              # shares support with a: a non-trivial dot
    x, y = a.to_dense(), c.to_dense()
    expected = int(np.dot(i64(x), y))
    assert a.dot(c) == a.to_packed().dot(c.to_packed()) == a.to_block_sparse().dot(c) == expected
    assert expected != 0


def test_read_words_is_the_xor_of_every_word():
    words = np.random.default_rng(0).integers(0, 2**63, size=300_001, dtype=np.uint64)
    expected = int(np.bitwise_xor.reduce(words))
    for path in vsa.available_paths():
        with simd(path):
            assert _kernels.read_words(words) == _kernels.read_words(words, threads=1) == expected
    assert _kernels.read_words(np.zeros(0, np.uint64)) == 0
