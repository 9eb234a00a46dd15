"""Extract: Engram -> the tree it was made from, every file verified against its SHA-256, confined and atomic.

The steps each live in a module with one job: `plan` checks the manifest and finds what is in the way (before
anything is written: a refused extraction writes nothing); `writer` makes the tree in a fresh staging folder inside
the output, through directory descriptors, never following a symlink; `commit` renames the finished entries into
place (replacing what is in the way only when forced); folder modes and mtimes are set last, deepest first,
because writing into a folder changes its mtime. Files are read in blocks of chunks (v4: decompressed from the
store; v1 to v3: decoded, corrected chunks checked against their BLAKE2b digest) and written as they come (memory
stays bounded for any file size) by a few threads; each file is checked against its SHA-256. Any failure or
interrupt removes the staging folder.
"""
from __future__ import annotations

import hashlib
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from embeddenator import obs
from embeddenator.fs.corrections import apply_correction, digest
from embeddenator.fs.engram import Engram
from embeddenator.fs.commit import commit, interrupts_held, remove_staging
from embeddenator.fs.dirfd import DIR_FLAGS, open_dir
from embeddenator.fs.errors import NO_ROOM, FsError, IntegrityError
from embeddenator.fs.manifest import Entry
from embeddenator.fs.plan import check_entries, clashes, refuse_clashes
from embeddenator.fs.stale import clear_staging
from embeddenator.fs.writer import Metadata, Stage, make_staging, set_dir_metadata

BLOCK_CHUNKS = 1024             # chunks decoded at once per thread: ~25 MB of temporaries at D = 10,000
WRITERS = 4                     # threads writing files during extraction


def file_blocks(engram: Engram, entry: Entry, block: int = BLOCK_CHUNKS):
    """(offset, bytes) of one file's data, in blocks of at most `block` chunks, corrections applied and checked.

    A dense file is one run of data from offset 0; a sparse file yields only its runs of data (holes are left to
    the caller: never written, they stay holes).
    """
    codec, size = engram.codec, engram.codec.chunk_size
    row_bytes = 16 * codec.half
    runs = entry.data_extents()
    if sum(codec.chunk_count(n) for _, n in runs) != entry.count:
        raise IntegrityError(f'{os.fsdecode(entry.path)}: {entry.count} chunks stored for {entry.size} bytes of '
                             'data; the engram is damaged')
    if engram.store is not None:
        yield from _stored_blocks(engram, entry, runs, block)
        return
    first = entry.first
    for offset, length in runs:
        ids = np.asarray(engram.chunk_ids[first: first + codec.chunk_count(length)])
        for start in range(0, ids.size, block):
            part = ids[start: start + block]
            decoded = codec.decode(np.asarray(engram.codebook[part]))
            out = decoded.reshape(-1)[:min(part.size * size, length - start * size)]
            if engram.corrections:
                _correct(engram, entry, part, out, first - entry.first + start)
            engram.note_read(part.size * row_bytes)     # the mapped codebook stays out of the resident set
            yield offset + start * size, out
        first += ids.size


