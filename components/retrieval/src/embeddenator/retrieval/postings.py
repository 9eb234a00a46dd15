"""The inverted index: for every dimension, the rows holding +1 there and the rows holding -1 (CSR by dimension).

For a sparse query with +1 set P and -1 set N, a row's dot product is
    |rows with +1 in P| + |rows with -1 in N| - |rows with -1 in P| - |rows with +1 in N|,
so counting postings gives every row's exact score; rows no posting touches score exactly 0. The lists, their
construction and the counting are vsa's public `PostingLists` (C, without the GIL, a query per core); this
module converts between them and the arrays stored on disk.
"""
from __future__ import annotations

import numpy as np

from embeddenator import vsa
from embeddenator.vsa import PostingLists, pack_rows, sparse_rows

FIELDS = ('plus_indptr', 'plus_rows', 'minus_indptr', 'minus_rows')

__all__ = ['FIELDS', 'PostingLists', 'arrays', 'empty', 'from_arrays', 'from_codebook', 'join_rows', 'pack_rows',
           'select_rows', 'sparse_rows']


def empty(dim: int) -> PostingLists:
    """Postings of no row, for an index of dimension `dim`."""
    return PostingLists.empty(dim)


def from_codebook(dim: int, n: int, words: np.ndarray) -> PostingLists:
    """The postings of the first n rows of a packed codebook (vsa.PackedMatrix layout)."""
    return PostingLists.from_codebook(vsa.PackedMatrix.from_buffer(dim, n, words, check=False))


def arrays(postings: PostingLists) -> dict[str, np.ndarray]:
    """The postings' arrays by field name, as io stores them (`from_arrays` reads them back)."""
    return {f: getattr(postings, f) for f in FIELDS}


def from_arrays(dim: int, n: int, stored: dict) -> PostingLists:
    """Postings read from a file; ValueError (with the reason) unless every offset and row stays in range."""
    missing = [f for f in FIELDS if f not in stored]
    if missing:
        raise ValueError(f'postings are missing {", ".join(missing)}')
    return PostingLists.from_arrays(dim, n, *(stored[f] for f in FIELDS))


def join_rows(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Several runs of rows as CSR by row (pos, pos_offsets, neg, neg_offsets) joined into one run."""
    if len(parts) == 1:
        return parts[0]
    out = []
    for values, offsets in ((0, 1), (2, 3)):
        out.append(np.concatenate([p[values] for p in parts]))
        shift = np.cumsum([0] + [p[offsets][-1] for p in parts[:-1]])
        out.append(np.concatenate([[0]] + [p[offsets][1:] + s for p, s in zip(parts, shift)]).astype(np.int64))
    return tuple(out)


def select_rows(rows: tuple[np.ndarray, ...], which: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rows numbered `which` (ascending) of a CSR-by-row run, as a run of their own."""
    out = []
    for values, offsets in ((rows[0], rows[1]), (rows[2], rows[3])):
        starts, lens = offsets[which], offsets[which + 1] - offsets[which]
        new = np.zeros(len(which) + 1, np.int64)
        np.cumsum(lens, out=new[1:])
        take = np.repeat(starts - new[:-1], lens) + np.arange(new[-1])
        out += [values[take], new]
    return tuple(out)
