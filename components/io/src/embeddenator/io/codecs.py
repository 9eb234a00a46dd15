"""Payload codecs: none, zlib, and zstd when `zstandard` is installed. Decoding never outgrows the header."""
from __future__ import annotations

import zlib
from typing import Iterable

from embeddenator.io.errors import FormatError
from embeddenator.io.header import Codec

try:
    import zstandard
except ImportError:     # optional: zstd files then fail with a FormatError that says what to install
    zstandard = None

ZLIB_MAX_RATIO = 1032           # deflate cannot expand more than this: a larger raw length is a lie
_CHUNK = 1 << 20


def available_codecs() -> list[str]:
    """Names of the codecs this installation can write and read ('zstd' only with `zstandard` installed).

    >>> from embeddenator.io import available_codecs
    >>> available_codecs()[:2]
    ['none', 'zlib']
    """
    return [c.name.lower() for c in Codec if c != Codec.ZSTD or zstandard is not None]


def codec_of(name: str | Codec) -> Codec:
    """The Codec for a case-insensitive name or a Codec; ValueError names the choices or the package to install."""
    try:
        codec = name if isinstance(name, Codec) else Codec[str(name).upper()]
    except KeyError:
        raise ValueError(f'unknown codec {name!r}: choose one of {available_codecs()}') from None
    if codec == Codec.ZSTD and zstandard is None:
        raise ValueError('codec zstd needs the zstandard package: pip install zstandard')
    return codec


def encode(codec: Codec, chunks: Iterable[memoryview], level: int | None = None) -> list[bytes | memoryview]:
    """The stored form of the payload chunks (kept as chunks: codec none copies nothing)."""
    if codec == Codec.NONE:
        return list(chunks)
    if codec == Codec.ZLIB:
        comp = zlib.compressobj(6 if level is None else level)
        out = [comp.compress(c) for c in chunks]
        return [*out, comp.flush()]
    comp = zstandard.ZstdCompressor(level=3 if level is None else level, write_content_size=False)
    obj = comp.compressobj()
    out = [obj.compress(c) for c in chunks]
    return [*out, obj.flush()]


def decode(path, offset: int, codec: Codec, data: memoryview, raw_len: int, limit: int) -> bytes | memoryview:
    """The raw payload, exactly `raw_len` bytes; anything else is a FormatError at the payload's offset."""
    if raw_len > limit:
        raise FormatError(path, 24, f'raw length {raw_len} exceeds the reader limit of {limit} bytes '
                                    '(pass a larger max_bytes if the file is genuine)')
    if codec == Codec.NONE:
        return data
    if codec == Codec.ZLIB:
        if raw_len > ZLIB_MAX_RATIO * len(data) + 64:
            raise FormatError(path, 24, f'raw length {raw_len} is impossible for {len(data)} bytes of zlib')
        out = _inflate(path, offset, data, raw_len)
    elif zstandard is None:
        raise FormatError(path, 8, 'codec zstd needs the zstandard package: pip install zstandard')
    else:
        out = _unzstd(path, offset, data, raw_len)
    if len(out) != raw_len:
        raise FormatError(path, offset, f'payload decodes to {len(out)} bytes, the header says {raw_len}')
    return out


def _inflate(path, offset, data, raw_len):
    obj = zlib.decompressobj()
    try:
        out = obj.decompress(data, raw_len)     # max_length: output grows with real data, never past raw_len
    except zlib.error as err:
        raise FormatError(path, offset, f'corrupt zlib payload: {err}') from None
    if obj.unconsumed_tail or obj.unused_data or not obj.eof:
        raise FormatError(path, offset, 'zlib payload does not end exactly where the header says')
    return out


def _unzstd(path, offset, data, raw_len):
    parts, total = [], 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
            while total <= raw_len:
                part = reader.read(min(_CHUNK, raw_len + 1 - total))
                if not part:
                    break
                parts.append(part)
                total += len(part)
    except zstandard.ZstdError as err:
        raise FormatError(path, offset, f'corrupt zstd payload: {err}') from None
    return b''.join(parts)
