"""The inverted index: for every dimension, the rows holding +1 there and the rows holding -1 (CSR by dimension).

For a sparse query with +1 set P and -1 set N, a row's dot product is
    |rows with +1 in P| + |rows with -1 in N| - |rows with -1 in P| - |rows with +1 in N|,
so counting postings gives every row's exact score; rows no posting touches score exactly 0.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

FIELDS = ('plus_indptr', 'plus_rows', 'minus_indptr', 'minus_rows')


@dataclass
class Postings:
    dim: int
    n: int                      # rows covered: [0, n)
    plus_indptr: np.ndarray     # int64[dim + 1]
    plus_rows: np.ndarray       # int32, ascending within each dimension
    minus_indptr: np.ndarray
    minus_rows: np.ndarray
    _signed: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, dim: int) -> 'Postings':
        ptr = np.zeros(dim + 1, np.int64)
        return cls(dim, 0, ptr, np.zeros(0, np.int32), ptr.copy(), np.zeros(0, np.int32))

    @classmethod
    def build(cls, dim: int, n: int, plus: tuple[np.ndarray, np.ndarray],
              minus: tuple[np.ndarray, np.ndarray]) -> 'Postings':
        """From (rows, dims) pairs where each dimension's rows appear in ascending order (a stable sort keeps it)."""
        return cls(dim, n, *_csr(dim, *plus), *_csr(dim, *minus))

    def pairs(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """The (rows, dims) pairs back, grouped by dimension (rows ascending inside each group)."""
        return ((self.plus_rows, _dims_of(self.plus_indptr)), (self.minus_rows, _dims_of(self.minus_indptr)))

    def extended(self, n: int, plus: tuple[np.ndarray, np.ndarray], minus: tuple[np.ndarray, np.ndarray]):
        """Postings covering [0, n): these plus the pairs of rows self.n.. n-1 (all above the covered rows)."""
        (pr, pd), (mr, md) = self.pairs()
        join = np.concatenate
        return Postings.build(self.dim, n, (join([pr, plus[0]]), join([pd, plus[1]])),
                              (join([mr, minus[0]]), join([md, minus[1]])))

    def kept(self, keep: np.ndarray) -> 'Postings':
        """Postings with only the rows where `keep` is True, renumbered 0.. in the same order."""
        renumber = np.cumsum(keep, dtype=np.int64) - 1
        (pr, pd), (mr, md) = self.pairs()
        mask_p, mask_m = keep[pr], keep[mr]
        return Postings.build(self.dim, int(keep.sum()), (renumber[pr[mask_p]], pd[mask_p]),
                              (renumber[mr[mask_m]], md[mask_m]))

    def scores(self, queries: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Exact dot products of each (pos, neg) query with every covered row: int64[len(queries), n].

        One gather over the signed lists of all query dimensions, one bincount into (query, +/-, row) cells.
        The gather positions come from a cumulative sum and land in per-thread scratch arrays: on this workload
        fresh large temporaries cost more in page faults than the arithmetic.
        """
        q, n = len(queries), self.n
        indptr, entries = self.signed()
        dims = np.concatenate([np.concatenate([p, m + self.dim]) for p, m in queries]).astype(np.int64)
        starts = indptr[dims]
        lens = indptr[dims + 1] - starts
        ends = np.cumsum(lens)
        per_query = np.concatenate([[0], ends])[np.cumsum([len(p) + len(m) for p, m in queries])]
        total = int(ends[-1]) if len(ends) else 0
        if total == 0:
            return np.zeros((q, n), np.int64)
        keep = lens > 0
        starts, lens = starts[keep], lens[keep]
        ends = np.cumsum(lens)
        where = _scratch('where', total)
        where.fill(1)                                   # consecutive positions inside a list ...
        where[0] = starts[0]
        where[ends[:-1]] = starts[1:] - starts[:-1] - lens[:-1] + 1    # ... and a jump to the next list
        np.cumsum(where, out=where)
        # mode='clip' skips the per-element bounds error path; every position is in range by construction
        codes = np.take(entries, where, out=_scratch('codes', total), mode='clip')
        for i in range(1, q):                           # query i counts into its own 2n cells
            codes[per_query[i - 1]:per_query[i]] += 2 * n * i
        cells = np.bincount(codes, minlength=q * 2 * n).reshape(q, 2, n)
        return np.subtract(cells[:, 0], cells[:, 1])

    def signed(self) -> tuple[np.ndarray, np.ndarray]:
        """The lists a query dimension reads, built once: for a +1 at d (list d) rows holding +1 there as `row`
        and rows holding -1 as `row + n`; for a -1 at d (list dim + d) the same rows with the encodings swapped,
        so `count(code < n) - count(code >= n)` is the score."""
        if self._signed is None:
            n, plus_len, minus_len = self.n, np.diff(self.plus_indptr), np.diff(self.minus_indptr)
            lens = np.concatenate([plus_len + minus_len, plus_len + minus_len])
            indptr = np.zeros(2 * self.dim + 1, np.int64)
            np.cumsum(lens, out=indptr[1:])
            entries = np.empty(int(indptr[-1]), np.int64)    # bincount wants intp: no cast per query
            for half, (first, second) in enumerate(((0, n), (n, 0))):
                base = indptr[half * self.dim:(half + 1) * self.dim]
                _place(entries, base, self.plus_indptr, self.plus_rows + first)
                _place(entries, base + plus_len, self.minus_indptr, self.minus_rows + second)
            self._signed = (indptr, entries)
        return self._signed

    def arrays(self) -> dict[str, np.ndarray]:
        return {f: getattr(self, f) for f in FIELDS}

    @classmethod
    def from_arrays(cls, dim: int, n: int, arrays: dict) -> 'Postings':
        """Postings read from a file; ValueError (with the reason) unless every index stays in range."""
        for sign in ('plus', 'minus'):
            ptr, rows = arrays.get(f'{sign}_indptr'), arrays.get(f'{sign}_rows')
            if ptr is None or rows is None or ptr.dtype != np.int64 or rows.dtype != np.int32:
                raise ValueError(f'{sign} postings are missing or have the wrong dtype')
            if ptr.shape != (dim + 1,) or ptr[0] != 0 or ptr[-1] != len(rows) or np.any(np.diff(ptr) < 0):
                raise ValueError(f'{sign}_indptr is not {dim + 1} non-decreasing offsets from 0 to {len(rows)}')
            if len(rows) and (rows.min() < 0 or rows.max() >= n):
                raise ValueError(f'{sign}_rows holds a row outside [0, {n})')
        return cls(dim, n, *(arrays[f] for f in FIELDS))


def _csr(dim: int, rows: np.ndarray, dims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = dims.astype(np.uint16) if dim <= 1 << 16 else dims.astype(np.int64)   # 16-bit keys: radix sort
    order = np.argsort(keys, kind='stable')
    indptr = np.zeros(dim + 1, np.int64)
    np.cumsum(np.bincount(dims, minlength=dim), out=indptr[1:])
    return indptr, rows[order].astype(np.int32)


def _dims_of(indptr: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))


_SCRATCH = threading.local()


def _scratch(name: str, size: int) -> np.ndarray:
    """A per-thread int64 array of at least `size` (kept between calls, grown by doubling), sliced to `size`."""
    buf = getattr(_SCRATCH, name, None)
    if buf is None or len(buf) < size:
        buf = np.empty(max(size, 2 * (0 if buf is None else len(buf))), np.int64)
        setattr(_SCRATCH, name, buf)
    return buf[:size]


def _place(out: np.ndarray, base: np.ndarray, indptr: np.ndarray, values: np.ndarray) -> None:
    """Copy each dimension's run of `values` (CSR `indptr`) to `out[base[d]:]`."""
    lens = np.diff(indptr)
    out[np.arange(len(values)) + np.repeat(base - indptr[:-1], lens)] = values
