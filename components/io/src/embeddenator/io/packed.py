"""Packed codebooks: N rows of `row_words` uint64 words, stored raw so the payload maps into memory as-is.

io knows nothing of the bit layout inside a row (the vsa kernels define it); it records `dim`, `n` and
`row_words` and guarantees `len(words) == n * row_words` and `row_words >= ceil(dim / 64)`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embeddenator.io.envelope import DEFAULT_MAX_BYTES, read_envelope, write_envelope
from embeddenator.io.errors import FormatError
from embeddenator.io.header import Kind
from embeddenator.io.payload import array_view, check_schema, meta_int, with_schema

MAX_DIM = 1 << 32


@dataclass(frozen=True)
class PackedPayload:
    dim: int
    n: int
    row_words: int
    words: np.ndarray       # 1-D little-endian uint64, read-only, 64-byte aligned
    meta: dict


def write_packed(path, dim: int, words, n: int, row_words: int | None = None, codec='none',
                 schema: str | None = None, extra: dict | None = None):
    """Write a codebook; `words` is a 1-D uint64 array of n * row_words words."""
    words = np.ascontiguousarray(words)
    if words.dtype != np.dtype('<u8') or words.ndim != 1:
        raise ValueError(f'{path}: words must be a 1-D little-endian uint64 array, got {words.dtype} {words.shape}')
    row_words = (len(words) // n if n else -(-dim // 64)) if row_words is None else row_words
    if not 0 < dim < MAX_DIM or n < 0 or len(words) != n * row_words or row_words * 64 < dim:
        raise ValueError(f'{path}: inconsistent codebook: dim={dim}, n={n}, row_words={row_words}, '
                         f'{len(words)} words')
    meta = with_schema({**(extra or {}), 'dim': dim, 'n': n, 'row_words': row_words}, schema)
    return write_envelope(path, Kind.PACKED, [words], meta, codec)


def read_packed(path, use_mmap: bool = True, schema: str | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> PackedPayload:
    """Read a codebook; uncompressed payloads are memory-mapped (no copy) unless `use_mmap` is False."""
    env = read_envelope(path, Kind.PACKED, use_mmap, max_bytes)
    check_schema(env, schema)
    dim = meta_int(env, 'dim', 1, MAX_DIM - 1)
    n = meta_int(env, 'n')
    row_words = meta_int(env, 'row_words', -(-dim // 64))
    if n * row_words * 8 != len(env.payload):
        raise FormatError(env.path, env.payload_offset, f'payload has {len(env.payload)} bytes, n={n} rows of '
                                                        f'{row_words} words need {n * row_words * 8}')
    return PackedPayload(dim, n, row_words, array_view(env.payload, '<u8', 0, n * row_words), env.meta)
