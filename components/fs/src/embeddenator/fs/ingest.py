"""Ingest: sources -> Engram, with a pool of worker processes encoding pieces of files in parallel.

All-or-nothing: workers only return results; the engram is assembled in the parent after every piece came back,
and `ingest_to` writes it through io's atomic write. A worker that raises, a file that cannot be read, or a
worker process that dies fails the whole ingest with an `FsError`, and any engram file already at the target
path is left exactly as it was (the Python counterpart of recovering from a poisoned lock: there is no shared
state for a failed worker to leave half-updated). The pool is `embeddenator.fs.pool`.
"""
from __future__ import annotations

import hashlib
import os
from typing import Callable

import numpy as np

from embeddenator import obs
from embeddenator.fs.codec import ChunkCodec
from embeddenator.fs.engram import Engram, attach_store, remap, save
from embeddenator.fs.errors import FsError
from embeddenator.fs.hierarchy import MAX_NNZ, build, thin
from embeddenator.fs.manifest import Entry
from embeddenator.fs.pool import run_units
from embeddenator.fs.store import FrameWriter, Part, row_arrays
from embeddenator.fs.stale import clear_partials
from embeddenator.fs.walk import scan
from embeddenator.fs.worker import Piece, PieceResult, encode_batch, file_sha256, prepare

BATCH_BYTES = 1 << 20          # one unit of pool work: amortises a round trip, and its arrays stay in cache
INLINE_BYTES = 2 << 20         # below this, starting processes costs more than it saves
Progress = Callable[[int, int], None]


