"""Batches of hypervectors <-> numpy arrays, in three forms, each a lossless round trip.

| form | arrays | shape / dtype |
|---|---|---|
| `dense` | `dense` | (n, dim) int8 in {-1, 0, +1} |
| `packed` | `words` | (n, stride) uint64: `vsa.PackedMatrix` rows (+1 plane, -1 plane, padded) |
| `sparse` | `indptr`, `indices`, `signs` | CSR: row i is `indices[indptr[i]:indptr[i+1]]`, sorted, int8 signs |

Vectors may be any vsa type (`SparseVec`, `PackedVec`, `BlockSparseVec`) or an `embeddenator.fs.Sparse`;
conversions back give `vsa.SparseVec`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from embeddenator import vsa
from embeddenator.fs import Sparse
from embeddenator.fs.query import to_vsa

FORMS = ('dense', 'packed', 'sparse')


class InteropError(ValueError):
    """Data that cannot be converted: the message names the array or field and what was expected."""


def as_sparse(vec, dim: int | None = None) -> vsa.SparseVec:
    """Any supported vector as a `vsa.SparseVec` (an fs `Sparse` needs `dim`)."""
    if isinstance(vec, vsa.SparseVec):
        return vec
    if isinstance(vec, Sparse):
        if dim is None:
            raise InteropError('an fs Sparse vector carries no dimension: pass dim')
        return to_vsa(vec, dim)
    if hasattr(vec, 'to_sparse'):
        return vec.to_sparse()
    raise InteropError(f'expected a hypervector (vsa SparseVec/PackedVec/BlockSparseVec or fs Sparse), '
                       f'got {type(vec).__name__}')


def _dim_of(vectors: Sequence, dim: int | None) -> int:
    if dim is not None:
        return int(dim)
    for v in vectors:
        if hasattr(v, 'dim'):
            return int(v.dim)
    raise InteropError('cannot tell the dimension (no vectors, or only fs Sparse ones): pass dim')


def to_arrays(vectors: Sequence, form: str = 'sparse', dim: int | None = None) -> dict[str, np.ndarray]:
    """Named arrays holding `vectors` in `form`, plus `dim` as a 0-d int64 array.

    >>> from embeddenator import interop, vsa
    >>> vectors = [vsa.SparseVec(8, [0, 3], [5]), vsa.SparseVec(8, [], [1])]
    >>> {name: a.tolist() for name, a in interop.to_arrays(vectors, 'sparse').items()}
    {'dim': 8, 'indptr': [0, 3, 4], 'indices': [0, 3, 5, 1], 'signs': [1, 1, -1, -1]}
    >>> interop.to_arrays(vectors, 'dense')['dense'].tolist()[1]
    [0, -1, 0, 0, 0, 0, 0, 0]
    >>> interop.from_arrays(interop.to_arrays(vectors, 'packed')) == vectors
    True
    """
    if form not in FORMS:
        raise InteropError(f'form {form!r} is not one of {", ".join(FORMS)}')
    dim = _dim_of(vectors, dim)
    svs = [as_sparse(v, dim) for v in vectors]
    if any(sv.dim != dim for sv in svs):
        raise InteropError(f'vectors of several dimensions; all must have dim {dim}')
    out = {'dim': np.asarray(dim, dtype=np.int64)}
    if form == 'dense':
        out['dense'] = np.stack([sv.to_dense() for sv in svs]) if svs else np.zeros((0, dim), np.int8)
    elif form == 'packed':
        out['words'] = _packed_rows(svs, dim)
    else:
        indices = [np.concatenate([sv.pos, sv.neg]) for sv in svs]
        signs = [np.repeat(np.array([1, -1], np.int8), [len(sv.pos), len(sv.neg)]) for sv in svs]
        orders = [np.argsort(i, kind='stable') for i in indices]
        out['indptr'] = np.concatenate([[0], np.cumsum([len(i) for i in indices])]).astype(np.int64)
        out['indices'] = np.concatenate([i[o] for i, o in zip(indices, orders)] or [np.zeros(0)]).astype(np.int64)
        out['signs'] = np.concatenate([s[o] for s, o in zip(signs, orders)] or [np.zeros(0)]).astype(np.int8)
    return out


def _packed_rows(svs: list, dim: int) -> np.ndarray:
    _, _, stride = vsa.row_layout(dim)
    if not svs:
        return np.zeros((0, stride), np.uint64)
    matrix = vsa.PackedMatrix.from_vectors([sv.to_packed() for sv in svs])
    return np.asarray(matrix.words).reshape(len(svs), stride).copy()


def from_arrays(arrays) -> list[vsa.SparseVec]:
    """Inverse of `to_arrays`: the form is told by which arrays are present; InteropError for invalid arrays.

    >>> import numpy as np
    >>> from embeddenator import interop
    >>> interop.from_arrays({'dim': np.asarray(3), 'dense': np.array([[1, 0, -1]], np.int8)})
    [SparseVec(dim=3, nnz=2)]
    >>> try:
    ...     interop.from_arrays({'dim': np.asarray(3), 'dense': np.array([[2, 0, 0]], np.int8)})
    ... except interop.InteropError as err:
    ...     print(err)
    array 'dense' must be values in {-1, 0, +1}
    """
    try:
        dim = int(np.asarray(arrays['dim']))
        if 'dense' in arrays:
            dense = np.asarray(arrays['dense'])
            _check(dense.ndim == 2 and dense.shape[1] == dim, 'dense', f'shape (n, {dim})')
            _check(np.isin(dense, (-1, 0, 1)).all(), 'dense', 'values in {-1, 0, +1}')
            return [vsa.SparseVec.from_dense(np.ascontiguousarray(row, dtype=np.int8)) for row in dense]
        if 'words' in arrays:
            words = np.ascontiguousarray(arrays['words'], dtype=np.uint64)
            _, _, stride = vsa.row_layout(dim)
            _check(words.ndim == 2 and words.shape[1] == stride, 'words', f'shape (n, {stride})')
            matrix = vsa.PackedMatrix.from_buffer(dim, len(words), words.reshape(-1))
            return [matrix.row(i).to_sparse() for i in range(len(words))]
        indptr, indices = np.asarray(arrays['indptr']), np.asarray(arrays['indices'], dtype=np.int64)
        signs = np.asarray(arrays['signs'])
        _check(indptr.ndim == 1 and indptr[0] == 0 and indptr[-1] == len(indices) == len(signs)
               and np.all(np.diff(indptr) >= 0), 'indptr', 'a CSR offset array from 0 to len(indices)')
        _check(np.isin(signs, (-1, 1)).all(), 'signs', 'values -1 or +1')
        return [vsa.SparseVec(dim, indices[a:b][signs[a:b] > 0], indices[a:b][signs[a:b] < 0])
                for a, b in zip(indptr[:-1], indptr[1:])]
    except KeyError as err:
        raise InteropError(f'array {err.args[0]!r} is missing; expected dim and one of dense, words or '
                           'indptr/indices/signs') from None
    except ValueError as err:
        if isinstance(err, InteropError):
            raise
        raise InteropError(f'arrays do not hold valid vectors: {err}') from None


def _check(ok, name: str, expected: str) -> None:
    if not ok:
        raise InteropError(f'array {name!r} must be {expected}')
