"""Named numeric arrays in one envelope (a safe, checksummed `.npz`): each array 64-byte aligned in the payload.

Metadata `arrays` lists `{name, dtype, shape, offset}`; dtypes are little-endian numbers or bool only (never
objects), and every extent is checked against the payload before a view is made.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from embeddenator.io.envelope import DEFAULT_MAX_BYTES, Envelope, Streamed, read_envelope, write_envelope
from embeddenator.io.errors import FormatError
from embeddenator.io.header import ALIGN, HEADER_SIZE, Kind, align
from embeddenator.io.payload import array_view, check_schema, with_schema

DTYPES = frozenset({'|b1', '|i1', '|u1', '<i2', '<u2', '<i4', '<u4', '<i8', '<u8', '<f4', '<f8'})
MAX_NDIM = 8


def pack_arrays(arrays: Mapping[str, np.ndarray]) -> tuple[list[dict], list]:
    """Metadata entries and payload chunks (arrays and zero padding) for `arrays`, in the given order; a
    `Streamed` array stays lazy (its blocks are read when written)."""
    entries, chunks, offset = [], [], 0
    for name, arr in arrays.items():
        if isinstance(arr, Streamed):
            entries.append({'name': str(name), 'dtype': arr.dtype, 'shape': list(arr.shape), 'offset': offset})
            chunks += [arr, bytes(align(arr.nbytes) - arr.nbytes)]
            offset += align(arr.nbytes)
            continue
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder('<')) if arr.dtype.byteorder == '>' else arr
        if arr.dtype.str not in DTYPES or arr.ndim > MAX_NDIM:
            raise ValueError(f'array {name!r}: dtype {arr.dtype} / {arr.ndim} dimensions cannot be stored; use '
                             f'one of {sorted(DTYPES)} and at most {MAX_NDIM} dimensions')
        entries.append({'name': str(name), 'dtype': arr.dtype.str, 'shape': list(arr.shape), 'offset': offset})
        chunks += [arr.reshape(-1).view(np.uint8), bytes(align(arr.nbytes) - arr.nbytes)]
        offset += align(arr.nbytes)
    return entries, chunks


def unpack_arrays(env: Envelope) -> dict[str, np.ndarray]:
    """Read-only arrays described by `env.meta['arrays']`, after checking every entry against the payload."""
    entries = env.meta.get('arrays')
    if not isinstance(entries, list):
        raise FormatError(env.path, HEADER_SIZE, f"metadata field 'arrays' is {type(entries).__name__}, "
                                                 'expected a list')
    out, end = {}, 0
    for i, entry in enumerate(entries):
        name, dtype, shape, offset = _entry(env, i, entry)
        if name in out:
            raise FormatError(env.path, HEADER_SIZE, f'array name {name!r} appears twice')
        count = math.prod(shape)
        nbytes = count * np.dtype(dtype).itemsize
        if offset < end or offset % ALIGN or offset + nbytes > len(env.payload):
            raise FormatError(env.path, env.payload_offset + offset,
                              f'array {name!r} ({nbytes} bytes at payload offset {offset}) overlaps another or '
                              f'runs past the {len(env.payload)}-byte payload')
        out[name] = array_view(env.payload, dtype, offset, count).reshape(shape)
        end = offset + nbytes
    return out


def _entry(env: Envelope, i: int, entry) -> tuple[str, str, list[int], int]:
    fields = entry if isinstance(entry, dict) else {}
    name, dtype, shape, offset = (fields.get(k) for k in ('name', 'dtype', 'shape', 'offset'))
    ok = (isinstance(name, str) and dtype in DTYPES and isinstance(shape, list) and len(shape) <= MAX_NDIM
          and all(type(s) is int and 0 <= s < 1 << 48 for s in shape) and type(offset) is int and offset >= 0)
    if not ok:
        raise FormatError(env.path, HEADER_SIZE, f'array entry {i} is malformed: {entry!r:.200}')
    return name, dtype, shape, offset


def write_arrays(path, arrays: Mapping[str, np.ndarray], codec='none', schema: str | None = None,
                 extra: dict | None = None):
    """Write named arrays into one envelope; ValueError for a dtype other than bool, integers, float32/64.

    Returns the path written.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from embeddenator.io import read_arrays, write_arrays
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, 'arrays.edn')
    ...     _ = write_arrays(path, {'ids': np.arange(3), 'w': np.ones((2, 2), np.float32)}, codec='zlib')
    ...     back = read_arrays(path)
    >>> back['ids'].tolist(), back['w'].shape, back['w'].flags.writeable
    ([0, 1, 2], (2, 2), False)
    """
    entries, chunks = pack_arrays(arrays)
    return write_envelope(path, Kind.ARRAYS, chunks, with_schema({**(extra or {}), 'arrays': entries}, schema),
                          codec)


def read_arrays(path, use_mmap: bool = True, schema: str | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, np.ndarray]:
    """Named read-only arrays; uncompressed payloads are memory-mapped unless `use_mmap` is False."""
    env = read_envelope(path, Kind.ARRAYS, use_mmap, max_bytes)
    check_schema(env, schema)
    return unpack_arrays(env)
