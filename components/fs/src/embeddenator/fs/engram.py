"""The engram: root vector, chunk codebook, manifest, correction store and hierarchy, saved as io envelopes.

On disk (schema ``embeddenator-fs/engram/v4``) it is a journal of `embeddenator.io` arrays envelopes (see
`journal`): segment 0 written atomically by ingest and compact (a failed save leaves the previous file as it was),
one segment appended per update. Each segment stores the unique chunks it adds as zstd-compressed content (see
`store`); codebook rows are derived from them on demand. It is memory-mapped on load so extraction reads the
frames lazily, and the load checks the small arrays by their own SHA-256 instead of hashing the whole file. v3
engrams (the same journal holding packed codebook rows and corrections) and v1, v2 engrams (one envelope, checked
whole on load) are still read; a newer schema is a FormatError that says to upgrade.
"""
from __future__ import annotations

import json
import mmap
import os
from dataclasses import dataclass, field

import numpy as np

from embeddenator.fs import journal
from embeddenator.fs.codec import ChunkCodec
from embeddenator.fs.corrections import KINDS as FIX_KINDS, Correction
from embeddenator.fs.errors import FsError, cannot_write
from embeddenator.fs.hierarchy import Sparse
from embeddenator.fs.manifest import KINDS, SPECIAL, Entry, decode_path, encode_path
from embeddenator.fs.store import ChunkStore, DerivedRows, FrameWriter, Packer, Part, chunk_lengths, row_arrays

SCHEMA = 'embeddenator-fs/engram/v4'
RELEASE_BYTES = 32 << 20         # mapped engram bytes read between two releases of the touched pages
# v2 added owners, hard links, fifos, devices, sparse extents, root; v3 the journal of segments and deleted records;
# v4 stores chunk content (zstd frames) instead of codebook rows and corrections
LEGACY = ('embeddenator-fs/engram/v1', 'embeddenator-fs/engram/v2')
V3 = 'embeddenator-fs/engram/v3'
READABLE = (*LEGACY, V3, SCHEMA)
V3_ROW_ARRAYS = ('codebook', 'digests', 'fix_rows', 'fix_kinds', 'fix_offsets', 'fix_payload')
ROW_ARRAYS = ('frames', 'digests', 'frame_offsets', 'row_frames', 'row_starts', 'row_lengths')   # lazy one first


