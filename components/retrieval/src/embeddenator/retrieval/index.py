"""`Index`: a codebook of ternary hypervectors with stable integer ids and exact top-k queries.

Rows live in one packed buffer laid out as `vsa.PackedMatrix` rows, so a scan is the kernels' `top_k` over a
zero-copy view. The inverted index covers rows [0, postings.n); rows added since (the tail) are scored by the
kernel until the tail grows past an eighth of the index, when the postings are extended. Removal marks a row
dead; dead rows are filtered from results and dropped by `compact` (automatic past a quarter of the rows).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from embeddenator import vsa
from embeddenator.retrieval import metrics, storage
from embeddenator.retrieval.postings import Postings
from embeddenator.retrieval.topk import ordered, settled, top_k_dense

STRATEGIES = ('auto', 'scan', 'inverted')

# Cost model in nanoseconds per query, fitted to batches of 100 queries of 50 to 4,000 non-zeros over 10,000
# items at dim 10,000 (AVX-512, two shared cores): the scan costs the same whatever the query, the inverted
# index grows with the postings it reads. Both return identical results: a poor fit costs time, never accuracy.
SCAN_NS_PER_WORD = 0.35         # kernel scan, per codebook word
POSTING_NS = 13.0               # inverted: per posting read
ROW_NS = 40.0                   # inverted: per row counted and selected
_CHUNK_CELLS = 1 << 17          # scores per block of a batched inverted query (1 MiB of int64: stays in cache)
_COMPACT_MIN = 1024             # dead rows tolerated before compaction, whatever the size
_TAIL_MIN = 256                 # rows the kernel scores before the postings are extended


def sparse_form(vec, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(+1 positions, -1 positions) of any vsa vector, as int64 arrays; ValueError on another dimension."""
    sv = vec if isinstance(vec, vsa.SparseVec) else getattr(vec, 'to_sparse', None)
    if sv is None:
        raise TypeError(f'expected a vsa vector (SparseVec, PackedVec, BlockSparseVec), got {type(vec).__name__}')
    sv = sv if isinstance(sv, vsa.SparseVec) else sv()
    if sv.dim != dim:
        raise ValueError(f'vector has dim {sv.dim}, the index has dim {dim}')
    return np.asarray(sv.pos, np.int64), np.asarray(sv.neg, np.int64)


