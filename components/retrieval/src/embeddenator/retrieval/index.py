"""`Index`: a codebook of ternary hypervectors with stable integer ids and exact top-k queries.

Rows live in one packed buffer laid out as `vsa.PackedMatrix` rows, so a scan is the kernels' `top_k` over a
zero-copy view. The inverted index (the kernels' `PostingLists`) covers rows [0, postings.n); rows added since
(the tail) are scored from the packed rows until the tail grows past an eighth of the index, when the postings
are extended. Removal marks a row dead; dead rows are left out of results and dropped by `compact` (automatic
past a quarter of the rows). Vectors cross into the kernels as CSR by row (`postings.sparse_rows`), one call for
a whole batch.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from embeddenator import vsa
from embeddenator.retrieval import approx, metrics, storage
from embeddenator.retrieval import postings as lists
from embeddenator.retrieval.postings import PostingLists
from embeddenator.retrieval.topk import ordered, settled

STRATEGIES = ('auto', 'scan', 'inverted', 'approx')     # 'approx' (or an `approx.Approx`): see approx.py

# Cost model in nanoseconds per query, fitted to batches of 200 queries of 200 to 8,000 non-zeros over 10,000
# items at dim 10,000 (AVX-512, two shared cores; the two cross near 2,500 non-zeros): the scan costs the same
# whatever the query, the inverted index grows with the postings it reads. Both return identical results: a
# poor fit costs time, never accuracy.
SCAN_NS_PER_WORD = 0.09         # kernel scan, per codebook word
POSTING_NS = 0.5                # inverted: per posting read
ROW_NS = 0.5                    # inverted: per row counted and selected
TAIL_NS = 1.0                   # inverted: per row not yet in the postings and query non-zero (a bit test)
EXTEND_NS = 5.0                 # extending the postings, per posting in the index
_COMPACT_MIN = 1024             # dead rows tolerated before compaction, whatever the size
_TAIL_MIN = 256                 # rows scored from the packed rows before the postings must be extended
VECTOR_TYPES = (vsa.SparseVec, vsa.PackedVec, vsa.BlockSparseVec)


def sparse_rows(vectors, dim: int) -> tuple[np.ndarray, ...]:
    """Vectors as CSR by row (pos, pos_offsets, neg, neg_offsets); TypeError for a non-vector, ValueError for
    another dimension."""
    try:
        return lists.sparse_rows(vectors, dim)
    except ValueError:
        for v in vectors:
            if not isinstance(v, VECTOR_TYPES):
                raise TypeError(f'expected a vsa vector (SparseVec, PackedVec, BlockSparseVec), '
                                f'got {type(v).__name__}') from None
        raise


class Index:
    """Exact top-k retrieval by dot product over vectors with stable integer ids (ties: smaller id first).

    >>> from embeddenator import vsa
    >>> vectors = [vsa.random(1000, 20, seed=s) for s in range(5)]
    >>> index = Index.from_vectors(vectors)
    >>> ids, scores = index.query(vectors[3], k=2)
    >>> int(ids[0]), int(scores[0])
    (3, 20)
    >>> index.remove(3)
    >>> 3 in index, len(index)
    (False, 4)
    """

    def __init__(self, dim: int = vsa.DEFAULT_DIM):
        self.dim = int(dim)
        self._nw, self._half, self._stride = vsa.row_layout(self.dim)
        self._words = vsa.aligned_words(0)      # capacity * stride words; read-only when memory-mapped
        self._ids = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._n = self._dead = self._next_id = self._pairs = 0
        self._row_of: dict[int, int] = {}
        self._ids_sorted = True                 # ids increase with the row: kernel order is result order
        self._post = lists.empty(self.dim)
        self._tail: list[tuple[np.ndarray, ...]] = []     # CSR-by-row runs of the rows the postings lack
        self._tail_paid = 0.0                   # estimated ns spent scoring those rows since the last extension
        self._view = None

    # ----- contents

    def __len__(self) -> int:
        return self._n - self._dead

    def __contains__(self, id_) -> bool:
        return int(id_) in self._row_of

    def __repr__(self) -> str:
        return f'Index(dim={self.dim}, items={len(self)})'

    @property
    def ids(self) -> np.ndarray:
        """Live ids in storage order."""
        return self._ids[:self._n][self._alive[:self._n]]

    def vector(self, id_) -> 'vsa.PackedVec':
        """The stored vector of `id_` (packed); KeyError if no live vector has that id."""
        return self._matrix().row(self._row(id_))

    @classmethod
    def from_vectors(cls, vectors: Sequence, ids=None, dim: int | None = None) -> 'Index':
        """An index holding `vectors` (ids 0.. unless given); `dim` is needed only when there are none.

        >>> from embeddenator import vsa
        >>> Index.from_vectors([vsa.random(64, 4, seed=1)], ids=[7]).ids.tolist()
        [7]
        """
        if dim is None:
            if not len(vectors):
                raise ValueError('from_vectors needs a dim when there are no vectors')
            dim = vectors[0].dim
        index = cls(dim)
        index.add_many(vectors, ids)
        return index

    # ----- changes

    def add(self, vec, id=None) -> int:
        """Add one vector; returns its id (the next free one unless given)."""
        return int(self.add_many([vec], None if id is None else [id])[0])

    def add_many(self, vectors: Sequence, ids=None) -> np.ndarray:
        """Add vectors in order; returns their ids (int64)."""
        with metrics.timer('add'):
            rows = sparse_rows(vectors, self.dim)
            m = len(rows[1]) - 1
            new = self._new_ids(m, ids)
            n0, n1 = self._n, self._n + m
            self._reserve(n1)
            lists.pack_rows(self._words, self.dim, n0, *rows)
            self._ids[n0:n1], self._alive[n0:n1] = new, True
            self._row_of.update(zip(new.tolist(), range(n0, n1)))
            self._n, self._view = n1, None
            self._pairs += len(rows[0]) + len(rows[2])
            if m:
                self._tail.append(rows)
        metrics.ADDED.inc(m)
        metrics.ITEMS.set(len(self))
        return new

    def remove(self, id_) -> None:
        """Remove the vector with this id (KeyError if absent); its id may be reused."""
        with metrics.timer('remove'):
            row = self._row(id_)
            del self._row_of[int(id_)]
            self._alive[row] = False
            self._dead += 1
            if self._dead > max(_COMPACT_MIN, self._n // 4):
                self.compact()
        metrics.REMOVED.inc()
        metrics.ITEMS.set(len(self))

    def compact(self) -> None:
        """Drop removed rows from the codebook and the postings (ids are kept)."""
        if not self._dead:
            return
        with metrics.timer('compact'):
            self.refresh()
            keep = self._alive[:self._n].copy()
            rows = np.flatnonzero(keep)
            words = vsa.aligned_words(len(rows) * self._stride)
            words.reshape(-1, self._stride)[:] = self._words[:self._n * self._stride].reshape(-1, self._stride)[rows]
            self._restore(words, self._ids[rows], lists.from_codebook(self.dim, len(rows), words), self._next_id)

    def refresh(self) -> None:
        """Bring the inverted index up to date with every row (queries do it when it pays)."""
        if not self._tail:
            return
        with metrics.timer('postings'):
            self._post = self._post.extended(*lists.join_rows(self._tail))
            self._tail, self._tail_paid = [], 0.0

    # ----- queries

    def query(self, vec, k: int = 10, strategy: str = 'auto') -> tuple[np.ndarray, np.ndarray]:
        """The k best (ids, scores) by exact dot product, score descending then id ascending."""
        ids, scores = self.query_batch([vec], k, strategy)
        return ids[0], scores[0]

    def query_batch(self, vectors, k: int = 10, strategy: str = 'auto') -> tuple[np.ndarray, np.ndarray]:
        """`query` for each vector (a sequence or a vsa.PackedMatrix): (ids, scores) of shape (Q, min(k, len)).

        `strategy='approx'` or an `Approx(fraction, candidates)` searches approximately (approx.py): the scores
        returned are exact, but a row may be missed."""
        settings = approx.DEFAULT if strategy == 'approx' else (
            strategy if isinstance(strategy, approx.Approx) else None)
        if settings is None and strategy not in STRATEGIES:
            raise ValueError(f'strategy must be one of {STRATEGIES} or an Approx, got {strategy!r}')
        if isinstance(vectors, vsa.PackedMatrix):
            vectors = [vectors.row(i) for i in range(len(vectors))]
        if int(k) < 0:
            raise ValueError(f'k must be >= 0, got {k}')
        kk = min(int(k), len(self))
        out_ids = np.zeros((len(vectors), kk), np.int64)
        out_scores = np.zeros((len(vectors), kk), np.int64)
        if not len(vectors) or not kk:
            return out_ids, out_scores
        with metrics.timer('query_batch' if len(vectors) > 1 else 'query'):
            rows = sparse_rows(vectors, self.dim)
            if settings is not None:
                metrics.queries('approx').inc(len(vectors))
                return approx.query_batch(self, rows, kk, settings)
            inverted = self._plan(np.diff(rows[1]) + np.diff(rows[3]), strategy)
            for use, name in ((inverted, 'inverted'), (~inverted, 'scan')):
                which = np.flatnonzero(use)
                if not len(which):
                    continue
                if name == 'inverted':
                    part = rows if len(which) == len(vectors) else lists.select_rows(rows, which)
                    found = self._inverted(part, kk)
                else:
                    found = self._scan([vectors[i] for i in which], kk)
                out_ids[which], out_scores[which] = found
                metrics.queries(name).inc(len(which))
        return out_ids, out_scores

    def choose(self, vec) -> str:
        """The strategy `query` would use for this vector."""
        rows = sparse_rows([vec], self.dim)
        return 'inverted' if self._plan(np.diff(rows[1]) + np.diff(rows[3]), 'auto')[0] else 'scan'

    def _plan(self, nnz: np.ndarray, strategy: str) -> np.ndarray:
        """Per query (by its non-zero count): True for the inverted index, False for the scan (the cheaper by the
        cost model)."""
        if strategy != 'auto':
            return np.full(len(nnz), strategy == 'inverted')
        touched = nnz * (self._pairs / self.dim)       # postings per query dimension, on average
        inverted = POSTING_NS * touched + ROW_NS * self._n + TAIL_NS * nnz * (self._n - self._post.n)
        return inverted < SCAN_NS_PER_WORD * self._n * 2 * self._nw

    def _scan(self, vectors, k: int):
        matrix = self._matrix()
        if not self._dead and self._ids_sorted:        # kernel order (score, row) is (score, id)
            rows, scores = matrix.top_k_batch(vectors, k)
            return self._ids[rows], scores
        out = [self._scan_one(matrix, v, k) for v in vectors]
        return np.stack([i for i, _ in out]), np.stack([s for _, s in out])

    def _scan_one(self, matrix, vec, k: int):
        """Fetch more than k until the dead rows are skipped and no tie crosses the cut, then order by id."""
        fetch = min(self._n, k + self._dead + (0 if self._ids_sorted else 1))
        while True:
            rows, scores = matrix.top_k(vec, fetch)
            live = self._alive[rows]
            rows, scores = rows[live], scores[live]
            if self._ids_sorted or fetch == self._n or settled(scores, k):
                return ordered(self._ids[rows], scores, k)
            fetch = min(self._n, 2 * fetch)

    def _inverted(self, rows: tuple[np.ndarray, ...], k: int):
        """Exact top-k from the postings (rows not yet in them scored from the packed rows), in the kernel."""
        # Extend the postings once the tail has cost the queries as much as extending would (so never more than
        # twice the better choice in hindsight), and anyway past an eighth of the index.
        tail = self._n - self._post.n
        self._tail_paid += TAIL_NS * tail * (len(rows[0]) + len(rows[2]))
        if tail > max(_TAIL_MIN, self._n // 8) or self._tail_paid > EXTEND_NS * self._pairs:
            self.refresh()
        n = self._n
        dead = np.flatnonzero(~self._alive[:n]) if self._dead else None
        found, scores = self._post.top_k(self._matrix(), *rows, k, dead, None if self._ids_sorted else self._ids[:n])
        return self._ids[found], scores

    # ----- files

    def save(self, folder):
        """Write the index into `folder` (index.edn, codebook.edn, postings.edn), each file replaced atomically."""
        return storage.save(self, folder)

    @classmethod
    def load(cls, folder) -> 'Index':
        """Read an index saved by `save`, memory-mapping its codebook; io.FormatError names a damaged file."""
        return cls._loaded(*storage.load(folder))

    @classmethod
    def rebuild(cls, folder) -> 'Index':
        """Load an index whose postings are damaged or missing: recompute them from the codebook, rewrite them."""
        return cls._loaded(*storage.load(folder, rebuild=True))

    @classmethod
    def _loaded(cls, meta, words, ids, postings) -> 'Index':
        index = cls(meta['dim'])
        index._restore(words, ids, postings, meta['next_id'])
        return index

    # ----- storage

    def _matrix(self):
        if self._view is None:
            self._view = vsa.PackedMatrix.from_buffer(self.dim, self._n, self._words[:self._n * self._stride],
                                                      check=False)
        return self._view

    def _row(self, id_) -> int:
        try:
            return self._row_of[int(id_)]
        except KeyError:
            raise KeyError(f'id {id_} is not in the index') from None

    def _new_ids(self, m: int, ids) -> np.ndarray:
        if ids is None:
            new = np.arange(self._next_id, self._next_id + m, dtype=np.int64)
        else:
            new = np.asarray(ids)
            if new.shape != (m,) or (m and not np.issubdtype(new.dtype, np.integer)):
                raise ValueError(f'ids must be {m} integers, got {new.dtype} of shape {new.shape}')
            new = new.astype(np.int64)
            if m and (new.min() < 0 or len(np.unique(new)) != m):
                raise ValueError('ids must be distinct non-negative integers')
            taken = [i for i in new.tolist() if i in self._row_of]
            if taken:
                raise ValueError(f'ids already in the index: {taken[:5]}')
        if m:
            last = self._ids[self._n - 1] if self._n else -1
            self._ids_sorted &= bool(new[0] > last and np.all(np.diff(new) > 0))
            self._next_id = max(self._next_id, int(new.max()) + 1)
        return new

    def _reserve(self, rows: int) -> None:
        """Room for `rows` rows in writable buffers (copying a memory-mapped codebook on first change)."""
        capacity = len(self._words) // self._stride
        if rows <= capacity and self._words.flags.writeable:
            return
        capacity = max(rows, 2 * capacity, 64)
        used = self._n * self._stride
        words = vsa.aligned_words(capacity * self._stride)
        words[:used] = self._words[:used]
        ids, alive = np.zeros(capacity, np.int64), np.zeros(capacity, bool)
        ids[:self._n], alive[:self._n] = self._ids[:self._n], self._alive[:self._n]
        self._words, self._ids, self._alive = words, ids, alive

    def _restore(self, words, ids: np.ndarray, postings: PostingLists, next_id: int) -> None:
        """Adopt a compacted state: `words` holds exactly len(ids) rows, every one live and in `postings`."""
        n = len(ids)
        self._words, self._ids, self._alive = words, np.asarray(ids, np.int64), np.ones(n, bool)
        self._n, self._dead, self._next_id, self._view, self._tail, self._tail_paid = n, 0, next_id, None, [], 0.0
        self._post = postings
        self._pairs = len(postings)
        self._row_of = dict(zip(self._ids.tolist(), range(n)))
        self._ids_sorted = bool(np.all(np.diff(self._ids) > 0))
        metrics.ITEMS.set(n)