@dataclass
class Engram:
    codec: ChunkCodec
    entries: list[Entry]
    chunk_ids: np.ndarray                 # int64: file.first .. file.first + file.count -> codebook row
    codebook: np.ndarray                  # (m, 2, H) uint64 packed chunk vectors (vsa.PackedMatrix rows), unique
    #                                       (v4: DerivedRows, encoded from `store` on demand)
    digests: np.ndarray                   # (m, 16) uint8 BLAKE2b-128 of each unique chunk's bytes
    corrections: dict[int, Correction]    # codebook row -> correction (absent: the decode is exact)
    file_vectors: list[Sparse]            # one per file entry, in entry order (thinned bundles of chunks)
    hierarchy: dict[bytes, Sparse]        # directory prefix -> sub-engram; b'' is the root
    stats: dict = field(default_factory=dict)
    root_entry: Entry | None = None       # the source folder's own mode, owner and mtime (a lone folder source)
    mapping: object = field(default=None, repr=False, compare=False)   # the file's mmap when loaded from one
    deleted: list = field(default_factory=list)   # {'path', 'kind', 'generation'} of entries removed since compact
    journal: dict = field(default_factory=dict, repr=False, compare=False)   # segments, end, sizes (loaded v3)
    unreleased: int = field(default=0, repr=False, compare=False)
    store: ChunkStore | None = field(default=None, repr=False, compare=False)   # v4: the unique chunks' bytes

    def note_read(self, nbytes: int) -> None:
        """Count bytes read through the map; past RELEASE_BYTES, drop the pages this process has touched (they
        stay in the page cache and map again on the next read), so a large engram never fills the resident set.
        Threads may race on the count: that only moves a release a little."""
        self.unreleased += nbytes
        if self.unreleased >= RELEASE_BYTES and self.mapping is not None:
            self.unreleased = 0
            self.mapping.madvise(mmap.MADV_DONTNEED)

    def chunk_rows(self, ids) -> np.ndarray:
        """Zero-padded bytes (n, chunk_size) uint8 of the unique chunks `ids`: read from the store (v4), or decoded
        from the codebook with their corrections applied (v1 to v3; files made of them are checked by SHA-256)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self.store is not None:
            return self.store.rows(ids)
        from embeddenator.fs.corrections import apply_correction
        out = np.array(self.codec.decode(np.asarray(self.codebook[ids])), dtype=np.uint8)
        for k in np.flatnonzero(np.isin(ids, list(self.corrections))):
            row = int(ids[k])
            fix = self.corrections[row]
            fixed = apply_correction(out[k], fix)
            if fix.kind == 'verbatim' or fixed.size != out.shape[1]:
                out[k] = 0
                out[k, :fixed.size] = fixed[:out.shape[1]]
            else:
                out[k] = fixed
        return out

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
                'root_nnz': self.root.nnz, 'deduplicated_bytes': self.deduplicated_bytes(), **self.stats,
                **self.storage()}

    def storage(self) -> dict:
        """Live and dead stored bytes: a codebook row (with its digest) is live while a file's chunk uses it; rows
        only removed or replaced files used, and the state arrays of earlier generations, are dead until compact."""
        row_bytes = 16 * self.codec.half + 16
        if self.store is not None and len(self.store):       # a row costs its share of the frames
            row_bytes = self.store.stored_bytes // len(self.store) + 16 + 2
        live_rows = int(np.unique(np.asarray(self.chunk_ids)).size)
        dead_rows = int(self.codebook.shape[0]) - live_rows
        return {'generation': self.journal.get('generation', 0), 'deleted_entries': len(self.deleted),
                'live_rows': live_rows, 'dead_rows': dead_rows, 'live_bytes': live_rows * row_bytes,
                'dead_bytes': dead_rows * row_bytes + self.journal.get('superseded_bytes', 0)}

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


def state_arrays(engram: Engram) -> dict[str, np.ndarray]:
    """The manifest (deleted records included), chunk table and vectors: what one generation's state is."""
    manifest = {'entries': [e.to_json() for e in engram.entries],
                'prefixes': [encode_path(p) for p in engram.hierarchy]}
    if engram.root_entry is not None:
        manifest['root'] = {k: v for k, v in engram.root_entry.to_json().items() if k not in ('path', 'kind')}
    if engram.deleted:
        manifest['deleted'] = [{**d, 'path': encode_path(d['path'])} for d in engram.deleted]
    arrays = {'manifest': np.frombuffer(json.dumps(manifest, separators=(',', ':')).encode(), dtype=np.uint8),
              'chunk_ids': np.asarray(engram.chunk_ids).astype('<i8')}
    for name, vectors in (('files', engram.file_vectors), ('tree', list(engram.hierarchy.values()))):
        arrays.update({f'{name}_{k}': v for k, v in _flatten(vectors).items()})
    return arrays


def content_arrays(engram: Engram, folder=None) -> tuple[dict, FrameWriter | None]:
    """The row arrays of segment 0 for every unique chunk of `engram` (its store's own when it has one part, else
    the chunks read back and compressed again, their frames waiting in a temporary file in `folder`), and the
    frame writer to close once they are written."""
    store = engram.store
    digests = np.asarray(engram.digests).astype(np.uint8, copy=False)
    if store is not None and len(store.parts) == 1:
        part = store.parts[0]
        return {'frames': part.frames, 'digests': digests, 'frame_offsets': part.frame_offsets,
                'row_frames': part.row_frames.astype('<i4'), 'row_starts': part.row_starts.astype('<i4'),
                'row_lengths': part.lengths.astype('<u2')}, None
    m = int(engram.codebook.shape[0])
    lengths = store.lengths if store is not None else _legacy_lengths(engram, m)
    writer = FrameWriter(folder)
    units, starts = np.zeros(m, np.int64), np.zeros(m, np.int64)
    with Packer(writer, 0) as packer:
        for k in range(0, m, 512):
            ids = np.arange(k, min(k + 512, m))
            rows = engram.chunk_rows(ids)
            data = b''.join(rows[i, :n].tobytes() for i, n in enumerate(lengths[ids].tolist()))
            units[ids], at = packer.add(data)
            starts[ids] = at + np.cumsum(lengths[ids]) - lengths[ids]
    return {'digests': digests, **row_arrays(writer, units, starts, lengths)}, writer


def _legacy_lengths(engram: Engram, m: int) -> np.ndarray:
    """Each codebook row's chunk length, from the files that use it (a v1 to v3 engram does not store them)."""
    out = np.full(m, engram.codec.chunk_size, dtype=np.int64)
    for e in engram.files:
        ids = np.asarray(engram.chunk_ids[e.first: e.first + e.count])
        out[ids] = chunk_lengths(e, engram.codec.chunk_size)
    return out


