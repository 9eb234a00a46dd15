"""Moving a finished staging folder into the output folder: renames only, through directory descriptors.

An entry the output does not have is renamed into place with its whole subtree (one rename); a folder both have is
merged; anything else in the way is removed first when forced (a symlink is removed, never followed) and is an
error otherwise. SIGINT is held back while the renames run, so an interrupt lands before or after them.
"""
from __future__ import annotations

import os
import shutil
import signal
import stat
import threading
from contextlib import contextmanager

from embeddenator.fs.dirfd import ParentCache, lstat_at, remove_at, split
from embeddenator.fs.errors import FsError
from embeddenator.fs.hierarchy import ancestors
from embeddenator.fs.manifest import Entry


@contextmanager
def interrupts_held():
    """Delay SIGINT for the duration (main thread only); a pending one is delivered on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def commit(ordered: list[Entry], stage_fd: int, root_fd: int, force: bool, root: bytes) -> None:
    """Move every staged entry into the output folder (entries in tree order)."""
    moved: set[bytes] = set()
    src, dst = ParentCache(stage_fd), ParentCache(root_fd)
    try:
        for entry in ordered:
            if any(a in moved for a in ancestors(entry.path)):
                continue
            parent, name = split(entry.path)
            sfd, dfd = src.get(parent), dst.get(parent)
            st = lstat_at(dfd, name)
            if st is not None:
                if entry.kind == 'dir' and stat.S_ISDIR(st.st_mode):
                    continue                          # both have the folder: merge what is below it
                if not force:
                    raise FsError(f'{os.fsdecode(os.path.join(root, entry.path))} already exists (it appeared '
                                  'during the extraction); pass force to replace it')
                remove_at(dfd, name, st)
            os.rename(name, name, src_dir_fd=sfd, dst_dir_fd=dfd)
            moved.add(entry.path)
    finally:
        src.close()
        dst.close()


def remove_staging(root_fd: int, name: bytes) -> None:
    """Remove a staging folder and everything in it (never following a link inside it)."""
    try:
        shutil.rmtree(os.fsdecode(name), dir_fd=root_fd)
    except FileNotFoundError:
        pass
