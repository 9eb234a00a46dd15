"""What numpy alone does with the same data: the same-run references the wall-clock groups are measured against.

Packed vectors are two uint64 bitplanes (+1 bits, -1 bits); the ternary dot product of a row with a query is
popcount(P&qp) + popcount(N&qn) - popcount(P&qn) - popcount(N&qp), done here with `np.bitwise_count`.
"""
from __future__ import annotations

import numpy as np


def planes(vectors) -> tuple[np.ndarray, np.ndarray]:
    """(N, W) uint64 arrays of the +1 and -1 bitplanes of packed vectors."""
    return (np.ascontiguousarray([v.pos_words for v in vectors], dtype=np.uint64),
            np.ascontiguousarray([v.neg_words for v in vectors], dtype=np.uint64))


def scores(pos: np.ndarray, neg: np.ndarray, qpos: np.ndarray, qneg: np.ndarray) -> np.ndarray:
    """Ternary dot products of every row with one query."""
    def pc(a, b):
        return np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
    return pc(pos, qpos) + pc(neg, qneg) - pc(pos, qneg) - pc(neg, qpos)


def top_k(pos, neg, qpos, qneg, k: int) -> np.ndarray:
    """Ids of the k best rows (score descending, then id ascending)."""
    s = scores(pos, neg, qpos, qneg)
    return np.lexsort((np.arange(len(s)), -s))[:k]


def read_all(words: np.ndarray) -> int:
    """Read every word once (a vectorised OR-reduction): the memory bandwidth probe."""
    return int(np.bitwise_or.reduce(words, axis=None))


def bundle(group: list[tuple[np.ndarray, np.ndarray]], dim: int, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Majority bundle of sparse (pos, neg) index pairs, thinned to the `keep` strongest coordinates."""
    total = (np.bincount(np.concatenate([p for p, _ in group]), minlength=dim).astype(np.int32)
             - np.bincount(np.concatenate([n for _, n in group]), minlength=dim))
    nz = np.flatnonzero(total)
    if len(nz) > keep:
        nz = np.sort(nz[np.argsort(-np.abs(total[nz]), kind='stable')[:keep]])
    return nz[total[nz] > 0], nz[total[nz] < 0]


def hierarchy(items: list, dim: int, fanout: int, keep: int):
    """Bundle `items` level by level, `fanout` at a time, until one root remains; the root."""
    level = items
    while len(level) > 1:
        level = [bundle(level[i:i + fanout], dim, keep) for i in range(0, len(level), fanout)]
    return level[0]