def to_arrays(engram: Engram, folder=None) -> tuple[dict[str, np.ndarray], dict, object]:
    """Named arrays and metadata that hold the whole engram (segment 0 of a journal), and the frame writer to
    close once they are written."""
    rows, writer = content_arrays(engram, folder)
    arrays = {**state_arrays(engram), **rows}
    return arrays, {'codec': engram.codec.describe(), 'stats': engram.stats, 'segment': 0, 'base_rows': 0,
                    'checks': journal.checks(arrays)}, writer


def attach_store(engram: Engram, parts: list[Part]) -> Engram:
    """Give `engram` (v4) its chunk store and the codebook derived from it; no corrections."""
    engram.store = ChunkStore(parts, engram.codec.chunk_size)
    engram.codebook = DerivedRows(engram.store, engram.codec)
    engram.corrections = {}
    return engram


def _corrections(arrays: dict) -> dict[int, Correction]:
    payload = bytes(arrays['fix_payload'])
    offsets = arrays['fix_offsets']
    return {int(row): Correction(FIX_KINDS[kind], payload[offsets[i]:offsets[i + 1]])
            for i, (row, kind) in enumerate(zip(arrays['fix_rows'], arrays['fix_kinds']))}


def from_arrays(arrays: dict, meta: dict) -> Engram:
    """Inverse of `to_arrays`."""
    codec = ChunkCodec(**meta['codec'])
    manifest = json.loads(bytes(arrays['manifest']).decode('utf-8'))
    entries = [Entry.from_json(item) for item in manifest['entries']]
    corrections = arrays['corrections'] if 'corrections' in arrays else _corrections(arrays)
    prefixes = [decode_path(p) for p in manifest['prefixes']]
    root = Entry.from_json(manifest['root'], root=True) if 'root' in manifest else None
    deleted = [{'path': decode_path(d['path']), 'kind': str(d['kind']), 'generation': int(d['generation'])}
               for d in manifest.get('deleted', [])]
    return Engram(codec, entries, arrays['chunk_ids'], arrays.get('codebook'), arrays['digests'], corrections,
                  _unflatten(arrays, 'files'), dict(zip(prefixes, _unflatten(arrays, 'tree'))), meta.get('stats', {}),
                  root, deleted=deleted)


def save(engram: Engram, path) -> None:
    """Write atomically through io: the previous file stays whole if anything fails."""
    from embeddenator.io import write_arrays
    arrays, meta, writer = to_arrays(engram, os.path.dirname(os.path.abspath(path)))
    try:
        write_arrays(path, arrays, schema=SCHEMA, extra=meta)
    except OSError as err:
        raise cannot_write(path, err) from None
    finally:
        if writer is not None:
            writer.close()


def remap(engram: Engram, path) -> Engram:
    """`engram`, just saved at `path` by this process, reading its chunks memory-mapped from the file (its frames
    were waiting in a temporary file); nothing else is read again."""
    with open(path, 'rb') as fh:
        mapping = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    segment = journal.walk(os.fspath(path), memoryview(mapping), SCHEMA)[0]
    attach_store(engram, [Part.of(segment.arrays)])
    engram.digests, engram.mapping = segment.arrays['digests'], mapping
    return engram


def _check_schema(name: str, meta: dict) -> None:
    """FormatError unless the file is an engram this version reads; a newer one says to upgrade."""
    from embeddenator.io import FormatError
    from embeddenator.io.header import HEADER_SIZE
    schema = meta.get('schema')
    if schema in READABLE:
        return
    if isinstance(schema, str) and schema.startswith(SCHEMA[:-1]):
        raise FormatError(name, HEADER_SIZE, f'schema is {schema!r}, written by a newer embeddenator-fs (this '
                          f'one reads {", ".join(READABLE)}); upgrade embeddenator-fs')
    raise FormatError(name, HEADER_SIZE, f'schema is {schema!r}, expected {SCHEMA!r}: not an engram')


