"""The chunk store (format v4): each unique chunk's bytes, zstd-compressed in frames, instead of its codebook row.

With the exact codec (v1, one bit per trit) a codebook row is a deterministic function of its chunk's bytes, and
rows of trits barely compress (zstd: -3%) while file content does. So a v4 engram stores the content. Each unit
of ingest work (about 1 MiB: several small files, or one slice of a large one) is compressed by the worker that
read it into one zstd frame (io's codec, with its checksum): `frames` holds them back to back, `frame_offsets`
their boundaries. A unique chunk (a codebook row) is found by `row_frames` (its frame), `row_starts` (its byte
offset in the frame's content) and `row_lengths`; a chunk repeated within a frame is stored once by zstd itself
(a back-reference), and a frame no row points into is not stored. A read decompresses only the frames it touches
(a few are cached). Codebook rows are derived on demand (`DerivedRows`: query, export).

Frames are checked as they are read: zstd's frame checksum (a damaged frame fails to decompress), the per-chunk
BLAKE2b digest (mount), the per-file SHA-256 (extract); `verify` checks every segment's envelope.
"""
from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from embeddenator.fs.errors import IntegrityError, cannot_write
from embeddenator.io import Streamed

LEVEL = 1                   # zstd level, as `zstd -1`: the content of a tree compresses about as its tar does
CACHE_FRAMES = 16           # decompressed frames kept (about 16 MB at the default unit of work)
STREAM_BYTES = 4 << 20      # bytes per block when frames are streamed from their temporary file
PACK_BYTES = 1 << 20        # content per frame when chunks are compressed again (a rewrite, compact)


def _zstd():
    from embeddenator.io.codecs import zstandard
    if zstandard is None:
        raise IntegrityError('this engram stores its chunks zstd-compressed: pip install zstandard')
    return zstandard


def compress(data, level: int = LEVEL) -> bytes:
    """One frame of `data` (with zstd's content checksum)."""
    return _zstd().ZstdCompressor(level=level, write_checksum=True).compress(data)


