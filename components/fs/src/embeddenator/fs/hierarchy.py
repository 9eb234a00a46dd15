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


def _tie_rank(dim: int) -> np.ndarray:
    if dim not in _tie_cache:
        rank = np.empty(dim, dtype=np.int64)
        rank[seeded_order(_TIE_LABEL + str(dim).encode(), dim)] = np.arange(dim)
        _tie_cache[dim] = rank
    return _tie_cache[dim]


@dataclass(frozen=True)
class Sparse:
    """A sparse ternary vector: sorted int32 indices and their int8 signs."""
    idx: np.ndarray
    sign: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.idx.size)

    def shifted(self, shift: int, dim: int) -> 'Sparse':
        idx = (self.idx.astype(np.int64) + shift) % dim
        order = np.argsort(idx, kind='stable')
        return Sparse(idx[order].astype(np.int32), self.sign[order])

    def to_dense(self, dim: int) -> np.ndarray:
        out = np.zeros(dim, dtype=np.int8)
        out[self.idx] = self.sign
        return out


def thin(acc: np.ndarray, max_nnz: int = MAX_NNZ) -> Sparse:
    """sign(acc) keeping at most `max_nnz` entries: largest |acc| first, ties by the seeded dimension order."""
    nz = np.flatnonzero(acc)
    if nz.size > max_nnz:
        # one int64 key: magnitude in the high bits (descending), seeded tie rank in the low 32 bits (ascending)
        key = (-np.abs(acc[nz]).astype(np.int64) << 32) + _tie_rank(acc.size)[nz]
        nz = np.sort(nz[np.argpartition(key, max_nnz - 1)[:max_nnz]])
    return Sparse(nz.astype(np.int32), np.sign(acc[nz]).astype(np.int8))


def _accumulate(accs: dict[bytes, np.ndarray], batch: list[tuple[bytes, Sparse]], dim: int) -> None:
    """Add a batch of (prefix, vector) pairs into per-prefix int32 sums with one bincount."""
    names = sorted({p for p, _ in batch})
    local = {p: i for i, p in enumerate(names)}
    idx = np.concatenate([v.idx.astype(np.int64) + local[p] * dim for p, v in batch])
    sign = np.concatenate([v.sign for _, v in batch]).astype(np.float64)
    sums = np.rint(np.bincount(idx, weights=sign, minlength=len(names) * dim)).astype(np.int32)
    for p, row in zip(names, sums.reshape(len(names), dim)):
        accs[p] = accs[p] + row if p in accs else row


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

    Items are consumed as a stream and summed in batches, so memory is one int32 row per directory.
    """
    accs: dict[bytes, np.ndarray] = {}
    prefixes = {b''} | set(dirs)
    pending: list[tuple[bytes, Sparse]] = []
    for parent, vec in items:
        pending.append((parent, vec))
        if len(pending) >= batch:
            _accumulate(accs, pending, dim)
            pending = []
    if pending:
        _accumulate(accs, pending, dim)
    for p in list(prefixes | set(accs)):
        prefixes.update([p, *ancestors(p)])
    out: dict[bytes, Sparse] = {}
    for prefix in sorted(prefixes, key=lambda p: (-p.count(b'/') - bool(p), p)):   # deepest first
        out[prefix] = thin(accs.pop(prefix, np.zeros(dim, dtype=np.int32)), max_nnz)
        if prefix:
            parent = prefix.rpartition(b'/')[0]
            moved = out[prefix].shifted(prefix_shift(prefix, dim), dim).to_dense(dim).astype(np.int32)
            accs[parent] = accs[parent] + moved if parent in accs else moved
    return dict(sorted(out.items()))
