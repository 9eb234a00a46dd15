"""Whole envelopes: header, JSON metadata, 64-byte aligned payload, SHA-256 over all of it.

Writing assembles the file in memory-light chunks and replaces the target atomically. Reading checks every
header field against the file, then the checksum, then decodes; only then does a payload reader see the bytes.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from embeddenator.io.atomic import atomic_write
from embeddenator.io.codecs import codec_of, decode, encode
from embeddenator.io.errors import FormatError
from embeddenator.io.header import HEADER_SIZE, MAX_META, SIGNED, Header, Kind, parse_header

DEFAULT_MAX_BYTES = 1 << 32     # a decoded payload larger than 4 GiB needs an explicit max_bytes


@dataclass(frozen=True)
class Envelope:
    path: str
    header: Header
    meta: dict
    payload: bytes | memoryview     # read-only; backed by the file's memory map when mapped

    @property
    def payload_offset(self) -> int:
        return self.header.payload_offset


class Streamed:
    """An array too large to hold in memory, written from blocks: `blocks()` yields its bytes in order (it is
    called once per pass: the checksum, then the write), so a writer's memory does not grow with it.

    >>> import numpy as np
    >>> from embeddenator.io import Streamed, read_arrays, write_arrays
    >>> import os, tempfile
    >>> rows = Streamed('<u8', (4, 2), lambda: (np.arange(k, k + 4, dtype='<u8') for k in (0, 4)))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_arrays(os.path.join(tmp, 'a.edn'), {'rows': rows})
    ...     read_arrays(os.path.join(tmp, 'a.edn'))['rows'].ravel().tolist()
    [0, 1, 2, 3, 4, 5, 6, 7]
    """

    def __init__(self, dtype: str, shape: tuple, blocks):
        self.dtype, self.shape, self.blocks = str(dtype), tuple(shape), blocks
        self.nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def _as_bytes(chunk):
    return chunk if isinstance(chunk, Streamed) else memoryview(chunk).cast('B')


def _parts(chunks):
    """Every chunk's bytes, a Streamed one block by block (checked against its declared size)."""
    for chunk in chunks:
        if not isinstance(chunk, Streamed):
            yield chunk
            continue
        total = 0
        for block in chunk.blocks():
            block = memoryview(block).cast('B')
            total += block.nbytes
            yield block
        if total != chunk.nbytes:
            raise ValueError(f'a streamed array gave {total} bytes, expected {chunk.nbytes}')


def write_envelope(path, kind: Kind, chunks: Iterable, meta: dict | None = None, codec='none',
                   level: int | None = None):
    """Write one envelope atomically; `chunks` are bytes-like (numpy arrays included, written without a copy)."""
    return atomic_write(path, envelope_bytes(path, kind, chunks, meta, codec, level))


def envelope_bytes(path, kind: Kind, chunks: Iterable, meta: dict | None = None, codec='none',
                   level: int | None = None):
    """The bytes of one envelope, header first, as byte-like parts (a `Streamed` array read block by block):
    what `write_envelope` writes, for a caller that puts envelopes one after another in a file of its own.
    `path` only names the file in errors."""
    raw = [_as_bytes(c) for c in chunks]
    codec = codec_of(codec)
    if codec != 0 and any(isinstance(c, Streamed) for c in raw):
        raise ValueError(f'{os.fspath(path)}: streamed arrays are written uncompressed only (codec none)')
    meta_bytes = json.dumps(meta or {}, sort_keys=True, separators=(',', ':')).encode('utf-8')
    if len(meta_bytes) > MAX_META:
        raise ValueError(f'{os.fspath(path)}: metadata is {len(meta_bytes)} bytes, the limit is {MAX_META}')
    stored = [_as_bytes(c) for c in encode(codec, raw, level)]
    header = Header(Kind(kind), codec, len(meta_bytes), sum(c.nbytes for c in stored), sum(c.nbytes for c in raw))
    body = [meta_bytes, bytes(header.payload_offset - HEADER_SIZE - len(meta_bytes)), *stored]
    digest = hashlib.sha256(header.pack()[:SIGNED])
    for chunk in _parts(body):
        digest.update(chunk)
    header = Header(header.kind, header.codec, header.meta_len, header.stored_len, header.raw_len, digest.digest())
    return _parts([header.pack(), *body])


def read_envelope(path, kind: Kind | None = None, use_mmap: bool = False,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Read and verify one envelope; `use_mmap` maps an uncompressed payload instead of reading it.

    Any corruption is a FormatError naming the file, the byte offset and the reason:

    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from embeddenator.io import FormatError, Kind, read_envelope, write_envelope
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp, 'm.edn')
    ...     _ = write_envelope(path, Kind.JSON, [b'{}'], {'note': 'demo'})
    ...     print(read_envelope(path).meta)
    ...     data = bytearray(path.read_bytes())
    ...     data[-1] ^= 1
    ...     _ = path.write_bytes(bytes(data))
    ...     try:
    ...         read_envelope(path)
    ...     except FormatError as err:
    ...         print(err.offset, err.reason)
    {'note': 'demo'}
    32 checksum mismatch: the file is corrupt (SHA-256 of header and payload)
    """
    name = os.fspath(path)
    with open(path, 'rb') as fh:
        size = os.fstat(fh.fileno()).st_size
        header = parse_header(name, fh.read(HEADER_SIZE), size)
        if use_mmap and header.codec == 0:
            # checked by reading, not through the map: hashing through it would make every page of the file
            # resident in this process (RSS as large as the file); the map is then touched only where read
            _verify_reading(name, header, fh)
            data = memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
            verified = True
        else:
            fh.seek(0)
            data = memoryview(fh.read())
            verified = False
    if len(data) != size:
        raise FormatError(name, len(data), f'the file changed size while being read ({size} -> {len(data)})')
    if kind is not None and header.kind != kind:
        raise FormatError(name, 6, f'kind is {header.kind.name}, expected {Kind(kind).name}')
    if not verified:
        _verify(name, header, data)
    meta = _parse_meta(name, bytes(data[HEADER_SIZE:HEADER_SIZE + header.meta_len]))
    start = header.payload_offset
    payload = decode(name, start, header.codec, data[start:], header.raw_len, max_bytes)
    return Envelope(name, header, meta, payload)


def _verify(name: str, header: Header, data: memoryview) -> None:
    digest = hashlib.sha256(data[:SIGNED])
    digest.update(data[HEADER_SIZE:])
    if digest.digest() != header.digest:
        raise FormatError(name, SIGNED, 'checksum mismatch: the file is corrupt (SHA-256 of header and payload)')


def _verify_reading(name: str, header: Header, fh, block: int = 1 << 20) -> None:
    fh.seek(0)
    digest = hashlib.sha256(fh.read(HEADER_SIZE)[:SIGNED])
    buf = bytearray(block)
    while n := fh.readinto(buf):
        digest.update(memoryview(buf)[:n])
    if digest.digest() != header.digest:
        raise FormatError(name, SIGNED, 'checksum mismatch: the file is corrupt (SHA-256 of header and payload)')


def _parse_meta(name: str, raw: bytes) -> dict:
    try:
        meta = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise FormatError(name, HEADER_SIZE, f'metadata is not UTF-8 JSON: {err}') from None
    if not isinstance(meta, dict):
        raise FormatError(name, HEADER_SIZE, f'metadata is a JSON {type(meta).__name__}, expected an object')
    return meta