def chunk_lengths(entry, chunk_size: int) -> np.ndarray:
    """The true length of each chunk of a file entry (every run of data starts a new chunk)."""
    out = []
    for _, length in entry.data_extents():
        n = -(-length // chunk_size)
        if n:
            out += [chunk_size] * (n - 1) + [length - (n - 1) * chunk_size]
    return np.asarray(out, dtype=np.int64)


class FrameWriter:
    """Frames as they come, numbered by their unit of work, in memory or (with a `folder`) in an unnamed temporary
    file there; `arrays(used)` gives the used ones back in number order. A write that fails there (a full disk) is
    an FsError naming `target`, the engram the frames are for."""

    def __init__(self, folder=None, target=None):
        self.target = target if target is not None else folder
        self.file = tempfile.TemporaryFile(dir=folder) if folder is not None else None
        self.parts: dict[int, bytes] = {}
        self.where: dict[int, tuple[int, int]] = {}          # frame number -> (position, size) in the file
        self.size = 0

    def put(self, number: int, frame: bytes) -> None:
        """Keep `frame` as frame `number` (appended to the temporary file when there is one)."""
        if self.file is None:
            self.parts[number] = frame
            return
        view, at = memoryview(frame), self.size
        try:
            while view:
                view = view[os.write(self.file.fileno(), view):]
        except OSError as err:
            raise cannot_write(self.target, err) from None
        self.where[number], self.size = (at, len(frame)), self.size + len(frame)

    def arrays(self, used: np.ndarray) -> tuple:
        """(frames, frame_offsets) of the frames numbered `used` (increasing), a `Streamed` array from a file."""
        used = [int(u) for u in used]
        sizes = [len(self.parts[u]) for u in used] if self.file is None else [self.where[u][1] for u in used]
        offsets = np.zeros(len(used) + 1, dtype='<i8')
        offsets[1:] = np.cumsum(sizes)
        if self.file is None:
            return np.frombuffer(b''.join(self.parts[u] for u in used), dtype=np.uint8), offsets
        fd = self.file.fileno()

        def blocks():
            for u in used:
                at, size = self.where[u]
                for k in range(0, size, STREAM_BYTES):
                    yield os.pread(fd, min(STREAM_BYTES, size - k), at + k)
        return Streamed('|u1', (int(offsets[-1]),), blocks), offsets

    def close(self) -> None:
        """Drop the temporary file (its space is freed: it never had a name)."""
        if self.file is not None:
            self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Packer:
    """Packs byte strings into frames of about PACK_BYTES, numbered from `first`, for content compressed again in
    the parent (a rewrite or compact); `add` says where its bytes will be."""

    def __init__(self, writer: FrameWriter, first: int):
        self.writer, self.number, self.buffer, self.size = writer, first, [], 0

    def add(self, data: bytes) -> tuple[int, int]:
        """(frame number, start in the frame's content) of `data`, which stays whole in one frame."""
        if self.buffer and self.size + len(data) > PACK_BYTES:
            self.flush()
        self.buffer.append(data)
        self.size += len(data)
        return self.number, self.size - len(data)

    def flush(self) -> None:
        """Compress what is buffered into the next frame, if anything is."""
        if self.buffer:
            self.writer.put(self.number, compress(b''.join(self.buffer)))
            self.number, self.buffer, self.size = self.number + 1, [], 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.flush()


def row_arrays(writer: FrameWriter, units: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> dict:
    """The store arrays of a segment whose unique chunks lie in the frames numbered `units`, at `starts`."""
    used = np.unique(units)
    frames, offsets = writer.arrays(used)
    return {'frames': frames, 'frame_offsets': offsets,
            'row_frames': np.searchsorted(used, units).astype('<i4'),
            'row_starts': np.asarray(starts).astype('<i4'), 'row_lengths': np.asarray(lengths).astype('<u2')}


@dataclass
class Part:
    """The rows of one segment: compressed frames and their offsets; each row's frame, start and length."""
    frames: np.ndarray
    frame_offsets: np.ndarray
    row_frames: np.ndarray
    row_starts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, arrays: dict) -> 'Part':
        """The part held by a segment's arrays; ValueError (a FormatError on load) when they do not fit together."""
        part = cls(arrays['frames'], np.asarray(arrays['frame_offsets'], np.int64),
                   np.asarray(arrays['row_frames'], np.int64), np.asarray(arrays['row_starts'], np.int64),
                   np.asarray(arrays['row_lengths'], np.int64))
        offsets, frames = part.frame_offsets, part.row_frames
        if (offsets.ndim != 1 or not offsets.size or offsets[0] != 0 or (np.diff(offsets) < 0).any()
                or offsets[-1] != part.frames.shape[0]):
            raise ValueError('frame_offsets do not cut the frames array from its start to its end')
        if not len(frames) == len(part.row_starts) == len(part.lengths):
            raise ValueError('row_frames, row_starts and row_lengths differ in length')
        if len(frames) and (frames.min() < 0 or frames.max() >= offsets.size - 1 or part.row_starts.min() < 0
                            or part.lengths.min() < 1):
            raise ValueError('a row points outside the frames')
        return part


class ChunkStore:
    """Unique chunk bytes by row over one or more segments' parts; frames decompressed on demand, a few cached."""

    def __init__(self, parts: list[Part], chunk_size: int, cache_frames: int = CACHE_FRAMES):
        self.parts, self.chunk_size = parts, chunk_size
        self.bases = np.cumsum([0] + [len(p.lengths) for p in parts])
        self.cache: OrderedDict = OrderedDict()
        self.cache_frames = cache_frames
        self.lock = threading.Lock()
        one = len(parts) == 1
        self._frames = parts[0].row_frames if one else np.concatenate([p.row_frames for p in parts])
        self._starts = parts[0].row_starts if one else np.concatenate([p.row_starts for p in parts])
        self.lengths = parts[0].lengths if one else np.concatenate([p.lengths for p in parts])
        self._parts = np.zeros(len(self.lengths), np.int64) if one else \
            np.repeat(np.arange(len(parts)), [len(p.lengths) for p in parts])

    def __len__(self) -> int:
        return int(self.bases[-1])

    @property
    def stored_bytes(self) -> int:
        return sum(int(p.frame_offsets[-1]) for p in self.parts)

    def frame(self, part: int, index: int) -> bytes:
        """The decompressed bytes of frame `index` of `part`; IntegrityError when it fails its checksum."""
        key = (part, index)
        with self.lock:
            found = self.cache.get(key)
            if found is not None:
                self.cache.move_to_end(key)
                return found
        p = self.parts[part]
        lo, hi = int(p.frame_offsets[index]), int(p.frame_offsets[index + 1])
        zstd = _zstd()
        try:
            data = zstd.ZstdDecompressor().decompress(p.frames[lo:hi])
        except zstd.ZstdError as err:
            raise IntegrityError(f'stored chunk frame {index} of segment {part} is damaged ({err}); the engram is '
                                 'damaged') from None
        with self.lock:
            self.cache[key] = data
            while len(self.cache) > self.cache_frames:
                self.cache.popitem(last=False)
        return data

    def read(self, ids) -> bytes:
        """The true bytes of the chunks `ids`, concatenated (chunks stored one after another are one slice)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not ids.size:
            return b''
        if ids.min() < 0 or ids.max() >= len(self):
            raise IntegrityError(f'chunk row {int(ids.max())} is past the {len(self)} stored rows; the engram is '
                                 'damaged')
        part, frame, start, length = self._parts[ids], self._frames[ids], self._starts[ids], self.lengths[ids]
        if ids.size == 1:
            cut = []
        else:
            cut = (np.flatnonzero((part[1:] != part[:-1]) | (frame[1:] != frame[:-1])
                                  | (start[1:] != start[:-1] + length[:-1])) + 1).tolist()
        out = []
        for a, b in zip([0, *cut], [*cut, ids.size]):
            data = self.frame(int(part[a]), int(frame[a]))
            lo, hi = int(start[a]), int(start[b - 1] + length[b - 1])
            if hi > len(data):
                raise IntegrityError(f'chunk row {int(ids[b - 1])} runs past its frame; the engram is damaged')
            out.append(data[lo:hi])
        return out[0] if len(out) == 1 else b''.join(out)

    def rows(self, ids) -> np.ndarray:
        """Zero-padded chunk rows (n, chunk_size) uint8 of `ids`."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.zeros((ids.size, self.chunk_size), dtype=np.uint8)
        lengths = self.lengths[ids] if ids.size else np.zeros(0, np.int64)
        data = np.frombuffer(self.read(ids), dtype=np.uint8)
        if ids.size and (lengths == self.chunk_size).all():
            out[:] = data.reshape(ids.size, self.chunk_size)
            return out
        at = 0
        for i, n in enumerate(lengths.tolist()):
            out[i, :n] = data[at: at + n]
            at += n
        return out


class DerivedRows:
    """The codebook of a v4 engram, derived from the stored chunks on demand: `rows[ids]` encodes those chunks,
    `np.asarray(rows)` all of them; shaped (m, 2, H) like the packed codebook of earlier formats. Slices (what a
    query scans, block by block) are kept in a small cache, so the next query does not encode them again. With
    `plain`, the rows are `ChunkCodec.plain_rows`: they score the same and are far cheaper to make (see `plain`)."""

    BLOCK = 4096
    CACHE_BYTES = 256 << 20

    def __init__(self, store: ChunkStore, codec, plain: bool = False):
        self.store, self.codec = store, codec
        self.shape = (len(store), 2, codec.half)
        self.dtype = np.dtype('<u8')
        self.cache: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.encode = codec.plain_rows if plain else codec.encode_rows
        self._plain: DerivedRows | None = None

    def plain(self) -> 'DerivedRows':
        """The same chunks as rows without the codec's permutation (made once, with their own cache): what a
        query scans, since every score is the same (exact codec only)."""
        with self.lock:
            if self._plain is None:
                self._plain = DerivedRows(self.store, self.codec, plain=True)
            return self._plain

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids):
        if isinstance(ids, slice):
            return self._slice(*ids.indices(len(self)))
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim == 0:
            return self[ids[None]][0]
        lengths = self.store.lengths[ids] if ids.size else np.zeros(0, np.int64)
        return self.encode(self.store.rows(ids), lengths)

    def _slice(self, start: int, stop: int, step: int) -> np.ndarray:
        key = (start, stop, step)
        with self.lock:
            found = self.cache.get(key)
        if found is None:
            found = self[np.arange(start, stop, step)]
            with self.lock:
                self.cache[key] = found
                while sum(a.nbytes for a in self.cache.values()) > self.CACHE_BYTES and len(self.cache) > 1:
                    self.cache.popitem(last=False)
        return found

    def __array__(self, dtype=None, copy=None):
        out = np.zeros(self.shape, dtype=self.dtype)
        for k in range(0, len(self), self.BLOCK):
            out[k:k + self.BLOCK] = self[slice(k, min(k + self.BLOCK, len(self)))]
        return out if dtype is None else out.astype(dtype)
