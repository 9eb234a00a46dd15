"""The sparse dot's sign table at its dimension limit (32,768 positions on the stack), against numpy.

Random vectors almost never touch the last position, so an off-by-one in the table's size or in the limit that
picks it writes one byte out of bounds and still returns the right number. These cases set the last position
on both sides of the limit; the ASan build of `doit audit` runs this folder and reports such a write.
"""
import numpy as np
import pytest

from embeddenator import vsa

LIMIT = 32_768      # KRN_SIGN_TABLE_MAX in pyx/sparse.h: dims up to this use the table, larger ones merge
DIMS = [LIMIT - 1, LIMIT, LIMIT + 1]
# (sign of a, sign of b) at the last position: every pair the table stores and reads there.
LAST = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (0, -1)]


def pair(dim, last, nnz):
    """Two int8 vectors with random support of about `nnz` each and the given signs at position dim - 1."""
    rng = np.random.default_rng(dim * 7 + nnz)
    vecs = []
    for sign in last:
        v = np.zeros(dim, np.int8)
        at = rng.choice(dim - 1, size=nnz, replace=False)
        v[at] = rng.choice(np.array([-1, 1], np.int8), size=nnz)
        v[at[: nnz // 2]] = 1       # shared support with the other vector: a non-trivial dot
        v[-1] = sign
        vecs.append(v)
    return vecs


@pytest.mark.parametrize('dim', DIMS)
@pytest.mark.parametrize('last', LAST)
@pytest.mark.parametrize('nnz', [3, 2000])     # both sides of the GIL-release threshold (1,024 indices)
def test_sparse_dot_and_cosine_with_the_last_position_set(path, dim, last, nnz):
    a, b = pair(dim, last, nnz)
    x, y = vsa.SparseVec.from_dense(a), vsa.SparseVec.from_dense(b)
    expected = int(np.dot(a.astype(np.int64), b))
    assert x.dot(y) == vsa.dot(x, y) == expected
    assert y.dot(x) == expected
    norm = np.sqrt(float(np.count_nonzero(a)) * np.count_nonzero(b))
    assert x.cosine(y) == pytest.approx(expected / norm, abs=1e-12)
    assert vsa.cosine(x, y) == pytest.approx(expected / norm, abs=1e-12)


@pytest.mark.parametrize('dim', DIMS)
def test_only_the_last_position_set(path, dim):
    a = np.zeros(dim, np.int8)
    a[-1] = -1
    x = vsa.SparseVec.from_dense(a)
    assert x.dot(x) == 1
    assert x.cosine(x) == pytest.approx(1.0)
    assert x.dot(vsa.SparseVec.from_dense(-a)) == -1
