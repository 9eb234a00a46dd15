"""The writer: makes entries inside a fresh staging folder, through directory descriptors only.

The staging folder is created by this run (mode 0700) inside the output folder, so nothing in it was made by
anyone else; still every folder is opened with `O_NOFOLLOW` and every file with `O_CREAT | O_EXCL | O_NOFOLLOW`
relative to its parent's descriptor. Metadata is set through the same descriptors. A file's bytes come from
`blocks` (decoded and checked by the caller); a stop flag is checked between blocks, so an interrupt is obeyed
within one block.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Iterable

from embeddenator.fs.dirfd import FILE_FLAGS, ParentCache, open_dir, split
from embeddenator.fs.errors import IntegrityError
from embeddenator.fs.manifest import Entry
from embeddenator.fs.modes import current_umask, restored_mode

STAGING_PREFIX = b'.embeddenator-extract.'


class Stopped(Exception):
    """The stop flag was raised (an interrupt or another writer's failure): the file was abandoned."""


@dataclass(frozen=True)
class Metadata:
    """How modes are restored: GNU tar's rule for this process (see `modes`)."""
    euid: int
    umask: int
    same_permissions: bool = False

    @classmethod
    def for_this_process(cls, same_permissions: bool = False) -> 'Metadata':
        return cls(os.geteuid(), current_umask(), same_permissions)

    def mode(self, entry: Entry) -> int:
        return restored_mode(entry.mode, self.euid, self.umask, self.same_permissions)


def make_staging(root_fd: int, taken: set[bytes]) -> bytes:
    """Create a fresh, private staging folder in the output folder; its name carries this process's pid."""
    while True:
        name = STAGING_PREFIX + f'{os.getpid()}.{secrets.token_hex(4)}'.encode()
        if name not in taken:
            try:
                os.mkdir(name, 0o700, dir_fd=root_fd)
                return name
            except FileExistsError:
                continue


class Stage:
    """Entries written under one staging folder (`fd`); `stop` abandons file writes between blocks."""

    def __init__(self, fd: int, meta: Metadata):
        self.fd, self.meta, self.stop = fd, meta, threading.Event()

    def make_dirs_and_links(self, ordered: list[Entry]) -> None:
        """Folders (0700 until their metadata is set, last) and symlinks, in tree order."""
        parents = ParentCache(self.fd)
        try:
            for entry in ordered:
                parent, name = split(entry.path)
                if entry.kind == 'dir':
                    os.mkdir(name, 0o700, dir_fd=parents.get(parent))
                elif entry.kind == 'symlink':
                    pfd = parents.get(parent)
                    os.symlink(entry.target, name, dir_fd=pfd)
                    os.utime(name, ns=(entry.mtime_ns, entry.mtime_ns), dir_fd=pfd, follow_symlinks=False)
        finally:
            parents.close()

    def write_file(self, entry: Entry, blocks: Iterable) -> None:
        """Create the file, stream its blocks, check its SHA-256, then set mode and mtime through its descriptor."""
        parent, name = split(entry.path)
        pfd = open_dir(self.fd, parent)
        try:
            fd = os.open(name, FILE_FLAGS, 0o600, dir_fd=pfd)
        finally:
            os.close(pfd)
        try:
            digest = hashlib.sha256()
            for block in blocks:
                if self.stop.is_set():
                    raise Stopped(entry.path)
                digest.update(block)
                _write_all(fd, block)
            if digest.hexdigest() != entry.sha256:
                raise IntegrityError(f'{os.fsdecode(entry.path)}: SHA-256 mismatch after decoding; the engram is '
                                     'damaged')
            os.fchmod(fd, self.meta.mode(entry))
            os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))
        finally:
            os.close(fd)


def _write_all(fd: int, block) -> None:
    view = memoryview(block).cast('B')
    while view:
        view = view[os.write(fd, view):]


def set_dir_metadata(root_fd: int, dirs: list[Entry], meta: Metadata) -> None:
    """Mode and mtime of each folder, deepest first (writing into a folder changes its mtime)."""
    for entry in sorted(dirs, key=lambda e: -e.path.count(b'/')):
        fd = open_dir(root_fd, entry.path)
        try:
            os.fchmod(fd, meta.mode(entry))
            os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))
        finally:
            os.close(fd)