def plan(entries: list[Entry], codec: ChunkCodec, batch_bytes: int | None = None) -> list[list[Piece]]:
    """Group files into units of pool work; a large run of data is cut into chunk-aligned slices of its own.

    A dense file is one run; a sparse file is one piece per run of data (its holes are never read or encoded).
    """
    batch_bytes = batch_bytes or BATCH_BYTES
    step = max(codec.chunk_size, batch_bytes // codec.chunk_size * codec.chunk_size)
    units: list[list[Piece]] = []
    current: list[Piece] = []
    size = 0
    for i, e in enumerate(entries):
        if e.kind != 'file':
            continue
        for start, length in e.data_extents():
            if length > step:           # slices; the first one's worker hashes a dense file whole
                units += [[Piece(i, e.source, off, min(step, start + length - off), False,
                                 off == 0 and e.extents is None)] for off in range(start, start + length, step)]
                continue
            current.append(Piece(i, e.source, start, length, e.extents is None))
            size += length
            if size >= batch_bytes:
                units.append(current)
                current, size = [], 0
    return units + ([current] if current else [])


def _run(units: list[list[Piece]], codec: ChunkCodec, max_nnz: int, workers: int,
         progress: Progress | None, frames: FrameWriter) -> list[PieceResult]:
    """Every unit's piece results; unit k's frame goes to `frames` as number k (its results say so)."""
    total = sum(p.length for u in units for p in u)
    out: list[PieceResult] = []
    done = [0]
    number = {id(unit): k for k, unit in enumerate(units)}

    def finished(unit: list[Piece], value: tuple[list[PieceResult], bytes]) -> None:
        results, frame = value
        frames.put(number[id(unit)], frame)
        for r in results:
            r.frame = number[id(unit)]
        out.extend(results)
        done[0] += sum(p.length for p in unit)
        if progress:
            progress(done[0], total)

    prepare(codec)
    if workers <= 1 or total < INLINE_BYTES or len(units) < 2:
        for unit in units:
            finished(unit, encode_batch(codec, max_nnz, unit))
    else:
        run_units(units, encode_batch, (codec, max_nnz), workers, finished)
    return out


def _dedupe(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chunk table (ids into the codebook) and, per codebook row, the chunk it is taken from (first-seen order)."""
    if not len(digests):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = np.ascontiguousarray(digests).view(f'V{digests.shape[1]}').ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind='stable')
    new_id = np.empty_like(by_first)
    new_id[by_first] = np.arange(by_first.size)
    return new_id[inverse.ravel()].astype(np.int64), first[by_first]


def group_results(results: list[PieceResult]):
    """Results in file order (entry, offset), grouped by entry, and their chunk digests and lengths concatenated
    in that order."""
    results = sorted(results, key=lambda r: (r.entry, r.offset))
    by_entry: dict[int, list[PieceResult]] = {}
    for r in results:
        by_entry.setdefault(r.entry, []).append(r)
    digests = np.concatenate([r.digests for r in results]) if results else np.zeros((0, 16), np.uint8)
    return results, by_entry, digests


def file_hash_and_vector(e: Entry, parts: list[PieceResult], codec: ChunkCodec, max_nnz: int) -> tuple:
    """(SHA-256, thinned vector) of a file from its pieces' results: a whole piece has both; pieces of a file cut
    in slices are summed, and hashed by the first slice's worker (a sparse file: read again here)."""
    if len(parts) == 1 and parts[0].sha256 is not None:
        return parts[0].sha256, parts[0].vector
    sha = next((r.sha256 for r in parts if r.sha256 is not None), None)
    if sha is None:
        sha = file_sha256(e.source, e.size, e.extents) if e.size else hashlib.sha256(b'').hexdigest()
    return sha, thin(sum((r.vector for r in parts), np.zeros(codec.dim, np.int32)), max_nnz)


def chunk_table(results: list[PieceResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frame number, start in it, length) of each chunk of `results`, in their order."""
    if not results:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.repeat([r.frame for r in results], [r.count for r in results]).astype(np.int64),
            np.concatenate([r.starts for r in results]), np.concatenate([r.lengths for r in results]))


def assemble(entries: list[Entry], results: list[PieceResult], codec: ChunkCodec,
             max_nnz: int, frames: FrameWriter) -> Engram:
    """Build the engram from every piece's result (deterministic: depends only on the entries and the bytes).

    An entry with path b'' (a lone source folder's own metadata) becomes the engram's `root_entry`. The store
    points each unique chunk into the frames the results were compressed into (kept by `frames`, in memory or in
    a temporary file until the engram is saved).
    """
    root_entry = next((e for e in entries if e.path == b''), None)
    results, by_entry, digests = group_results(results)
    vectors, first = [], 0
    for i, e in enumerate(entries):
        if e.kind != 'file':
            continue
        parts = by_entry.get(i, [])
        for r in parts:
            first += r.count
        e.count = sum(r.count for r in parts)
        e.first = first - e.count
        e.sha256, vec = file_hash_and_vector(e, parts, codec, max_nnz)
        vectors.append(vec)
    chunk_ids, keep = _dedupe(digests)
    units, starts, lengths = chunk_table(results)
    arrays = row_arrays(frames, units[keep], starts[keep], lengths[keep])
    files = [e for e in entries if e.kind == 'file']
    tree = build([e.path for e in entries if e.kind == 'dir'], ((e.parent, v) for e, v in zip(files, vectors)),
                 codec.dim, max_nnz)
    stats = {'bytes': sum(e.size for e in files), 'recovered_bytes': sum(r.recovered for r in results),
             'correction_bytes': 0, 'max_nnz': max_nnz}
    entries = [e for e in entries if e is not root_entry]
    engram = Engram(codec, entries, chunk_ids, None, digests[keep], {}, vectors, tree, stats, root_entry)
    return attach_store(engram, [Part.of(arrays)])


def ingest_entries(entries: list[Entry], codec: ChunkCodec | None = None, workers: int | None = None,
                   max_nnz: int = MAX_NNZ, progress: Progress | None = None,
                   frames: FrameWriter | None = None) -> Engram:
    """Encode already scanned entries (their files are read now) into an engram (its frames kept by `frames`,
    by default in memory)."""
    codec = codec or ChunkCodec()
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    frames = frames if frames is not None else FrameWriter()
    with obs.timer('fs_ingest_seconds', 'time to ingest a tree'):
        results = _run(plan(entries, codec), codec, max_nnz, workers, progress, frames)
        engram = assemble(entries, results, codec, max_nnz, frames)
    obs.counter('fs_ingest_bytes_total', 'bytes ingested').inc(engram.stats['bytes'])
    obs.counter('fs_ingest_files_total', 'files ingested').inc(len(engram.file_vectors))
    return engram


def ingest(sources, skip_special: bool = False, **options) -> Engram:
    """Encode the trees and files in `sources` into an engram (in memory); options as for `ingest_entries`.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from embeddenator import fs
    >>> codec = fs.ChunkCodec(dim=1024, chunk_size=128)       # small vectors: a quick example
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = Path(tmp, 'a.txt').write_bytes(b'hello engram')
    ...     engram = fs.ingest(tmp, codec=codec, workers=1)
    >>> [e.path for e in engram.files], fs.read_file(engram, engram.files[0])
    ([b'a.txt'], b'hello engram')
    """
    return ingest_entries(scan(sources, skip_special=skip_special), **options)


def open_frames(target) -> FrameWriter:
    """A frame writer with its temporary file beside `target`; FsError when its folder cannot be written."""
    try:
        return FrameWriter(os.path.dirname(os.path.abspath(target)), target)
    except OSError as err:
        raise FsError(f'{os.fspath(target)}: cannot write the engram ({err.strerror}); check the folder exists and '
                      'is writable') from None


def ingest_to(sources, target, skip_special: bool = False, **options) -> Engram:
    """Ingest, then write the engram atomically to `target` (untouched if anything fails).

    Memory does not grow with the tree: the compressed frames wait in an unnamed temporary file beside `target`
    until the engram is written, and the returned engram reads them memory-mapped from `target`.
    A previous engram at `target` among the sources is not ingested into the new one (an FsWarning says so;
    FsError when it is the only source); partial engrams that a killed ingest left beside `target` (their owner
    pid is gone) are removed first.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from embeddenator import fs
    >>> codec = fs.ChunkCodec(dim=1024, chunk_size=128)       # small vectors: a quick example
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     src = Path(tmp, 'src')
    ...     (src / 'docs').mkdir(parents=True)
    ...     _ = (src / 'a.txt').write_bytes(b'hello engram')
    ...     _ = (src / 'docs' / 'b.bin').write_bytes(bytes(range(256)) * 3)
    ...     engram = fs.ingest_to(src, Path(tmp, 'tree.engram'), codec=codec, workers=1)
    ...     written = fs.extract(fs.load(Path(tmp, 'tree.engram')), Path(tmp, 'out'))
    ...     same = Path(tmp, 'out', 'docs', 'b.bin').read_bytes() == (src / 'docs' / 'b.bin').read_bytes()
    >>> written, same, engram.summary()['files'], engram.summary()['dirs']
    (780, True, 2, 1)
    """
    clear_partials(target)
    codec = options.pop('codec', None) or ChunkCodec()
    with open_frames(target) as frames:
        engram = ingest_entries(scan(sources, exclude=[target], skip_special=skip_special), codec=codec,
                                frames=frames, **options)
        save(engram, target)
    return remap(engram, target)
