"""Dense float embeddings -> ternary hypervectors, by a documented rule.

Rule (`top-k signs`): for each row, keep the `k` entries of largest magnitude and store their signs (+1 / -1);
every other entry becomes 0. Ties in magnitude go to the smaller index; exact zeros are never kept (they have no
sign), so a row may end with fewer than `k` non-zeros. The dimension is the embedding's width.

Why: the dot product of two ternary vectors made this way tracks the cosine of the embeddings' dominant
components, which is what retrieval ranks by; the rule is deterministic and idempotent (quantizing a ternary
vector with at least its number of non-zeros gives it back), so it can be tested as a round trip.
"""
from __future__ import annotations

import numpy as np

from embeddenator import vsa
from embeddenator.interop.arrays import InteropError


def quantize(embeddings, k: int | None = None) -> list[vsa.SparseVec]:
    """Ternary vectors from a (n, d) or (d,) float array, keeping the top `k` magnitudes (default d // 50, >= 1).

    >>> from embeddenator import interop
    >>> ternary = interop.quantize([[0.5, -2.0, 0.0, 1.0], [0.0, 0.0, 0.0, 3.0]], k=2)
    >>> interop.to_float(ternary).tolist()
    [[0.0, -1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]
    """
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] == 0:
        raise InteropError(f'embeddings must be a (n, d) or (d,) array with d > 0, got shape {x.shape}')
    if not np.isfinite(x).all():
        raise InteropError('embeddings contain NaN or infinity; clean them first')
    d = x.shape[1]
    k = max(1, d // 50) if k is None else int(k)
    if not 1 <= k <= d:
        raise InteropError(f'k={k} must be between 1 and the embedding width {d}')
    # stable sort on -|x|: equal magnitudes keep index order, so ties go to the smaller index
    top = np.argsort(-np.abs(x), axis=1, kind='stable')[:, :k]
    out = []
    for row, keep in zip(x, top):
        keep = np.sort(keep[row[keep] != 0])
        out.append(vsa.SparseVec(d, keep[row[keep] > 0].astype(np.int64), keep[row[keep] < 0].astype(np.int64)))
    return out


def to_float(vectors) -> np.ndarray:
    """Ternary vectors as a float32 (n, dim) matrix (for libraries that want floats)."""
    return np.stack([np.asarray(v.to_dense(), dtype=np.float32) for v in vectors])