class Index:
    """Exact top-k retrieval by dot product over vectors with stable integer ids (ties: smaller id first)."""

    def __init__(self, dim: int = vsa.DEFAULT_DIM):
        self.dim = int(dim)
        self._nw, self._half, self._stride = vsa.row_layout(self.dim)
        self._words = vsa.aligned_words(0)      # capacity * stride words; read-only when memory-mapped
        self._ids = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._n = self._dead = self._next_id = self._pairs = 0
        self._row_of: dict[int, int] = {}
        self._ids_sorted = True                 # ids increase with the row: kernel order is result order
        self._post = Postings.empty(self.dim)
        self._tail: list[tuple[np.ndarray, ...]] = []
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
        return self._matrix().row(self._row(id_))

    @classmethod
    def from_vectors(cls, vectors: Sequence, ids=None, dim: int | None = None) -> 'Index':
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
            forms = [sparse_form(v, self.dim) for v in vectors]
            new = self._new_ids(len(forms), ids)
            n0, n1 = self._n, self._n + len(forms)
            self._reserve(n1)
            plus = _pairs([p for p, _ in forms], n0)
            minus = _pairs([m for _, m in forms], n0)
            _set_bits(self._words, *plus, self._stride, 0)
            _set_bits(self._words, *minus, self._stride, self._half)
            self._ids[n0:n1], self._alive[n0:n1] = new, True
            self._row_of.update(zip(new.tolist(), range(n0, n1)))
            self._n, self._view = n1, None
            self._pairs += len(plus[0]) + len(minus[0])
            if len(forms):
                self._tail.append((*plus, *minus))
        metrics.ADDED.inc(len(forms))
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
            self._restore(words, self._ids[rows], self._post.kept(keep), self._next_id)

    def refresh(self) -> None:
        """Bring the inverted index up to date with every row (queries do it when it pays)."""
        if not self._tail:
            return
        with metrics.timer('postings'):
            parts = [np.concatenate(col) for col in zip(*self._tail)]
            self._post = self._post.extended(self._n, (parts[0], parts[1]), (parts[2], parts[3]))
            self._post.signed()
            self._tail = []

    # ----- queries

    def query(self, vec, k: int = 10, strategy: str = 'auto') -> tuple[np.ndarray, np.ndarray]:
        """The k best (ids, scores) by exact dot product, score descending then id ascending."""
        ids, scores = self.query_batch([vec], k, strategy)
        return ids[0], scores[0]

    def query_batch(self, vectors, k: int = 10, strategy: str = 'auto') -> tuple[np.ndarray, np.ndarray]:
        """`query` for each vector (a sequence or a vsa.PackedMatrix): (ids, scores) of shape (Q, min(k, len))."""
        if strategy not in STRATEGIES:
            raise ValueError(f'strategy must be one of {STRATEGIES}, got {strategy!r}')
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
            forms = [sparse_form(v, self.dim) for v in vectors]
            inverted = self._plan(forms, strategy)
            for use, run, name in ((inverted, self._inverted, 'inverted'), (~inverted, self._scan, 'scan')):
                which = np.flatnonzero(use)
                if len(which):
                    out_ids[which], out_scores[which] = run([vectors[i] for i in which],
                                                            [forms[i] for i in which], kk)
                    metrics.queries(name).inc(len(which))
        return out_ids, out_scores

    def choose(self, vec) -> str:
        """The strategy `query` would use for this vector."""
        return 'inverted' if self._plan([sparse_form(vec, self.dim)], 'auto')[0] else 'scan'

    def _plan(self, forms, strategy: str) -> np.ndarray:
        """Per query: True for the inverted index, False for the scan (the cheaper by the cost model)."""
        if strategy != 'auto':
            return np.full(len(forms), strategy == 'inverted')
        nnz = np.array([len(p) + len(m) for p, m in forms], dtype=np.float64)
        touched = nnz * self._pairs / self.dim          # postings per query dimension, on average
        return POSTING_NS * touched + ROW_NS * self._n < SCAN_NS_PER_WORD * self._n * 2 * self._nw

    def _scan(self, vectors, forms, k: int):
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

    def _inverted(self, vectors, forms, k: int):
        if self._n - self._post.n > max(_TAIL_MIN, self._n // 8):
            self.refresh()
        n, covered = self._n, self._post.n
        ids = self._ids[:n]
        rank = None if self._ids_sorted else np.argsort(np.argsort(ids))
        dead = ~self._alive[:n] if self._dead else None
        tail = self._tail_matrix() if n > covered else None
        out_ids, out_scores = [], []
        step = max(1, _CHUNK_CELLS // n)
        for c in range(0, len(forms), step):
            scores = np.empty((len(forms[c:c + step]), n), np.int64)
            scores[:, :covered] = self._post.scores(forms[c:c + step])
            if tail is not None:
                rows, part = tail.top_k_batch(vectors[c:c + step], n - covered)
                np.put_along_axis(scores[:, covered:], rows, part, axis=1)
            if dead is not None:
                scores[:, dead] = -(self.dim + 1)      # below any dot product; k <= live rows keeps them out
            top = top_k_dense(scores, ids, k, -(self.dim + 1), rank)
            out_ids.append(top[0])
            out_scores.append(top[1])
        return np.concatenate(out_ids), np.concatenate(out_scores)

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

    def _tail_matrix(self):
        lo, hi = self._post.n * self._stride, self._n * self._stride
        return vsa.PackedMatrix.from_buffer(self.dim, self._n - self._post.n, self._words[lo:hi], check=False)

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

    def _restore(self, words, ids: np.ndarray, postings: Postings, next_id: int) -> None:
        """Adopt a compacted state: `words` holds exactly len(ids) rows, every one live and in `postings`."""
        n = len(ids)
        self._words, self._ids, self._alive = words, np.asarray(ids, np.int64), np.ones(n, bool)
        self._n, self._dead, self._next_id, self._view, self._tail = n, 0, next_id, None, []
        self._post = postings
        self._pairs = len(postings.plus_rows) + len(postings.minus_rows)
        self._row_of = dict(zip(self._ids.tolist(), range(n)))
        self._ids_sorted = bool(np.all(np.diff(self._ids) > 0))
        metrics.ITEMS.set(n)


def _pairs(parts: list[np.ndarray], first_row: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, positions) of a run of vectors starting at `first_row`, row by row."""
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows = np.repeat(np.arange(first_row, first_row + len(parts), dtype=np.int64), [len(p) for p in parts])
    return rows, np.concatenate(parts).astype(np.int64, copy=False)


def _set_bits(words: np.ndarray, rows: np.ndarray, positions: np.ndarray, stride: int, plane: int) -> None:
    """Set bit `position` of the plane at word offset `plane` in each new (all-zero) row (vsa.PackedMatrix
    layout). Pairs come row by row with sorted positions, so the target words are non-decreasing and one
    `reduceat` ORs together the bits that share a word."""
    if not len(rows):
        return
    keys = rows * stride + plane + (positions >> 6)
    bits = np.left_shift(np.uint64(1), (positions & 63).astype(np.uint64))
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    words[keys[starts]] = np.bitwise_or.reduceat(bits, starts)
