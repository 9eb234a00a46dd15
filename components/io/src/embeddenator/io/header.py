"""The fixed 64-byte envelope header: layout, field codes and the checks that need no payload."""
from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from embeddenator.io.errors import FormatError

MAGIC = b'EDN1'
FORMAT_VERSION = 1
HEADER_SIZE = 64
ALIGN = 64                      # payloads start on a 64-byte boundary: SIMD loads and cache lines
MAX_META = 1 << 20              # metadata is small JSON; more is corruption, not data
SIGNED = 32                     # header bytes covered by the checksum (everything before the digest)

# magic, version, kind, codec, flags, reserved, meta length, stored length, raw length, SHA-256 digest
_LAYOUT = struct.Struct('<4sHHBBHIQQ32s')
assert _LAYOUT.size == HEADER_SIZE


class Kind(enum.IntEnum):
    """What an envelope's payload holds (header field `kind`); readers refuse a file of another kind."""
    SPARSE = 1      # a batch of sparse ternary vectors (CSR: index pointers and sorted indices)
    PACKED = 2      # a packed codebook: rows of uint64 words, memory-mappable
    JSON = 3        # a JSON manifest
    ARRAYS = 4      # named numeric arrays, each 64-byte aligned


class Codec(enum.IntEnum):
    """How the payload is stored (header field `codec`); zstd needs the `zstandard` package."""
    NONE = 0
    ZLIB = 1
    ZSTD = 2


@dataclass(frozen=True)
class Header:
    kind: Kind
    codec: Codec
    meta_len: int
    stored_len: int
    raw_len: int
    digest: bytes = bytes(32)
    version: int = FORMAT_VERSION

    @property
    def payload_offset(self) -> int:
        return align(HEADER_SIZE + self.meta_len)

    @property
    def file_size(self) -> int:
        return self.payload_offset + self.stored_len

    def pack(self) -> bytes:
        """The 64-byte on-disk header; flags and reserved bytes are always zero."""
        return _LAYOUT.pack(MAGIC, self.version, self.kind, self.codec, 0, 0, self.meta_len, self.stored_len,
                            self.raw_len, self.digest)


def align(n: int) -> int:
    """`n` rounded up to a multiple of ALIGN (64), where payloads and arrays start.

    >>> from embeddenator.io.header import align
    >>> align(0), align(1), align(64), align(65)
    (0, 64, 64, 128)
    """
    return -(-n // ALIGN) * ALIGN


def parse_header(path, data: bytes, file_size: int) -> Header:
    """Decode and check the fixed fields against each other and the file size; the digest is checked later."""
    if len(data) < HEADER_SIZE:
        raise FormatError(path, len(data), f'truncated: the header needs {HEADER_SIZE} bytes, the file has '
                                           f'{len(data)}')
    magic, version, kind, codec, flags, reserved, meta_len, stored, raw, digest = _LAYOUT.unpack_from(data)
    if magic != MAGIC:
        raise FormatError(path, 0, f'wrong magic {magic!r}: not an Embeddenator file (expected {MAGIC!r})')
    if version != FORMAT_VERSION:
        raise FormatError(path, 4, f'unsupported format version {version} (this reader knows {FORMAT_VERSION})')
    if kind not in Kind._value2member_map_:
        raise FormatError(path, 6, f'unknown kind {kind}')
    if codec not in Codec._value2member_map_:
        raise FormatError(path, 8, f'unknown codec {codec}')
    if flags or reserved:
        raise FormatError(path, 9, f'reserved header bytes are not zero (flags={flags}, reserved={reserved})')
    if meta_len > MAX_META:
        raise FormatError(path, 12, f'metadata length {meta_len} exceeds the {MAX_META}-byte limit')
    header = Header(Kind(kind), Codec(codec), meta_len, stored, raw, digest, version)
    if header.payload_offset > file_size:
        raise FormatError(path, file_size, f'truncated: metadata ends at byte {header.payload_offset}, '
                                           f'the file has {file_size}')
    if header.file_size > file_size:
        raise FormatError(path, file_size, f'truncated: payload length {stored} needs {header.file_size} '
                                           f'bytes, the file has {file_size}')
    if header.file_size < file_size:
        raise FormatError(path, header.file_size, f'{file_size - header.file_size} unexpected bytes after the '
                                                  'payload')
    if codec == Codec.NONE and raw != stored:
        raise FormatError(path, 24, f'raw length {raw} differs from stored length {stored} without a codec')
    return header
