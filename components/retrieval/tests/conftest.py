import numpy as np
import pytest

from embeddenator import vsa


def reference(dense_rows: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int):
    """Brute force: exact dot products, score descending then id ascending."""
    scores = dense_rows.astype(np.int64) @ query.astype(np.int64)
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


def ternary(rng, dim: int, nnz: int) -> 'vsa.SparseVec':
    dense = np.zeros(dim, np.int8)
    where = rng.choice(dim, size=nnz, replace=False)
    dense[where] = rng.choice(np.array([-1, 1], np.int8), size=nnz)
    return vsa.SparseVec.from_dense(dense)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
