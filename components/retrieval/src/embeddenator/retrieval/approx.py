"""Approximate two-stage search: candidates from the postings of the rarest dimensions, then exact scores.

Exact search must read every posting of every query dimension (or every row). This reads a fraction:

1. **Probe**: the `fraction` of all dimensions with the fewest postings (ties: lower dimension) are the probe
   dimensions, fixed per state of the index's postings. A reduced copy of the postings keeps only their lists, so
   a query's dot product restricted to them is counted for every row by the same C kernel as the exact inverted
   index, while reading about `fraction` of its postings and needing no per-query selection (a query's other
   dimensions have empty lists). Rare dimensions are also the telling ones: few rows share them.
2. **Re-rank**: the `candidates` best rows by that partial score are scored exactly from their packed rows, and
   the k best returned in the exact order (score descending, then id ascending).

A row is missed only when its partial score does not reach the candidates, so recall rises with `fraction`
(more of each query read) and `candidates` (a deeper first cut). A query that shares no probe dimension with its
answer cannot find it: probing a fraction f of the dimensions, a damaged stored row of n non-zeros keeps about
f * n of them probed. The defaults (1/8, 20) were chosen by `benchmarks/approx.py`: the smallest fraction, then
the fewest candidates, of its grid reaching recall@10 of 0.99 on damaged-row and bundle-of-3 queries at 100,000
rows (1/16 reached 0.90 on damaged rows; see the README's Performance section).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embeddenator import vsa
from embeddenator.retrieval import postings as lists

__all__ = ['Approx', 'DEFAULT', 'probe_dims', 'reduced_postings']


@dataclass(frozen=True)
class Approx:
    """Settings of approximate search: pass one as `strategy` to `Index.query` (`'approx'` means `Approx()`).

    `fraction`: the share of dimensions probed in the first stage, in (0, 1]; `candidates`: how many rows the
    first stage hands to exact re-ranking (at least k are used).

    >>> from embeddenator import vsa
    >>> from embeddenator.retrieval import Index
    >>> book = [vsa.random(1000, 60, seed=s) for s in range(50)]
    >>> index = Index.from_vectors(book)
    >>> ids, scores = index.query(book[7], k=3, strategy=Approx(fraction=0.25, candidates=8))
    >>> int(ids[0]), int(scores[0])
    (7, 60)
    """
    fraction: float = 1 / 8
    candidates: int = 20

    def __post_init__(self):
        if not 0 < self.fraction <= 1:
            raise ValueError(f'Approx fraction must be in (0, 1], got {self.fraction}')
        if int(self.candidates) != self.candidates or self.candidates < 1:
            raise ValueError(f'Approx candidates must be a positive integer, got {self.candidates}')


DEFAULT = Approx()


def probe_dims(postings, fraction: float) -> np.ndarray:
    """The `fraction` of dimensions with the fewest postings (at least one), ascending; ties: lower dimension.

    >>> from embeddenator import vsa
    >>> from embeddenator.retrieval.postings import from_codebook
    >>> book = vsa.PackedMatrix.from_dense(np.array([[1, 1, 0, 0], [1, 0, -1, 0]], np.int8))
    >>> probe_dims(from_codebook(4, 2, book.words), 0.5).tolist()
    [1, 3]
    """
    per_dim = np.diff(postings.plus_indptr) + np.diff(postings.minus_indptr)
    m = max(1, int(round(fraction * postings.dim)))
    return np.sort(np.argsort(per_dim, kind='stable')[:m])


def reduced_postings(postings, dims: np.ndarray):
    """A copy of `postings` keeping only the lists of `dims` (the others empty), over the same rows."""
    keep = np.zeros(postings.dim, bool)
    keep[dims] = True
    out = {}
    for sign in ('plus', 'minus'):
        indptr, rows = getattr(postings, f'{sign}_indptr'), getattr(postings, f'{sign}_rows')
        lens = np.diff(indptr)
        new = np.zeros(postings.dim + 1, np.int64)
        np.cumsum(np.where(keep, lens, 0), out=new[1:])
        out[f'{sign}_indptr'], out[f'{sign}_rows'] = new, np.ascontiguousarray(rows[np.repeat(keep, lens)])
    return lists.from_arrays(postings.dim, postings.n, out)


def query_batch(index, rows: tuple[np.ndarray, ...], k: int, settings: Approx) -> tuple[np.ndarray, np.ndarray]:
    """(ids, scores) of shape (queries, k) for queries given as CSR by row: candidates, then exact re-ranking."""
    index.refresh()                                 # the first stage needs every row in the postings
    probe = _probe(index, settings.fraction)
    n = index._n
    dead = np.flatnonzero(~index._alive[:n]) if index._dead else None
    c = min(max(int(settings.candidates), k), len(index))
    found, _ = probe.top_k(index._matrix(), *rows, c, dead, None)
    return rerank(index, rows, found, k)


def _probe(index, fraction: float):
    """The reduced postings for this state of the index's postings, made once and kept on the index."""
    cached = getattr(index, '_approx_probe', None)     # (postings, fraction, reduced): holds the postings, so
    if cached is None or cached[0] is not index._post or cached[1] != fraction:   # identity cannot be reused
        cached = (index._post, float(fraction), reduced_postings(index._post, probe_dims(index._post, fraction)))
        index._approx_probe = cached
    return cached[2]


def rerank(index, rows: tuple[np.ndarray, ...], found: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top k of each query among its candidate rows `found` (shape (queries, c)), as ids and scores: the
    queries are packed in one buffer and each scored against its own rows by `PackedMatrix.dot_rows`."""
    nq, c = found.shape
    words = vsa.aligned_words(nq * index._stride)
    lists.pack_rows(words, index.dim, 0, *rows)
    queries = vsa.PackedMatrix.from_buffer(index.dim, nq, words, check=False)
    scores = index._matrix().dot_rows(queries, found)
    ids = index._ids[found]
    order = np.lexsort((ids, -scores), axis=-1)[:, :min(k, c)]
    return np.take_along_axis(ids, order, 1), np.take_along_axis(scores, order, 1)