def _load_journal(name: str, data, mapping, schema: str) -> Engram:
    """The state of the last whole segment (see `journal`): rows (and v3 corrections) of every segment, the
    manifest, chunk table and vectors of the last; a torn append at the tail is left out."""
    from embeddenator.io import FormatError
    segments = journal.walk(name, data, schema)
    row_names = ROW_ARRAYS if schema == SCHEMA else V3_ROW_ARRAYS
    if len(segments) > 1 and not journal.envelope_ok(data, segments[-1]):
        segments.pop()                                  # a torn append: the state is the one before it
    rows, corrections = 0, {}
    for seg in segments:
        if seg.meta.get('base_rows') != rows:
            raise FormatError(name, seg.start, f"segment {seg.meta['segment']} starts at codebook row "
                              f"{seg.meta.get('base_rows')!r}, the segments before it hold {rows} rows")
        journal.verify_checks(name, seg, row_names[1:])
        if schema != SCHEMA:
            corrections.update(_corrections(seg.arrays))
        rows += seg.arrays['digests'].shape[0]
    last = segments[-1]
    journal.verify_checks(name, last, [k for k in last.arrays if k not in row_names])
    digests = [s.arrays['digests'] for s in segments]
    arrays = {**last.arrays, 'corrections': corrections,
              'digests': digests[0] if len(digests) == 1 else np.concatenate(digests)}
    if schema != SCHEMA:
        parts = [s.arrays['codebook'] for s in segments if len(s.arrays['codebook'])] or [last.arrays['codebook']]
        arrays['codebook'] = parts[0] if len(parts) == 1 else journal.SegmentedRows(parts)
    engram = from_arrays(arrays, last.meta)
    if schema == SCHEMA:
        attach_store(engram, [Part.of(s.arrays) for s in segments])
    engram.mapping = mapping
    engram.journal = {'generation': len(segments) - 1, 'end': last.end, 'file_bytes': len(data), 'schema': schema,
                      'superseded_bytes': sum(a.nbytes for s in segments[:-1] for k, a in s.arrays.items()
                                              if k not in row_names)}
    return engram


def load(path) -> Engram:
    """Read an engram, checking its small arrays (v3) or the whole file (v1, v2); io's FormatError for a damaged
    file, FsError for a missing one."""
    from embeddenator.io import FormatError, read_envelope
    from embeddenator.io.arrays import unpack_arrays
    from embeddenator.io.header import Kind
    from embeddenator.fs.stale import is_partial
    if is_partial(path):
        raise FsError(f'{os.fspath(path)}: an unfinished engram write (a .partial file), not an engram; the next '
                      'ingest to its target removes it once its writer is gone')
    name = os.fspath(path)
    try:
        with open(path, 'rb') as fh:
            st = os.fstat(fh.fileno())
            mapping = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if st.st_size else None
    except FileNotFoundError:
        raise FsError(f'{name}: no such engram; check the path') from None
    except OSError as err:
        raise FsError(f'{name}: cannot read the engram ({err.strerror})') from None
    first = journal.peek(name, memoryview(mapping), 0) if mapping is not None else None
    if first is not None:
        _check_schema(name, first[1])
    try:
        if first is not None and first[1]['schema'] in (V3, SCHEMA):
            engram = _load_journal(name, memoryview(mapping), mapping, first[1]['schema'])
        else:
            if mapping is not None:
                mapping.close()
            env = read_envelope(path, Kind.ARRAYS, use_mmap=True)       # v1, v2 (or a truncated file): all checked
            _check_schema(name, env.meta)
            engram = from_arrays(unpack_arrays(env), env.meta)
            engram.mapping = getattr(env.payload, 'obj', None) if isinstance(env.payload, memoryview) else None
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, FsError) as err:
        raise FormatError(name, 0, f'not a valid engram ({type(err).__name__}: {err})') from None
    engram.journal['mtime_ns'] = st.st_mtime_ns
    return engram


def verify(path) -> int:
    """Check every byte of the engram at `path` against its checksums (the envelope SHA-256 of each segment: what
    `load` leaves to the per-chunk digests); io's FormatError naming the damaged segment. A torn append at the tail
    is not damage (it was never part of the engram). Returns the number of segments checked."""
    from embeddenator.io import FormatError
    engram = load(path)
    if engram.mapping is None or 'end' not in engram.journal:
        return 1                                        # v1, v2: load checked the whole file
    data = memoryview(engram.mapping)[:engram.journal['end']]
    segments = journal.walk(os.fspath(path), data, engram.journal['schema'])
    for seg in segments:
        if not journal.envelope_ok(data, seg):
            raise FormatError(os.fspath(path), seg.start, f"checksum mismatch: segment {seg.meta['segment']} is "
                              'corrupt (SHA-256 of header and payload)')
    return len(segments)
