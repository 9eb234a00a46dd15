"""Resonator network: the compiled one against the plain numpy oracle, step for step, and what it recovers."""
import numpy as np
import pytest
import resonator_oracle

from embeddenator import vsa
from embeddenator.retrieval import Factorization, Resonator


def codebooks(rng, sizes, dim):
    return [rng.choice(np.array([-1, 1], np.int8), (m, dim)) for m in sizes]


@pytest.mark.parametrize('sizes, dim', [((30, 30, 30), 2000), ((40, 25), 1000), ((10, 12, 8, 9), 3000)])
def test_same_answer_and_sweeps_as_the_numpy_oracle(sizes, dim):
    rng = np.random.default_rng(len(sizes))
    dense = codebooks(rng, sizes, dim)
    resonator = Resonator([vsa.PackedMatrix.from_dense(d) for d in dense])
    for _ in range(8):
        idx = [int(rng.integers(0, m)) for m in sizes]
        x = np.prod([d[i].astype(np.int64) for d, i in zip(dense, idx)], axis=0)
        got = resonator.factorize(vsa.PackedVec.from_dense(x), max_iterations=30)
        want = resonator_oracle.factorize(x.astype(np.float32), [d.astype(np.float32) for d in dense], 30)
        assert (got.indices, got.iterations, got.converged) == want
        if got.converged:
            assert list(got.indices) == idx


def test_recovers_every_factor_of_small_products():
    rng = np.random.default_rng(3)
    dense = codebooks(rng, (20, 20, 20), 2000)
    resonator = Resonator([[vsa.PackedVec.from_dense(r) for r in d] for d in dense])
    for _ in range(20):
        idx = tuple(int(i) for i in rng.integers(0, 20, 3))
        x = vsa.PackedVec.from_dense(dense[0][idx[0]] * dense[1][idx[1]] * dense[2][idx[2]])
        found = resonator.factorize(x)
        assert found == Factorization(idx, found.iterations, True) and 1 <= found.iterations <= 30


def test_a_vector_that_is_no_product_is_not_proven():
    rng = np.random.default_rng(4)
    resonator = Resonator([vsa.PackedMatrix.from_dense(d) for d in codebooks(rng, (10, 10), 512)])
    found = resonator.factorize(vsa.random(512, 512, seed=9), max_iterations=5)
    assert not found.converged and found.iterations <= 5 and len(found.indices) == 2


def test_bad_input_is_named():
    book = vsa.PackedMatrix.from_dense(np.ones((2, 64), np.int8))
    with pytest.raises(ValueError, match='at least 2 codebooks'):
        Resonator([book])
    with pytest.raises(ValueError, match='codebook 1 has dim 32'):
        Resonator([book, vsa.PackedMatrix.from_dense(np.ones((2, 32), np.int8))])
    with pytest.raises(ValueError, match='x has dim 32'):
        Resonator([book, book]).factorize(vsa.random(32, 32, seed=1))
    with pytest.raises(ValueError, match='max_iterations'):
        Resonator([book, book]).factorize(vsa.random(64, 64, seed=1), max_iterations=0)


@pytest.mark.parametrize('restart_every', [1, 3, None])
def test_restarts_follow_the_oracle(restart_every):
    rng = np.random.default_rng(11)
    dense = codebooks(rng, (25, 25, 25), 1500)
    resonator = Resonator([vsa.PackedMatrix.from_dense(d) for d in dense])
    for _ in range(4):
        x = np.prod([d[int(i)].astype(np.int64) for d, i in zip(dense, rng.integers(0, 25, 3))], axis=0)
        got = resonator.factorize(vsa.PackedVec.from_dense(x), 12, restart_every)
        want = resonator_oracle.factorize(x.astype(np.float32), [d.astype(np.float32) for d in dense], 12,
                                          restart_every)
        assert (got.indices, got.iterations, got.converged) == want
