"""Files: `.npy` (one array), `.npz` (named arrays), `.json`; all written atomically through `embeddenator.io`.

- `.npy` holds the dense int8 matrix (n, dim);
- `.npz` holds the arrays of any form (`arrays.to_arrays`) plus a `form` tag, read back with allow_pickle off;
- `.json` holds ``{"format": "embeddenator-vectors/v1", "dim": D, "vectors": [{"pos": [...], "neg": [...]}]}``.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from embeddenator import vsa
from embeddenator.interop.arrays import FORMS, InteropError, as_sparse, from_arrays, to_arrays
from embeddenator.io import atomic_write

JSON_FORMAT = 'embeddenator-vectors/v1'


def _write(path, data: bytes) -> Path:
    try:
        return atomic_write(path, [data])
    except OSError as err:
        raise InteropError(f'{os.fspath(path)}: cannot write ({err.strerror}); check the folder') from None


def _read(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise InteropError(f'{os.fspath(path)}: cannot read ({err.strerror})') from None


class _Sink:
    """What zipfile writes, kept until taken: a stream it cannot seek, so it writes each member's sizes after the
    member's data (a data descriptor) and the whole archive streams out front to back."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.at = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.at += len(data)
        return len(data)

    def tell(self) -> int:
        return self.at

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self.parts = b''.join(self.parts), []
        return out


