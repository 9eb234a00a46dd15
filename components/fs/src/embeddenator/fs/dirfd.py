"""Walking a tree through directory file descriptors, never following a symlink.

Every path is opened one component at a time relative to the folder above it (`openat` with `O_NOFOLLOW`), so a
symlink planted anywhere in an output folder is seen as what it is (an entry in the way) and never as a way out.
"""
from __future__ import annotations

import os
import shutil
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def split(path: bytes) -> tuple[bytes, bytes]:
    """(parent, name) of a relative b'/'-separated path; the parent of a top-level name is b''."""
    parent, _, name = path.rpartition(b'/')
    return parent, name


def open_dir(base_fd: int, rel: bytes) -> int:
    """A new descriptor for the folder `rel` under `base_fd`; OSError (ELOOP, ENOTDIR) if any part is not a folder."""
    fd = os.open(b'.', DIR_FLAGS, dir_fd=base_fd)
    for part in rel.split(b'/') if rel else ():
        try:
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def lstat_at(dir_fd: int, name: bytes) -> os.stat_result | None:
    """The entry `name` in `dir_fd` itself (a symlink is not followed), or None when there is none."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def remove_at(dir_fd: int, name: bytes, st: os.stat_result) -> None:
    """Remove the entry `name` in `dir_fd`: a folder with everything in it (rmtree never follows links)."""
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(os.fsdecode(name), dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


class ParentCache:
    """The descriptor of the last parent folder asked for (entries come in tree order, so most share it)."""

    def __init__(self, base_fd: int):
        self.base_fd, self.rel, self.fd = base_fd, None, -1

    def get(self, rel: bytes) -> int:
        """The descriptor of folder `rel` (opened through descriptors, never following a link); owned here."""
        if rel != self.rel:
            self.close()
            self.fd, self.rel = open_dir(self.base_fd, rel), rel
        return self.fd

    def close(self) -> None:
        """Close the descriptor held, if any."""
        if self.fd >= 0:
            os.close(self.fd)
        self.fd, self.rel = -1, None
