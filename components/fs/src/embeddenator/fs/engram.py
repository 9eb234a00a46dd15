"""The engram: root vector, chunk codebook, manifest, correction store and hierarchy, saved as one io envelope.

On disk it is an `embeddenator.io` arrays envelope (schema ``embeddenator-fs/engram/v1``): checksummed, written
atomically (a failed save leaves the previous file as it was), memory-mapped on load so extraction reads the
codebook lazily.
"""
from __future__ import annotations

import json
import mmap
import os
from dataclasses import dataclass, field

import numpy as np

from embeddenator.fs.codec import ChunkCodec
from embeddenator.fs.corrections import KINDS as FIX_KINDS, Correction
from embeddenator.fs.errors import FsError
from embeddenator.fs.hierarchy import Sparse
from embeddenator.fs.manifest import KINDS, SPECIAL, Entry, decode_path, encode_path
from embeddenator.io import Streamed

SCHEMA = 'embeddenator-fs/engram/v2'
RELEASE_BYTES = 32 << 20         # mapped engram bytes read between two releases of the touched pages
READABLE = ('embeddenator-fs/engram/v1', SCHEMA)    # v2 added owners, hard links, fifos, devices, sparse extents, root


@dataclass
class Engram:
    codec: ChunkCodec
    entries: list[Entry]
    chunk_ids: np.ndarray                 # int64: file.first .. file.first + file.count -> codebook row
    codebook: np.ndarray                  # (m, 2, H) uint64 packed chunk vectors (vsa.PackedMatrix rows), unique
    digests: np.ndarray                   # (m, 16) uint8 BLAKE2b-128 of each unique chunk's bytes
    corrections: dict[int, Correction]    # codebook row -> correction (absent: the decode is exact)
    file_vectors: list[Sparse]            # one per file entry, in entry order (thinned bundles of chunks)
    hierarchy: dict[bytes, Sparse]        # directory prefix -> sub-engram; b'' is the root
    stats: dict = field(default_factory=dict)
    root_entry: Entry | None = None       # the source folder's own mode, owner and mtime (a lone folder source)
    mapping: object = field(default=None, repr=False, compare=False)   # the file's mmap when loaded from one
    unreleased: int = field(default=0, repr=False, compare=False)

    def note_read(self, nbytes: int) -> None:
        """Count bytes read through the map; past RELEASE_BYTES, drop the pages this process has touched (they
        stay in the page cache and map again on the next read), so a large engram never fills the resident set.
        Threads may race on the count: that only moves a release a little."""
        self.unreleased += nbytes
        if self.unreleased >= RELEASE_BYTES and self.mapping is not None:
            self.unreleased = 0
            self.mapping.madvise(mmap.MADV_DONTNEED)

    @property
    def root(self) -> Sparse:
        return self.hierarchy[b'']

    @property
    def files(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == 'file']

    def summary(self) -> dict:
        """Counts for display (files, dirs, symlinks, hard links, fifos and devices, bytes, chunks, unique chunks,
        corrections, sub-engrams, root nnz) merged with the ingest stats."""
        kinds = {k: sum(e.kind == k for e in self.entries) for k in KINDS}
        return {'codec': self.codec.describe(), 'files': kinds['file'], 'dirs': kinds['dir'],
                'symlinks': kinds['symlink'], 'hardlinks': kinds['hardlink'],
                'special': sum(kinds[k] for k in SPECIAL), 'bytes': sum(e.size for e in self.files),
                'chunks': int(self.chunk_ids.size), 'unique_chunks': int(self.codebook.shape[0]),
                'corrections': len(self.corrections), 'sub_engrams': len(self.hierarchy),
                'root_nnz': self.root.nnz, 'deduplicated_bytes': self.deduplicated_bytes(), **self.stats}

    def deduplicated_bytes(self) -> int:
        """Bytes of data the unique chunks hold: each identical chunk (same BLAKE2b digest) counted once, where
        the logical size (`bytes` in `summary`) counts every copy."""
        size, lengths = self.codec.chunk_size, np.zeros(int(self.chunk_ids.size), dtype=np.int64)
        for e in self.files:
            at = e.first
            for _, length in e.data_extents():
                n = -(-length // size)
                lengths[at: at + n] = size
                if n:
                    lengths[at + n - 1] = length - (n - 1) * size
                at += n
        _, first = np.unique(np.asarray(self.chunk_ids), return_index=True)
        return int(lengths[first].sum())


def _flatten(vectors: list[Sparse]) -> dict[str, np.ndarray]:
    offsets = np.zeros(len(vectors) + 1, dtype='<i8')
    offsets[1:] = np.cumsum([v.nnz for v in vectors])
    idx = np.concatenate([v.idx for v in vectors]) if vectors else np.zeros(0, np.int32)
    sign = np.concatenate([v.sign for v in vectors]) if vectors else np.zeros(0, np.int8)
    return {'idx': idx.astype('<i4'), 'sign': sign.astype(np.int8), 'offsets': offsets}


def _unflatten(arrays: dict, prefix: str) -> list[Sparse]:
    idx, sign, offsets = (arrays[f'{prefix}_{k}'] for k in ('idx', 'sign', 'offsets'))
    return [Sparse(idx[a:b], sign[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]


def to_arrays(engram: Engram) -> tuple[dict[str, np.ndarray], dict]:
    """Named arrays and metadata that hold the whole engram."""
    order = sorted(engram.corrections)
    blobs = [engram.corrections[i].payload for i in order]
    fix_offsets = np.zeros(len(order) + 1, dtype='<i8')
    fix_offsets[1:] = np.cumsum([len(b) for b in blobs])
    manifest = {'entries': [e.to_json() for e in engram.entries],
                'prefixes': [encode_path(p) for p in engram.hierarchy]}
    if engram.root_entry is not None:
        manifest['root'] = {k: v for k, v in engram.root_entry.to_json().items() if k not in ('path', 'kind')}
    arrays = {
        'manifest': np.frombuffer(json.dumps(manifest, separators=(',', ':')).encode(), dtype=np.uint8),
        'chunk_ids': engram.chunk_ids.astype('<i8'),
        'codebook': (engram.codebook if isinstance(engram.codebook, Streamed)         # rows waiting on disk
                     else engram.codebook.astype('<u8', copy=False)),
        'digests': engram.digests.astype(np.uint8, copy=False),
        'fix_rows': np.asarray(order, dtype='<i8'),
        'fix_kinds': np.asarray([FIX_KINDS.index(engram.corrections[i].kind) for i in order], dtype=np.uint8),
        'fix_offsets': fix_offsets,
        'fix_payload': np.frombuffer(b''.join(blobs), dtype=np.uint8),
    }
    for name, vectors in (('files', engram.file_vectors), ('tree', list(engram.hierarchy.values()))):
        arrays.update({f'{name}_{k}': v for k, v in _flatten(vectors).items()})
    return arrays, {'codec': engram.codec.describe(), 'stats': engram.stats}


def from_arrays(arrays: dict, meta: dict) -> Engram:
    """Inverse of `to_arrays`."""
    codec = ChunkCodec(**meta['codec'])
    manifest = json.loads(bytes(arrays['manifest']).decode('utf-8'))
    entries = [Entry.from_json(item) for item in manifest['entries']]
    payload = bytes(arrays['fix_payload'])
    offsets = arrays['fix_offsets']
    corrections = {int(row): Correction(FIX_KINDS[kind], payload[offsets[i]:offsets[i + 1]])
                   for i, (row, kind) in enumerate(zip(arrays['fix_rows'], arrays['fix_kinds']))}
    prefixes = [decode_path(p) for p in manifest['prefixes']]
    root = Entry.from_json(manifest['root'], root=True) if 'root' in manifest else None
    return Engram(codec, entries, arrays['chunk_ids'], arrays['codebook'], arrays['digests'], corrections,
                  _unflatten(arrays, 'files'), dict(zip(prefixes, _unflatten(arrays, 'tree'))), meta.get('stats', {}),
                  root)


def save(engram: Engram, path) -> None:
    """Write atomically through io: the previous file stays whole if anything fails."""
    from embeddenator.io import write_arrays
    arrays, meta = to_arrays(engram)
    try:
        write_arrays(path, arrays, schema=SCHEMA, extra=meta)
    except OSError as err:
        raise FsError(f'{os.fspath(path)}: cannot write the engram ({err.strerror}); check the folder exists '
                      'and is writable') from None


def _check_schema(env) -> None:
    """FormatError unless the file is an engram this version reads; a newer one says to upgrade."""
    from embeddenator.io import FormatError
    from embeddenator.io.header import HEADER_SIZE
    schema = env.meta.get('schema')
    if schema in READABLE:
        return
    if isinstance(schema, str) and schema.startswith(SCHEMA[:-1]):
        raise FormatError(env.path, HEADER_SIZE, f'schema is {schema!r}, written by a newer embeddenator-fs (this '
                          f'one reads {", ".join(READABLE)}); upgrade embeddenator-fs')
    raise FormatError(env.path, HEADER_SIZE, f'schema is {schema!r}, expected {SCHEMA!r}: not an engram')


def load(path) -> Engram:
    """Read and verify an engram; io's FormatError for a damaged file, FsError for a missing one."""
    from embeddenator.io import FormatError, read_envelope
    from embeddenator.io.arrays import unpack_arrays
    from embeddenator.io.header import Kind
    from embeddenator.fs.stale import is_partial
    if is_partial(path):
        raise FsError(f'{os.fspath(path)}: an unfinished engram write (a .partial file), not an engram; the next '
                      'ingest to its target removes it once its writer is gone')
    try:
        env = read_envelope(path, Kind.ARRAYS, use_mmap=True)
    except FileNotFoundError:
        raise FsError(f'{os.fspath(path)}: no such engram; check the path') from None
    except OSError as err:
        raise FsError(f'{os.fspath(path)}: cannot read the engram ({err.strerror})') from None
    _check_schema(env)
    try:
        engram = from_arrays(unpack_arrays(env), env.meta)
        engram.mapping = getattr(env.payload, 'obj', None) if isinstance(env.payload, memoryview) else None
        return engram
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, FsError) as err:
        raise FormatError(env.path, 0, f'not a valid engram ({type(err).__name__}: {err})') from None
