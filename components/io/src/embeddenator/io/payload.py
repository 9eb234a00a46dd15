"""Helpers the payload readers share: typed metadata fields, schema tags and aligned read-only array views."""
from __future__ import annotations

import numpy as np

from embeddenator.io.envelope import Envelope
from embeddenator.io.errors import FormatError
from embeddenator.io.header import ALIGN, HEADER_SIZE


def meta_int(env: Envelope, key: str, low: int = 0, high: int = 1 << 62) -> int:
    """Metadata field `key` as an int in [low, high]; FormatError at the metadata's offset otherwise."""
    value = env.meta.get(key)
    if type(value) is not int or not low <= value <= high:
        raise FormatError(env.path, HEADER_SIZE, f'metadata field {key!r} is {value!r}, expected an integer in '
                                                 f'[{low}, {high}]')
    return value


def check_schema(env: Envelope, schema: str | None) -> None:
    """FormatError unless `env`'s metadata carries the schema tag `schema`; None accepts any file."""
    if schema is not None and env.meta.get('schema') != schema:
        raise FormatError(env.path, HEADER_SIZE, f'schema is {env.meta.get("schema")!r}, expected {schema!r}')


def with_schema(meta: dict, schema: str | None) -> dict:
    """A copy of `meta` tagged with `schema`, or `meta` itself when `schema` is None."""
    return {**meta, 'schema': schema} if schema is not None else meta


def aligned_empty(nbytes: int) -> np.ndarray:
    """A writable uint8 buffer whose first byte is ALIGN-aligned."""
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    skip = -raw.ctypes.data % ALIGN
    return raw[skip:skip + nbytes]


def array_view(buf, dtype: str, offset: int, count: int) -> np.ndarray:
    """A read-only 1-D array over `buf`; a view when aligned (memory maps), an aligned copy otherwise."""
    dtype = np.dtype(dtype)
    view = np.frombuffer(buf, dtype=dtype, count=count, offset=offset)
    if view.ctypes.data % ALIGN and count:
        copy = aligned_empty(view.nbytes).view(dtype)
        copy[:] = view
        view = copy
    view.flags.writeable = False
    return view
