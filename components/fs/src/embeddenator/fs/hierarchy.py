"""Hierarchical engrams: one sparse sub-engram per directory, bundled bottom-up, thinned to a bounded density.

A file's vector is the bundle of its chunk vectors, thinned. A directory's sub-engram is the bundle of its files'
vectors and of its subdirectories' sub-engrams, each subdirectory first permuted (cyclic shift) by a stable hash
of its path prefix, so the parent knows *where* a child came from; the result is thinned to at most `max_nnz`
non-zeros. The root sub-engram (prefix b'') is the engram's root vector.

Thinning keeps the largest |sum| entries; ties are broken by a seeded order of the dimensions, never by chance,
so the same tree always gives the same vectors. Every vector here is sparse (sorted int32 indices, int8 signs),
so memory is O(items * max_nnz), which is what lets 10^6 items fit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from embeddenator.fs.codec import seeded_order

MAX_NNZ = 200
_PREFIX_LABEL = b'embeddenator-fs/prefix/v1/'
_TIE_LABEL = b'embeddenator-fs/ties/v1/'
_tie_cache: dict[int, np.ndarray] = {}


def prefix_shift(prefix: bytes, dim: int) -> int:
    """Stable shift for a path prefix: BLAKE2b of the prefix bytes (Python's `hash` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(_PREFIX_LABEL + prefix, digest_size=8).digest(), 'little') % dim


def _tie_order(dim: int) -> np.ndarray:
    """Dimensions in the seeded order that breaks ties (first = kept first)."""
    if dim not in _tie_cache:
        _tie_cache[dim] = seeded_order(_TIE_LABEL + str(dim).encode(), dim)
    return _tie_cache[dim]


def _tie_rank(dim: int) -> np.ndarray:
    if -dim not in _tie_cache:             # negative key: the rank table beside the order table
        rank = np.empty(dim, dtype=np.int64)
        rank[_tie_order(dim)] = np.arange(dim)
        _tie_cache[-dim] = rank
    return _tie_cache[-dim]


@dataclass(frozen=True)
class Sparse:
    """A sparse ternary vector: sorted int32 indices and their int8 signs."""
    idx: np.ndarray
    sign: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.idx.size)

    def shifted(self, shift: int, dim: int) -> 'Sparse':
        """The vector rotated cyclically by `shift` dimensions (how a sub-engram is marked with its prefix).

        >>> import numpy as np
        >>> from embeddenator.fs import Sparse
        >>> v = Sparse(np.array([0, 6], np.int32), np.array([1, -1], np.int8))
        >>> v.to_dense(8).tolist(), v.shifted(3, 8).to_dense(8).tolist()
        ([1, 0, 0, 0, 0, 0, -1, 0], [0, -1, 0, 1, 0, 0, 0, 0])
        """
        idx = (self.idx.astype(np.int64) + shift) % dim
        order = np.argsort(idx, kind='stable')
        return Sparse(idx[order].astype(np.int32), self.sign[order])

    def to_dense(self, dim: int) -> np.ndarray:
        """The vector as `dim` int8 trits."""
        out = np.zeros(dim, dtype=np.int8)
        out[self.idx] = self.sign
        return out


def thin(acc: np.ndarray, max_nnz: int = MAX_NNZ) -> Sparse:
    """sign(acc) keeping at most `max_nnz` entries: largest |acc| first, ties by the seeded dimension order."""
    nz = np.flatnonzero(acc)
    if nz.size > max_nnz and np.abs(acc[nz]).max() == 1:
        # all magnitudes equal (a one-chunk file): the first non-zeros in the seeded order, no sort needed
        order = _tie_order(acc.size)
        nz = np.sort(order[acc[order] != 0][:max_nnz])
    elif nz.size > max_nnz:
        # one int64 key: magnitude in the high bits (descending), seeded tie rank in the low 32 bits (ascending)
        key = (-np.abs(acc[nz]).astype(np.int64) << 32) + _tie_rank(acc.size)[nz]
        nz = np.sort(nz[np.argpartition(key, max_nnz - 1)[:max_nnz]])
    return Sparse(nz.astype(np.int32), np.sign(acc[nz]).astype(np.int8))


class _Sums:
    """One int32 row of sums per directory prefix, grown by doubling; batches are added with one `np.add.at`."""

    def __init__(self, dim: int):
        self.dim, self.rows, self.data = dim, {}, np.zeros((16, dim), dtype=np.int32)

    def row(self, prefix: bytes) -> int:
        if prefix not in self.rows:
            if len(self.rows) == len(self.data):
                self.data = np.concatenate([self.data, np.zeros_like(self.data)])
            self.rows[prefix] = len(self.rows)
        return self.rows[prefix]

    def add(self, batch: list[tuple[bytes, 'Sparse']]) -> None:
        rows = np.fromiter((self.row(p) for p, _ in batch), dtype=np.int64, count=len(batch))
        sizes = np.fromiter((v.idx.size for _, v in batch), dtype=np.int64, count=len(batch))
        keys = np.concatenate([v.idx for _, v in batch]).astype(np.int64) + np.repeat(rows * self.dim, sizes)
        np.add.at(self.data.reshape(-1), keys, np.concatenate([v.sign for _, v in batch]).astype(np.int32))

    def pop(self, prefix: bytes) -> np.ndarray:
        return self.data[self.rows[prefix]].copy() if prefix in self.rows else np.zeros(self.dim, dtype=np.int32)


def ancestors(path: bytes) -> list[bytes]:
    """Every directory prefix above `path`, nearest first, ending with the root b''."""
    out, head = [], path
    while head:
        head = head.rpartition(b'/')[0]
        out.append(head)
    return out


def build(dirs: Iterable[bytes], items: Iterable[tuple[bytes, Sparse]], dim: int, max_nnz: int = MAX_NNZ,
          batch: int = 4096) -> dict[bytes, Sparse]:
    """Sub-engram per directory prefix (b'' = root) from (parent prefix, file vector) pairs and the directories.

    Items are consumed as a stream and summed in batches, so memory is one int32 row per directory (plus one
    batch of items).
    """
    sums = _Sums(dim)
    prefixes = {b''} | set(dirs)
    pending: list[tuple[bytes, Sparse]] = []
    for parent, vec in items:
        pending.append((parent, vec))
        if len(pending) >= batch:
            sums.add(pending)
            pending = []
    if pending:
        sums.add(pending)
    for p in list(prefixes | set(sums.rows)):
        prefixes.update([p, *ancestors(p)])
    out: dict[bytes, Sparse] = {}
    for prefix in sorted(prefixes, key=lambda p: (-p.count(b'/') - bool(p), p)):   # deepest first
        out[prefix] = thin(sums.pop(prefix), max_nnz)
        if prefix:
            moved = out[prefix].shifted(prefix_shift(prefix, dim), dim)
            sums.add([(prefix.rpartition(b'/')[0], Sparse(moved.idx, moved.sign))])
    return dict(sorted(out.items()))
