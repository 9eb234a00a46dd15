"""Exact top-k selection with the one ordering every strategy must agree on: score descending, then id ascending."""
from __future__ import annotations

import numpy as np


def ordered(ids: np.ndarray, scores: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Candidates sorted by (score desc, id asc), the first k kept."""
    order = np.lexsort((ids, -scores))[:k]
    return ids[order].astype(np.int64), scores[order].astype(np.int64)


def settled(scores: np.ndarray, k: int) -> bool:
    """Whether the first k of a score-descending list are cut off from the rest (no tie across the cut)."""
    return len(scores) > k and scores[k] < scores[k - 1]


def top_k_dense(scores: np.ndarray, ids: np.ndarray, k: int, low: int,
                rank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top k of each row of `scores` (Q, m), column j being id ids[j]: (ids, scores), both (Q, min(k, m)).

    Consumes `scores` (overwritten in place). Each score becomes one unique key, (score - low) * m + (m - 1 -
    rank of the id), so a larger key is a higher score or, on a tie, a smaller id: an in-place partition finds
    the k largest keys, which decode back to score and column. `low` is a lower bound of every score; `rank`
    ranks ids ascending (None: they already ascend with the column).
    """
    q, m = scores.shape
    k = min(k, m)
    if k <= 0 or q == 0:
        return np.zeros((q, 0), np.int64), np.zeros((q, 0), np.int64)
    keys = scores
    keys -= low
    keys *= m
    keys += np.arange(m - 1, -1, -1, dtype=np.int64) if rank is None else (m - 1 - rank)
    keys.partition(m - k, axis=1)
    best = -np.sort(-keys[:, m - k:], axis=1)         # the k largest keys, descending
    position = m - 1 - best % m                        # the id's rank (the column when ids ascend)
    cols = position if rank is None else np.argsort(rank)[position]
    return ids[cols].astype(np.int64), best // m + low
