"""The engram journal (formats v3 and v4): a file of segments, each one complete io arrays envelope, so an update
appends what changed instead of rewriting (and re-hashing) the whole engram.

Segment 0 is written by ingest and compact (io's atomic replace). An update appends segment k: the unique chunks
it adds (rows `base_rows` onwards; v4: their compressed frames, lengths and digests; v3: their codebook rows,
digests and corrections), and the whole current manifest, chunk table and vectors (small next to the rows). Every
segment's size is a multiple of 64, so each starts on a 64-byte boundary and its arrays map aligned. The last
segment that parses holds the current state.

Checks, so loading never hashes the whole file: each segment's metadata carries `checks`, the SHA-256 of every
array but the frames (v3: the codebook); load verifies the other row arrays of every segment and the state arrays
of the last. A journal segment at the tail must also match its envelope checksum: one that does not, or that runs
past the end of the file, is a torn append (a writer killed or a machine stopped mid-write) and the state is the
segment before it; the next append cuts it off. Frames (v3: codebook rows) are verified lazily, as they are read:
zstd's frame checksum, per-chunk BLAKE2b digests (mount) and per-file SHA-256 (extract); `verify` checks every
segment's envelope checksum.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import struct
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from embeddenator.io import Envelope, FormatError, Kind, envelope_bytes, unpack_arrays
from embeddenator.io.arrays import pack_arrays
from embeddenator.io.header import HEADER_SIZE, SIGNED, Header, align, parse_header

LAZY = frozenset({'codebook', 'frames'})     # arrays checked as they are read, not at load


@dataclass
class Segment:
    start: int                          # byte offset in the file
    header: Header
    meta: dict
    arrays: dict                        # read-only views into the file's map

    @property
    def end(self) -> int:
        return self.start + self.header.file_size


def checks(arrays: dict) -> dict:
    """SHA-256 (hex) of every array but the lazily verified ones, for a segment's metadata."""
    return {name: _sha256(a) for name, a in arrays.items() if name not in LAZY}


def _sha256(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).reshape(-1).view(np.uint8)).hexdigest()


def verify_checks(name: str, segment: Segment, which) -> None:
    """FormatError unless the arrays `which` of `segment` match the SHA-256 its metadata gives."""
    stored = segment.meta.get('checks')
    if not isinstance(stored, dict):
        raise FormatError(name, segment.start + HEADER_SIZE, f"segment {segment.meta.get('segment')} has no "
                          "'checks'; the engram is damaged")
    for key in which:
        if stored.get(key) != _sha256(segment.arrays[key]):
            raise FormatError(name, segment.start + segment.header.payload_offset,
                              f"checksum mismatch: array {key!r} of segment {segment.meta.get('segment')} is "
                              'corrupt (SHA-256)')


def envelope_ok(data, segment: Segment) -> bool:
    """Whether the segment's bytes match its envelope checksum (reads all of them)."""
    digest = hashlib.sha256(data[segment.start: segment.start + SIGNED])
    digest.update(data[segment.start + HEADER_SIZE: segment.end])
    return digest.digest() == segment.header.digest


def peek(name: str, data, start: int) -> tuple[Header, dict] | None:
    """The header and metadata of the envelope at `start`; None when it runs past the end of `data` (torn)."""
    if len(data) - start < HEADER_SIZE:
        return None
    raw = bytes(data[start: start + HEADER_SIZE])
    meta_len, stored = struct.unpack_from('<I', raw, 12)[0], struct.unpack_from('<Q', raw, 16)[0]
    size = align(HEADER_SIZE + meta_len) + stored
    if size > len(data) - start:
        return None
    header = parse_header(name, raw, size)
    try:
        meta = json.loads(bytes(data[start + HEADER_SIZE: start + HEADER_SIZE + header.meta_len]).decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise FormatError(name, start + HEADER_SIZE, f'segment metadata is not UTF-8 JSON: {err}') from None
    if not isinstance(meta, dict):
        raise FormatError(name, start + HEADER_SIZE, 'segment metadata is not a JSON object')
    return header, meta


def walk(name: str, data, schema: str) -> list[Segment]:
    """Every segment that parses, in order; the first is required, a later one that does not parse ends the
    journal (a torn append; the next one cuts it off)."""
    segments: list[Segment] = []
    start = 0
    while start < len(data):
        try:
            found = peek(name, data, start)
        except FormatError:
            if not segments:
                raise
            break
        if found is None:
            if not segments:
                raise FormatError(name, len(data), 'truncated: the first segment runs past the end of the file')
            break
        header, meta = found
        if header.kind != Kind.ARRAYS or meta.get('schema') != schema or meta.get('segment') != len(segments):
            if not segments:
                raise FormatError(name, start, f'segment 0 is not an engram segment of {schema!r}')
            break
        payload = data[start + header.payload_offset: start + header.file_size]
        env = Envelope(name, header, meta, payload)
        segments.append(Segment(start, header, meta, unpack_arrays(env)))
        start += header.file_size
    return segments


def append(path, end: int, arrays: dict, meta: dict, schema: str) -> int:
    """Write one segment at byte `end` of the engram at `path` (cutting off anything after it: a torn append),
    then fsync; returns the new end. The segment counts only once all of it is on disk and matches its checksum;
    a write that fails (a full disk) or is interrupted cuts the file back to `end`."""
    entries, chunks = pack_arrays(arrays)
    meta = {**meta, 'schema': schema, 'arrays': entries}
    fd = os.open(path, os.O_RDWR)
    try:
        if os.fstat(fd).st_size > end:
            os.ftruncate(fd, end)
        at = end
        try:
            for part in envelope_bytes(path, Kind.ARRAYS, chunks, meta):
                view = memoryview(part).cast('B')
                while view:
                    n = os.pwrite(fd, view, at)
                    at, view = at + n, view[n:]
            os.fsync(fd)
        except BaseException:           # a full disk, Ctrl-C: the file as it was (a torn tail would only be ignored)
            _cut_back(fd, end)
            raise
    finally:
        os.close(fd)
    return at


def _cut_back(fd: int, end: int) -> None:
    try:
        os.ftruncate(fd, end)
    except OSError:
        pass                            # the tail stays; load ignores it and the next append cuts it off


@contextmanager
def locked(path):
    """An exclusive lock on the engram file for one writer (update, add, rm); readers do not take it."""
    from embeddenator.fs.errors import FsError
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise FsError(f'{os.fspath(path)}: no such engram; check the path') from None
    except OSError as err:
        raise FsError(f'{os.fspath(path)}: cannot read the engram ({err.strerror})') from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class SegmentedRows:
    """Codebook rows spread over segments, indexed as one array: `rows[ids]` gathers, `np.asarray` joins."""

    def __init__(self, parts: list):
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])
        self.shape = (int(self.starts[-1]), *parts[0].shape[1:])
        self.dtype = parts[0].dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids):
        if isinstance(ids, slice):
            return self[np.arange(*ids.indices(len(self)))]
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim == 0:
            return self[ids[None]][0]
        out = np.empty((ids.size, *self.shape[1:]), dtype=self.dtype)
        which = np.searchsorted(self.starts, ids, side='right') - 1
        for k in np.unique(which):
            mask = which == k
            out[mask] = self.parts[k][ids[mask] - self.starts[k]]
        return out

    def __array__(self, dtype=None, copy=None):
        joined = np.concatenate(self.parts)
        return joined if dtype is None else joined.astype(dtype)
