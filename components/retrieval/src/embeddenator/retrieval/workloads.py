"""Reproducible query workloads for measuring approximate search, and the recall that scores them.

Three kinds, each from a seed so a benchmark and a test see the same queries:

- `cleanup`: a stored vector with a fraction of its non-zeros damaged (each damaged one flipped or dropped with
  even odds); the stored vector is the one right answer (a cleanup memory).
- `bundles`: the bundle (sign of the sum) of `m` stored vectors; all `m` are the right answers.
- `uniform`: random vectors unrelated to the codebook; the right answers are whatever exact search returns.

`recall` scores planted answers (the fraction found in the top k); `overlap` scores against an exact answer, with
ties at the k-th score counted as found (any of the tied rows is as right as another).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from embeddenator import vsa

__all__ = ['bundles', 'cleanup', 'overlap', 'recall', 'uniform']


def cleanup(vectors: Sequence, count: int, noise: float = 0.3, seed: int = 0):
    """`count` queries, each a stored vector with `noise` of its non-zeros flipped or dropped: (queries, truth).

    `truth` is an int64 array of shape (count, 1): the position in `vectors` of each query's source.

    >>> from embeddenator import vsa
    >>> book = [vsa.random(1000, 40, seed=s) for s in range(10)]
    >>> queries, truth = cleanup(book, 3, seed=1)
    >>> truth.shape, all(q.dot(book[int(t)]) > 10 for q, t in zip(queries, truth[:, 0]))
    ((3, 1), True)
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(vectors), count)
    return [_damaged(vectors[int(t)].to_sparse(), noise, rng) for t in truth], truth[:, None].astype(np.int64)


def _damaged(v: 'vsa.SparseVec', noise: float, rng) -> 'vsa.SparseVec':
    signs = np.concatenate([np.ones(len(v.pos), np.int8), -np.ones(len(v.neg), np.int8)])
    where = np.concatenate([v.pos, v.neg])
    hit = rng.choice(len(where), int(round(noise * len(where))), replace=False)
    flip = rng.random(len(hit)) < 0.5
    signs[hit[flip]] *= -1
    signs[hit[~flip]] = 0
    return vsa.SparseVec(v.dim, np.sort(where[signs > 0]), np.sort(where[signs < 0]))


def bundles(vectors: Sequence, count: int, m: int = 3, seed: int = 0):
    """`count` queries, each the bundle of `m` distinct stored vectors: (queries, truth of shape (count, m)).

    >>> from embeddenator import vsa
    >>> book = [vsa.random(1000, 40, seed=s) for s in range(10)]
    >>> queries, truth = bundles(book, 2, seed=1)
    >>> truth.shape, len(set(truth[0].tolist()))
    ((2, 3), 3)
    """
    rng = np.random.default_rng(seed)
    truth = np.stack([rng.choice(len(vectors), m, replace=False) for _ in range(count)]).astype(np.int64)
    return [vsa.bundle_many([vectors[int(i)] for i in row]) for row in truth], truth


def uniform(dim: int, count: int, nnz: int = vsa.DEFAULT_NNZ, seed: int = 0):
    """`count` random vectors (no planted answer): seeds `seed * count`, ... so two calls never share a vector.

    >>> len(uniform(1000, 4, 40, seed=2))
    4
    """
    return [vsa.random(dim, nnz, seed=1_000_000_007 + seed * count + i) for i in range(count)]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean over queries of the fraction of each query's planted answers (`truth` rows) among its `found` ids.

    >>> recall(np.array([[3, 1], [0, 2]]), np.array([[1], [5]]))
    0.5
    """
    found, truth = np.asarray(found), np.asarray(truth)
    if not len(truth):
        return 1.0
    hits = (truth[:, :, None] == found[:, None, :]).any(axis=2)
    return float(hits.mean())


def overlap(found_scores: np.ndarray, exact_scores: np.ndarray) -> float:
    """Recall of an approximate top k against the exact one, by score: the fraction of the exact k reached, each
    found row counting when its exact score is at least the exact k-th score (so ties are interchangeable).

    Both arguments are the exact scores, of shape (queries, k), of the rows returned by each search.

    >>> overlap(np.array([[9, 4, 1]]), np.array([[9, 5, 4]]))
    0.6666666666666666
    """
    found_scores, exact_scores = np.asarray(found_scores), np.asarray(exact_scores)
    if not exact_scores.size:
        return 1.0
    kth = exact_scores[:, -1:]
    return float(np.minimum((found_scores >= kth).sum(axis=1), exact_scores.shape[1]).mean() / exact_scores.shape[1])
