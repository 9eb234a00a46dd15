"""On-disk formats: engram and codebook files with a versioned, checksummed envelope.

Every file is one envelope (see the README's format spec): a 64-byte header (magic `EDN1`), JSON metadata, a
64-byte aligned payload, and a SHA-256 of all of it. Writers replace files atomically; readers raise
`FormatError` (file, byte offset, reason) for anything they cannot fully trust.
"""
from importlib.metadata import PackageNotFoundError, version as _version

from embeddenator.io.arrays import read_arrays, unpack_arrays, write_arrays
from embeddenator.io.atomic import atomic_write
from embeddenator.io.codecs import available_codecs
from embeddenator.io.envelope import Envelope, Streamed, envelope_bytes, read_envelope, write_envelope
from embeddenator.io.errors import FormatError
from embeddenator.io.header import FORMAT_VERSION, HEADER_SIZE, MAGIC, Codec, Header, Kind
from embeddenator.io.manifest import read_json, write_json
from embeddenator.io.packed import PackedPayload, read_packed, write_packed
from embeddenator.io.sparse import SparseBatch, read_sparse, write_sparse

try:
    __version__ = _version('embeddenator-io')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'

READERS = {'envelope': read_envelope, 'packed': read_packed, 'sparse': read_sparse, 'json': read_json,
           'arrays': read_arrays}

__all__ = ['FORMAT_VERSION', 'HEADER_SIZE', 'MAGIC', 'READERS', 'Codec', 'Envelope', 'FormatError', 'Header',
           'Kind', 'PackedPayload', 'SparseBatch', 'Streamed', 'atomic_write', 'available_codecs', 'envelope_bytes',
           'read_arrays', 'read_envelope', 'read_json', 'read_packed', 'read_sparse', 'unpack_arrays', 'write_arrays',
           'write_envelope', 'write_json', 'write_packed', 'write_sparse', '__version__']