def _stored_blocks(engram: Engram, entry: Entry, runs, block: int):
    """`file_blocks` of a v4 engram: the stored bytes of each block of chunks, as they are (no decoding)."""
    size, first = engram.codec.chunk_size, entry.first
    for offset, length in runs:
        ids = np.asarray(engram.chunk_ids[first: first + -(-length // size)])
        for start in range(0, ids.size, block):
            try:
                data = engram.store.read(ids[start: start + block])
            except IntegrityError as err:
                raise IntegrityError(f'{os.fsdecode(entry.path)}: {err}') from None
            if len(data) != min(block * size, length - start * size):
                raise IntegrityError(f'{os.fsdecode(entry.path)}: chunks from {start} hold {len(data)} bytes, not '
                                     'what the file needs; the engram is damaged')
            engram.note_read(len(data))
            yield offset + start * size, np.frombuffer(data, dtype=np.uint8)
        first += ids.size


def _correct(engram: Engram, entry: Entry, part: np.ndarray, out: np.ndarray, chunk0: int) -> None:
    size = engram.codec.chunk_size
    for k in np.flatnonzero(np.isin(part, list(engram.corrections))):
        lo, hi = k * size, min((k + 1) * size, out.size)
        fixed = apply_correction(out[lo:hi], engram.corrections[int(part[k])])
        if fixed.size != hi - lo or digest(fixed.tobytes()) != bytes(engram.digests[part[k]]):
            raise IntegrityError(f'{os.fsdecode(entry.path)}: chunk {chunk0 + k} does not match its digest '
                                 'after correction; the engram is damaged')
        out[lo:hi] = fixed


def read_file(engram: Engram, entry: Entry) -> bytes:
    """One file's content (holes read as zeros), verified."""
    data = bytearray(entry.size)
    for offset, block in file_blocks(engram, entry):
        data[offset: offset + block.size] = block.tobytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise IntegrityError(f'{os.fsdecode(entry.path)}: SHA-256 mismatch after decoding; the engram is damaged')
    return bytes(data)


def _write_files(stage: Stage, engram: Engram, files: list[Entry], threads: int,
                 progress: Callable[[int, int], None] | None) -> int:
    """Write every file from `threads` threads, a bounded window of them in flight; the stop flag ends them."""
    total, done = sum(e.size for e in files), 0
    pool = ThreadPoolExecutor(max(1, threads))
    inflight: deque = deque()
    try:
        for entry in files:
            if len(inflight) >= 4 * max(1, threads):
                done += _finish(inflight.popleft(), done, total, progress)
            inflight.append((entry, pool.submit(stage.write_file, entry, file_blocks(engram, entry))))
        while inflight:
            done += _finish(inflight.popleft(), done, total, progress)
    except BaseException:
        stage.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return done


def _finish(item, done: int, total: int, progress) -> int:
    entry, job = item
    job.result()
    if progress:
        progress(done + entry.size, total)
    return entry.size


def _open_root(root: bytes) -> tuple[int, bool]:
    """Descriptor of the output folder (created if missing; a symlink given as the output itself is the user's
    choice and is followed, as with tar -C) and whether this run created it."""
    created = not os.path.lexists(root)
    if created:
        os.makedirs(root)
    elif not os.path.isdir(root):
        raise FsError(f'{os.fsdecode(root)} exists and is not a folder; choose another output folder')
    return os.open(root, DIR_FLAGS & ~os.O_NOFOLLOW), created


def extract(engram: Engram, out_dir, force: bool = False, progress: Callable[[int, int], None] | None = None,
            threads: int = WRITERS, same_permissions: bool = False, same_owner: bool | None = None) -> int:
    """Recreate the tree under `out_dir` (created if missing); returns the number of bytes written.

    Without `force`, anything already in the output where the engram puts something else refuses the whole
    extraction before a byte is written; with `force` it is replaced (a symlink in the way is removed, never
    followed). Modes follow GNU tar: whole as root, else under the umask without setuid/setgid unless
    `same_permissions`; owners are restored when root unless `same_owner=False` (tar's --no-same-owner). Devices
    are made only as root (elsewhere skipped with an `FsWarning`), as tar does.
    """
    root = os.fsencode(out_dir)
    ordered = check_entries(engram.entries)
    files = [e for e in ordered if e.kind == 'file']
    meta = Metadata.for_this_process(same_permissions, same_owner)
    staging = None
    ok = False
    with obs.timer('fs_extract_seconds', 'time to extract a tree'):
        try:
            root_fd, created = _open_root(root)
        except OSError as err:
            raise FsError(f'{os.fsdecode(root)}: cannot create the output folder ({err.strerror})') from None
        try:
            clear_staging(root_fd)
            if not force:
                refuse_clashes(clashes(ordered, root_fd), root)
            staging = make_staging(root_fd, {e.path for e in ordered if b'/' not in e.path})
            stage = Stage(open_dir(root_fd, staging), meta)
            try:
                stage.make_dirs_and_links(ordered)
                done = _write_files(stage, engram, files, threads, progress)
                stage.make_hard_links(ordered)
                with interrupts_held():
                    commit([e for e in ordered if e.path not in stage.skipped], stage.fd, root_fd, force, root)
                    remove_staging(root_fd, staging)
                    staging = None
                    set_dir_metadata(root_fd, [e for e in ordered if e.kind == 'dir'], meta)
                    if engram.root_entry is not None:
                        meta.apply(root_fd, engram.root_entry)
            finally:
                stage.close_parents()
                os.close(stage.fd)
            ok = True
        except OSError as err:
            where = os.fsdecode(os.path.join(root, os.fsencode(err.filename))) if err.filename else os.fsdecode(root)
            hint = 'make room there and run again' if err.errno in NO_ROOM else 'check the output folder'
            raise FsError(f'{where}: cannot write ({err.strerror}); nothing was extracted: {hint}') from None
        finally:
            if staging is not None:
                remove_staging(root_fd, staging)
            os.close(root_fd)
            if created and not ok:
                _remove_if_empty(root)
    obs.counter('fs_extract_bytes_total', 'bytes extracted').inc(done)
    return done


def _remove_if_empty(root: bytes) -> None:
    try:
        os.rmdir(root)
    except OSError:
        pass
