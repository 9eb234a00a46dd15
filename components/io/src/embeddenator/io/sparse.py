"""Batches of sparse ternary vectors: CSR index pointers and sorted uint32 indices for the +1 and -1 sets.

Checked on write and on read: pointers start at 0, never decrease and end at the index count; indices are
below `dim`, strictly increasing within each vector, and no index is both +1 and -1 in the same vector.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from embeddenator.io.arrays import pack_arrays, unpack_arrays
from embeddenator.io.envelope import DEFAULT_MAX_BYTES, read_envelope, write_envelope
from embeddenator.io.errors import FormatError
from embeddenator.io.header import Kind
from embeddenator.io.payload import check_schema, meta_int, with_schema

MAX_DIM = 1 << 32
_FIELDS = ('pos_indptr', 'pos', 'neg_indptr', 'neg')


@dataclass(frozen=True)
class SparseBatch:
    """n sparse ternary vectors of dimension `dim`; vector i is (pos[pos_indptr[i]:...], neg[...])."""
    dim: int
    pos_indptr: np.ndarray
    pos: np.ndarray
    neg_indptr: np.ndarray
    neg: np.ndarray

    def __len__(self) -> int:
        return len(self.pos_indptr) - 1

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The +1 and -1 indices of vector `i` (views into the batch's arrays, no copy)."""
        p, q = self.pos_indptr, self.neg_indptr
        return self.pos[p[i]:p[i + 1]], self.neg[q[i]:q[i + 1]]

    @classmethod
    def from_rows(cls, dim: int, rows: Iterable[tuple[Sequence[int], Sequence[int]]]) -> 'SparseBatch':
        """From (pos, neg) index sequences (anything with `.pos`/`.neg` converts via `(v.pos, v.neg)`)."""
        rows = [(np.asarray(p, dtype=np.int64), np.asarray(q, dtype=np.int64)) for p, q in rows]
        if any(len(a) and (a.min() < 0 or a.max() >= dim) for row in rows for a in row):
            raise ValueError(f'sparse vectors are invalid: an index is outside [0, {dim})')
        batch = cls(dim, _indptr([p for p, _ in rows]), _concat([p for p, _ in rows]),
                    _indptr([q for _, q in rows]), _concat([q for _, q in rows]))
        problem = batch_problem(batch)
        if problem:
            raise ValueError(f'sparse vectors are invalid: {problem[1]}')
        return batch


def _indptr(parts) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(p) for p in parts], dtype=np.uint64)]).astype('<u8')


def _concat(parts) -> np.ndarray:
    return np.concatenate([np.zeros(0, np.int64), *parts]).astype('<u4') if parts else np.zeros(0, '<u4')


def batch_problem(b: SparseBatch) -> tuple[str, str] | None:
    """(field, reason) of the first inconsistency in `b`, or None."""
    if not 0 < b.dim < MAX_DIM:
        return 'dim', f'dim {b.dim} is outside [1, {MAX_DIM})'
    if len(b.pos_indptr) != len(b.neg_indptr) or len(b.pos_indptr) < 1:
        return 'neg_indptr', 'the two index pointer arrays differ in length'
    for ptr_name, ptr, idx in (('pos_indptr', b.pos_indptr, b.pos), ('neg_indptr', b.neg_indptr, b.neg)):
        if ptr[0] != 0 or ptr[-1] != len(idx) or np.any(np.diff(ptr.astype(np.int64)) < 0):
            return ptr_name, f'{ptr_name} must start at 0, never decrease and end at {len(idx)}'
        if len(idx) and int(idx.max()) >= b.dim:
            return ptr_name[:3], f'an index is >= dim {b.dim}'
        step = np.diff(idx.astype(np.int64))
        starts = ptr[1:-1].astype(np.int64) - 1          # positions in `step` where a new vector begins
        bad = step <= 0
        bad[starts[(starts >= 0) & (starts < len(step))]] = False
        if bad.any():
            return ptr_name[:3], 'indices are not strictly increasing within a vector'
    keys = [np.repeat(np.arange(len(ptr) - 1, dtype=np.uint64), np.diff(ptr.astype(np.int64))) * np.uint64(b.dim)
            + idx.astype(np.uint64) for ptr, idx in ((b.pos_indptr, b.pos), (b.neg_indptr, b.neg))]
    if np.intersect1d(keys[0], keys[1], assume_unique=True).size:
        return 'neg', 'an index is both +1 and -1 in the same vector'
    return None


def write_sparse(path, batch: SparseBatch, codec='zlib', schema: str | None = None, extra: dict | None = None):
    """Write `batch` after checking it (ValueError if inconsistent); `extra` adds metadata fields. Returns the path.

    >>> import os, tempfile
    >>> from embeddenator.io import SparseBatch, read_sparse, write_sparse
    >>> batch = SparseBatch.from_rows(100, [([1, 5], [7]), ([], [0, 99])])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, 'vectors.edn')
    ...     _ = write_sparse(path, batch, schema='demo/1')
    ...     back = read_sparse(path, schema='demo/1')
    >>> back.dim, len(back), [a.tolist() for a in back.row(1)]
    (100, 2, [[], [0, 99]])
    """
    problem = batch_problem(batch)
    if problem:
        raise ValueError(f'{path}: sparse vectors are invalid: {problem[1]}')
    entries, chunks = pack_arrays({'pos_indptr': np.asarray(batch.pos_indptr, '<u8'),
                                   'pos': np.asarray(batch.pos, '<u4'),
                                   'neg_indptr': np.asarray(batch.neg_indptr, '<u8'),
                                   'neg': np.asarray(batch.neg, '<u4')})
    meta = with_schema({**(extra or {}), 'dim': int(batch.dim), 'n': len(batch), 'arrays': entries}, schema)
    return write_envelope(path, Kind.SPARSE, chunks, meta, codec)


def read_sparse(path, schema: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> SparseBatch:
    """The batch written by `write_sparse`, re-checked in full: FormatError for any inconsistency or wrong schema."""
    env = read_envelope(path, Kind.SPARSE, max_bytes=max_bytes)
    check_schema(env, schema)
    dim, n = meta_int(env, 'dim', 1, MAX_DIM - 1), meta_int(env, 'n')
    arrays = unpack_arrays(env)
    want = {'pos_indptr': '<u8', 'pos': '<u4', 'neg_indptr': '<u8', 'neg': '<u4'}
    for name, dtype in want.items():
        arr = arrays.get(name)
        if arr is None or arr.dtype.str != dtype or arr.ndim != 1:
            raise FormatError(env.path, env.payload_offset, f'array {name!r} is missing or not a 1-D {dtype}')
    if len(arrays['pos_indptr']) != n + 1:
        raise FormatError(env.path, env.payload_offset, f'pos_indptr has {len(arrays["pos_indptr"])} entries, '
                                                        f'n={n} vectors need {n + 1}')
    batch = SparseBatch(dim, *(arrays[f] for f in _FIELDS))
    problem = batch_problem(batch)
    if problem:
        raise FormatError(env.path, env.payload_offset, f'sparse payload is invalid ({problem[0]}): {problem[1]}')
    return batch
