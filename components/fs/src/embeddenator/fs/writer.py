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
import stat
import threading
import warnings
from dataclasses import dataclass
from typing import Iterable

from embeddenator.fs.dirfd import FILE_FLAGS, ParentCache, open_dir, split
from embeddenator.fs.errors import FsWarning, IntegrityError
from embeddenator.fs.manifest import SPECIAL, Entry
from embeddenator.fs.modes import current_umask, restored_mode
from embeddenator.fs.worker import hash_zeros

STAGING_PREFIX = b'.embeddenator-extract.'


class Stopped(Exception):
    """The stop flag was raised (an interrupt or another writer's failure): the file was abandoned."""


@dataclass(frozen=True)
class Metadata:
    """How modes and owners are restored: GNU tar's rules for this process (see `modes`)."""
    euid: int
    umask: int
    same_permissions: bool = False
    same_owner: bool = False

    @classmethod
    def for_this_process(cls, same_permissions: bool = False, same_owner: bool | None = None) -> 'Metadata':
        """The rules for this process: its euid and umask; owners restored by default only as root."""
        euid = os.geteuid()
        return cls(euid, current_umask(), same_permissions, euid == 0 if same_owner is None else same_owner)

    def mode(self, entry: Entry) -> int:
        """The permission bits to give `entry` (see `modes.restored_mode`)."""
        return restored_mode(entry.mode, self.euid, self.umask, self.same_permissions)

    def owns(self, entry: Entry) -> bool:
        """Whether to give `entry` its stored owner (as root, and when the engram has one)."""
        return self.same_owner and entry.uid is not None

    def apply(self, fd: int, entry: Entry) -> None:
        """Owner, then mode (chown clears setuid), then mtime, through an open descriptor."""
        if self.owns(entry):
            os.fchown(fd, entry.uid, entry.gid)
        os.fchmod(fd, self.mode(entry))
        os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))

    def apply_at(self, dir_fd: int, name: bytes, entry: Entry) -> None:
        """The same for an entry that cannot be opened (a symlink, a fifo, a device) this run just made in its
        private staging folder: owner and mtime never follow a link; symlinks have no mode of their own."""
        if self.owns(entry):
            os.chown(name, entry.uid, entry.gid, dir_fd=dir_fd, follow_symlinks=False)
        if entry.kind != 'symlink':
            os.chmod(name, self.mode(entry), dir_fd=dir_fd)      # made here by mkfifo/mknod: not a link
        os.utime(name, ns=(entry.mtime_ns, entry.mtime_ns), dir_fd=dir_fd, follow_symlinks=False)


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
        self.skipped: set[bytes] = set()
        self._local, self._parents, self._lock = threading.local(), [], threading.Lock()

    def _parent(self, rel: bytes) -> int:
        """The descriptor of folder `rel`, from this thread's cache of the last one (files come in tree order,
        so a writer thread mostly stays in one folder); the cache owns it."""
        cache = getattr(self._local, 'parents', None)
        if cache is None:
            cache = self._local.parents = ParentCache(self.fd)
            with self._lock:
                self._parents.append(cache)
        return cache.get(rel)

    def close_parents(self) -> None:
        """Close the folder descriptors the writer threads kept (after they are done)."""
        with self._lock:
            for cache in self._parents:
                cache.close()
            self._parents.clear()

    def make_dirs_and_links(self, ordered: list[Entry]) -> None:
        """Folders (0700 until their metadata is set, last), symlinks, fifos and devices, in tree order."""
        parents = ParentCache(self.fd)
        try:
            for entry in ordered:
                parent, name = split(entry.path)
                if entry.kind == 'dir':
                    os.mkdir(name, 0o700, dir_fd=parents.get(parent))
                elif entry.kind in ('symlink', *SPECIAL):
                    self._make_node(parents.get(parent), name, entry)
        finally:
            parents.close()

    def _make_node(self, pfd: int, name: bytes, entry: Entry) -> None:
        if entry.kind == 'symlink':
            os.symlink(entry.target, name, dir_fd=pfd)
        elif entry.kind == 'fifo':
            os.mkfifo(name, 0o600, dir_fd=pfd)
        elif self.meta.euid != 0:
            warnings.warn(f'{os.fsdecode(entry.path)}: a device, skipped (only root can make devices)', FsWarning,
                          stacklevel=3)
            self.skipped.add(entry.path)
            return
        else:
            kind = stat.S_IFCHR if entry.kind == 'chardev' else stat.S_IFBLK
            os.mknod(name, 0o600 | kind, os.makedev(*entry.rdev), dir_fd=pfd)
        self.meta.apply_at(pfd, name, entry)

    def make_hard_links(self, ordered: list[Entry]) -> None:
        """Second names of files already written (their inode carries the metadata)."""
        for entry in ordered:
            if entry.kind != 'hardlink':
                continue
            (parent, name), (tparent, tname) = split(entry.path), split(entry.target)
            pfd, tfd = open_dir(self.fd, parent), open_dir(self.fd, tparent)
            try:
                os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
            finally:
                os.close(pfd)
                os.close(tfd)

    def write_file(self, entry: Entry, blocks: Iterable) -> None:
        """Create the file, write its runs of data (holes stay holes), check its SHA-256, then set owner, mode and
        mtime through its descriptor."""
        parent, name = split(entry.path)
        fd = os.open(name, FILE_FLAGS, 0o600, dir_fd=self._parent(parent))
        try:
            digest, pos = hashlib.sha256(), 0
            for offset, block in blocks:
                if self.stop.is_set():
                    raise Stopped(entry.path)
                hash_zeros(digest, offset - pos)
                digest.update(block)
                _write_all(fd, block, offset)
                pos = offset + block.size
            if pos < entry.size:
                hash_zeros(digest, entry.size - pos)
                os.ftruncate(fd, entry.size)
            if digest.hexdigest() != entry.sha256:
                raise IntegrityError(f'{os.fsdecode(entry.path)}: SHA-256 mismatch after decoding; the engram is '
                                     'damaged')
            self.meta.apply(fd, entry)
        finally:
            os.close(fd)


def _write_all(fd: int, block, offset: int) -> None:
    view = memoryview(block).cast('B')
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def set_dir_metadata(root_fd: int, dirs: list[Entry], meta: Metadata) -> None:
    """Owner, mode and mtime of each folder, deepest first (writing into a folder changes its mtime)."""
    for entry in sorted(dirs, key=lambda e: -e.path.count(b'/')):
        fd = open_dir(root_fd, entry.path)
        try:
            meta.apply(fd, entry)
        finally:
            os.close(fd)