def npz_chunks(arrays: dict[str, np.ndarray], streamed: dict[str, tuple]) -> Iterator[bytes]:
    """The bytes of a compressed `.npz` of `arrays` and of each streamed array (name -> (shape, dtype, blocks):
    blocks of its rows in order), in pieces as they are made: memory holds one block, not the archive."""
    sink = _Sink()
    with zipfile.ZipFile(sink, 'w', zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(f'{name}.npy', 'w', force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            yield sink.take()
        for name, (shape, dtype, blocks) in streamed.items():
            dtype = np.dtype(dtype)
            with zf.open(f'{name}.npy', 'w', force_zip64=True) as member:
                np.lib.format.write_array_header_2_0(member, {'descr': np.lib.format.dtype_to_descr(dtype),
                                                              'fortran_order': False, 'shape': tuple(shape)})
                for block in blocks:
                    member.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
                    yield sink.take()
    yield sink.take()


def write_npz(path, arrays: dict[str, np.ndarray], streamed: dict[str, tuple]) -> Path:
    """`npz_chunks` written atomically to `path`."""
    try:
        return atomic_write(path, npz_chunks(arrays, streamed))
    except OSError as err:
        raise InteropError(f'{os.fspath(path)}: cannot write ({err.strerror}); check the folder') from None


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """`arrays` as the bytes of a compressed `.npz` (built in memory, so the file can be written atomically)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def save_npy(path, vectors: Sequence, dim: int | None = None) -> Path:
    """Write `vectors` as one dense int8 (n, dim) `.npy` matrix; returns the path."""
    buf = io.BytesIO()
    np.save(buf, to_arrays(vectors, 'dense', dim)['dense'], allow_pickle=False)
    return _write(path, buf.getvalue())


def load_npy(path) -> list[vsa.SparseVec]:
    """Vectors from a dense `.npy` matrix (a 1-D array is one vector); InteropError for non-ternary data."""
    try:
        dense = np.load(io.BytesIO(_read(path)), allow_pickle=False)
    except ValueError as err:
        raise InteropError(f'{os.fspath(path)}: not a numeric .npy file ({err})') from None
    dense = np.atleast_2d(dense)
    return from_arrays({'dim': np.asarray(dense.shape[1]), 'dense': dense})


def save_npz(path, vectors: Sequence, form: str = 'sparse', dim: int | None = None) -> Path:
    """Write `vectors` as the arrays of `form` plus a `form` tag in a compressed `.npz`; returns the path."""
    return _write(path, npz_bytes({**to_arrays(vectors, form, dim), 'form': np.asarray(form)}))


def load_npz(path) -> list[vsa.SparseVec]:
    """Vectors from a `.npz` written by `save_npz` (pickles refused); InteropError for anything else."""
    try:
        with np.load(io.BytesIO(_read(path)), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise InteropError(f'{os.fspath(path)}: not a valid .npz file ({err})') from None
    if str(arrays.get('form', '')) not in FORMS:
        raise InteropError(f'{os.fspath(path)}: array "form" must name one of {", ".join(FORMS)}')
    return from_arrays(arrays)


def to_json(vectors: Sequence, dim: int | None = None) -> dict:
    """A JSON-ready document of `vectors` as +1/-1 index lists; `dim` is needed only when there are none.

    >>> from embeddenator import interop, vsa
    >>> doc = interop.to_json([vsa.SparseVec(8, [0, 3], [5])])
    >>> doc
    {'format': 'embeddenator-vectors/v1', 'dim': 8, 'vectors': [{'pos': [0, 3], 'neg': [5]}]}
    >>> interop.from_json(doc)[0].to_dense().tolist()
    [1, 0, 0, 1, 0, -1, 0, 0]
    """
    svs = [as_sparse(v, dim) for v in vectors]
    dim = dim if dim is not None else (svs[0].dim if svs else None)
    if dim is None:
        raise InteropError('cannot tell the dimension of no vectors: pass dim')
    return {'format': JSON_FORMAT, 'dim': int(dim),
            'vectors': [{'pos': sv.pos.tolist(), 'neg': sv.neg.tolist()} for sv in svs]}


def from_json(doc: dict) -> list[vsa.SparseVec]:
    """Inverse of `to_json`; InteropError for another format or malformed vectors."""
    if not isinstance(doc, dict) or doc.get('format') != JSON_FORMAT:
        raise InteropError(f'JSON document is not {JSON_FORMAT!r} (field "format")')
    try:
        dim = int(doc['dim'])
        return [vsa.SparseVec(dim, np.asarray(v['pos'], np.int64), np.asarray(v['neg'], np.int64))
                for v in doc['vectors']]
    except (KeyError, TypeError, ValueError) as err:
        raise InteropError(f'JSON vectors are malformed ({type(err).__name__}: {err}); each needs pos and neg '
                           'index lists') from None


def save_json(path, vectors: Sequence, dim: int | None = None) -> Path:
    """Write `to_json(vectors, dim)` to `path`; returns the path."""
    return _write(path, json.dumps(to_json(vectors, dim), separators=(',', ':')).encode('utf-8'))


def load_json(path) -> list[vsa.SparseVec]:
    """Vectors from a file written by `save_json`."""
    try:
        doc = json.loads(_read(path).decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as err:
        raise InteropError(f'{os.fspath(path)}: not UTF-8 JSON ({err})') from None
    return from_json(doc)


SAVERS = {'.npy': save_npy, '.npz': save_npz, '.json': save_json}
LOADERS = {'.npy': load_npy, '.npz': load_npz, '.json': load_json}


def save(path, vectors: Sequence, dim: int | None = None) -> Path:
    """Save by suffix (.npy, .npz, .json).

    >>> import os, tempfile
    >>> from embeddenator import interop, vsa
    >>> vectors = [vsa.SparseVec(8, [0, 3], [5]), vsa.SparseVec(8, [], [1])]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ('v.npy', 'v.npz', 'v.json'):
    ...         _ = interop.save(os.path.join(tmp, name), vectors)
    ...         print(name, interop.load(os.path.join(tmp, name)) == vectors)
    v.npy True
    v.npz True
    v.json True
    """
    saver = SAVERS.get(Path(path).suffix.lower())
    if saver is None:
        raise InteropError(f'{os.fspath(path)}: unknown suffix; use one of {", ".join(SAVERS)}')
    return saver(path, vectors, dim=dim)


def load(path) -> list[vsa.SparseVec]:
    """Load by suffix (.npy, .npz, .json)."""
    loader = LOADERS.get(Path(path).suffix.lower())
    if loader is None:
        raise InteropError(f'{os.fspath(path)}: unknown suffix; use one of {", ".join(LOADERS)}')
    return loader(path)
