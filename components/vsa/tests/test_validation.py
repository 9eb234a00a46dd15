"""Bad input is a ValueError with a clear message, raised before any kernel runs."""
import numpy as np
import pytest

from embeddenator import vsa


@pytest.mark.parametrize('pos, neg, match', [
    ([3, 1], [], 'pos must be sorted and unique'),
    ([1, 1], [], 'pos must be sorted and unique'),
    ([1], [1], 'overlap at index 1'),
    ([10], [], r'out of range \[0, 10\)'),
    ([-1], [], 'out of range'),
    ([1.5], [], 'integer indices'),
    ([[1]], [], '1-D'),
    (np.array([2**64 - 1], np.uint64), [], 'out of range'),
])
def test_sparse_constructor_rejects(pos, neg, match):
    with pytest.raises(ValueError, match=match):
        vsa.SparseVec(10, pos, neg)


@pytest.mark.parametrize('dim', [0, -3, 2.0, '10', True, None])
def test_bad_dims(dim):
    with pytest.raises(ValueError, match='dim must be a positive integer'):
        vsa.SparseVec(dim, [], [])


def test_sparse_accepts_any_integer_array_and_stores_read_only_int64():
    v = vsa.SparseVec(100, np.array([1, 5], np.uint16), (7, 9))
    assert v.pos.dtype == np.int64 and not v.pos.flags.writeable
    assert v.nnz == 4


def test_packed_constructor_rejects():
    ok = np.zeros(2, np.uint64)
    with pytest.raises(ValueError, match='dtype uint64'):
        vsa.PackedVec(100, ok.astype(np.int64), ok)
    with pytest.raises(ValueError, match='ceil'):
        vsa.PackedVec(100, np.zeros(3, np.uint64), ok)
    with pytest.raises(ValueError, match='C-contiguous'):
        vsa.PackedVec(100, np.zeros(4, np.uint64)[::2], ok)
    with pytest.raises(ValueError, match='numpy uint64 array'):
        vsa.PackedVec(100, [0, 0], ok)
    bad = np.array([0, 1 << 40], np.uint64)                # position 104 >= 100
    with pytest.raises(ValueError, match='padding bits'):
        vsa.PackedVec(100, bad, ok)
    one = np.array([1, 0], np.uint64)
    with pytest.raises(ValueError, match='overlap'):
        vsa.PackedVec(100, one, one.copy())


def test_block_constructor_rejects():
    u = np.uint64
    with pytest.raises(ValueError, match='empty'):
        vsa.BlockSparseVec(100, [0], np.array([0], u), np.array([0], u))
    with pytest.raises(ValueError, match='overlap'):
        vsa.BlockSparseVec(100, [0], np.array([1], u), np.array([1], u))
    with pytest.raises(ValueError, match='padding'):
        vsa.BlockSparseVec(100, [1], np.array([1 << 40], u), np.array([0], u))
    with pytest.raises(ValueError, match='one mask per block'):
        vsa.BlockSparseVec(100, [0, 1], np.array([1], u), np.array([0], u))
    with pytest.raises(ValueError, match='sorted'):
        vsa.BlockSparseVec(200, [1, 0], np.array([1, 1], u), np.array([0, 0], u))


@pytest.mark.parametrize('a, match', [
    (np.array([0, 2, 0], np.int8), 'only -1, 0 and \\+1'),
    (np.array([0.0, 1.0]), 'integer dtype'),
    (np.zeros((2, 2), np.int8), '1-D'),
    (np.zeros(0, np.int8), 'dimension >= 1'),
])
@pytest.mark.parametrize('cls', [vsa.SparseVec, vsa.PackedVec, vsa.BlockSparseVec])
def test_from_dense_rejects(cls, a, match):
    with pytest.raises(ValueError, match=match):
        cls.from_dense(a)


@pytest.mark.parametrize('cls', [vsa.SparseVec, vsa.PackedVec, vsa.BlockSparseVec])
def test_operations_reject_mismatched_dims_and_non_vectors(cls):
    a, b = cls.from_sparse(vsa.random(100, 10)), cls.from_sparse(vsa.random(101, 10))
    for op in ('bind', 'bundle', 'dot', 'cosine'):
        with pytest.raises(ValueError, match='dimension mismatch: 100 vs 101'):
            getattr(a, op)(b)
        with pytest.raises(ValueError, match='expected a SparseVec'):
            getattr(a, op)(np.zeros(100, np.int8))
    with pytest.raises(ValueError, match='shift must be an integer'):
        a.permute(1.5)
    with pytest.raises(ValueError, match='t must be >= 0'):
        a.thin(-1)
    with pytest.raises(ValueError, match='dimension mismatch'):
        vsa.bundle_many([a, b])


def test_function_forms_reject_non_vectors():
    with pytest.raises(ValueError, match='a must be a SparseVec'):
        vsa.bind([1, 0], vsa.random(2, 1))
    with pytest.raises(ValueError, match='at least one vector'):
        vsa.bundle_many([])
    with pytest.raises(ValueError, match='nnz must be in'):
        vsa.random(10, 11)
