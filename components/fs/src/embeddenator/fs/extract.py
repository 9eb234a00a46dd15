"""Extract: Engram -> the tree it was made from, every file verified against its SHA-256.

Files are decoded in blocks of chunks and written as they come (memory stays bounded for any file size); corrected
chunks are checked against their BLAKE2b digest; a file whose SHA-256 does not match is removed and the
extraction fails with `IntegrityError`. Files are written by a few threads. Directory modes and mtimes are set
last, deepest first, because writing into a directory changes its mtime.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from embeddenator import obs
from embeddenator.fs.corrections import apply_correction, digest
from embeddenator.fs.engram import Engram
from embeddenator.fs.errors import FsError, IntegrityError
from embeddenator.fs.hierarchy import ancestors
from embeddenator.fs.manifest import Entry, check_relative

BLOCK_CHUNKS = 4096
WRITERS = 4                     # threads writing files during extraction


def file_blocks(engram: Engram, entry: Entry, block: int = BLOCK_CHUNKS):
    """The bytes of one file, in blocks of at most `block` chunks, corrections applied and checked."""
    codec, size = engram.codec, engram.codec.chunk_size
    ids = np.asarray(engram.chunk_ids[entry.first: entry.first + entry.count])
    for start in range(0, ids.size, block):
        part = ids[start: start + block]
        decoded = codec.decode(np.asarray(engram.codebook[part]))
        length = min(part.size * size, entry.size - start * size)
        out = decoded.reshape(-1)[:length]
        for k in np.flatnonzero(np.isin(part, list(engram.corrections))) if engram.corrections else ():
            lo, hi = k * size, min((k + 1) * size, length)
            fixed = apply_correction(out[lo:hi], engram.corrections[int(part[k])])
            if fixed.size != hi - lo or digest(fixed.tobytes()) != bytes(engram.digests[part[k]]):
                raise IntegrityError(f'{os.fsdecode(entry.path)}: chunk {start + k} does not match its digest '
                                     'after correction; the engram is damaged')
            out[lo:hi] = fixed
        yield out


def read_file(engram: Engram, entry: Entry) -> bytes:
    """One file's content, verified."""
    data = b''.join(b.tobytes() for b in file_blocks(engram, entry))
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise IntegrityError(f'{os.fsdecode(entry.path)}: SHA-256 mismatch after decoding; the engram is damaged')
    return data


def _write_file(engram: Engram, entry: Entry, target: bytes) -> None:
    h = hashlib.sha256()
    with open(target, 'wb') as out:
        for block in file_blocks(engram, entry):
            h.update(block)
            out.write(block)
    if h.hexdigest() != entry.sha256:
        os.unlink(target)
        raise IntegrityError(f'{os.fsdecode(entry.path)}: SHA-256 mismatch after decoding; the engram is damaged')
    os.chmod(target, entry.mode)
    os.utime(target, ns=(entry.mtime_ns, entry.mtime_ns))


def _place(engram: Engram, entry: Entry, target: bytes, force: bool) -> None:
    if os.path.lexists(target) and not (entry.kind == 'dir' and os.path.isdir(target)):
        if not force:
            raise FsError(f'{os.fsdecode(target)} already exists; extract into an empty folder or pass force')
        if os.path.isdir(target) and not os.path.islink(target):
            raise FsError(f'{os.fsdecode(target)} is a folder in the way of a {entry.kind}; remove it first')
        os.unlink(target)
    if entry.kind == 'dir':
        os.makedirs(target, exist_ok=True)
    elif entry.kind == 'symlink':
        os.symlink(entry.target, target)
        os.utime(target, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=False)
    else:
        _write_file(engram, entry, target)


def _check_paths(entries: list[Entry]) -> None:
    """Refuse, before anything is written, paths that escape or lie under a stored symlink."""
    links: set[bytes] = set()
    for entry in entries:
        check_relative(entry.path)
        if any(p in links for p in ancestors(entry.path)):
            raise IntegrityError(f'{os.fsdecode(entry.path)}: lies under a stored symlink; extracting it would '
                                 'write outside the output folder')
        if entry.kind == 'symlink':
            links.add(entry.path)


def extract(engram: Engram, out_dir, force: bool = False, progress: Callable[[int, int], None] | None = None,
            threads: int = WRITERS) -> int:
    """Recreate the tree under `out_dir` (created if missing); returns the number of bytes written.

    Folders and symlinks are made first, in manifest order; files are then decoded and written by `threads`
    threads (creating a file is mostly waiting on the filesystem, and numpy and hashlib release the GIL).
    """
    root = os.fsencode(out_dir)
    files = [e for e in engram.entries if e.kind == 'file']
    total, done = sum(e.size for e in files), 0
    _check_paths(engram.entries)
    with obs.timer('fs_extract_seconds', 'time to extract a tree'):
        try:
            os.makedirs(root, exist_ok=True)
            for entry in engram.entries:
                if entry.kind != 'file':
                    _place(engram, entry, os.path.join(root, entry.path), force)
            with ThreadPoolExecutor(max(1, threads)) as pool:
                jobs = [pool.submit(_place, engram, e, os.path.join(root, e.path), force) for e in files]
                for entry, job in zip(files, jobs):
                    job.result()
                    done += entry.size
                    if progress:
                        progress(done, total)
            for entry in sorted((e for e in engram.entries if e.kind == 'dir'), key=lambda e: -e.path.count(b'/')):
                target = os.path.join(root, entry.path)
                os.chmod(target, entry.mode)
                os.utime(target, ns=(entry.mtime_ns, entry.mtime_ns))
        except OSError as err:
            where = os.fsdecode(err.filename) if err.filename else os.fsdecode(root)
            raise FsError(f'{where}: cannot write ({err.strerror}); check the output folder') from None
    obs.counter('fs_extract_bytes_total', 'bytes extracted').inc(done)
    return done
