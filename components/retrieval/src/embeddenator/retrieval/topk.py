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
