"""The extraction planner: everything is decided before anything is written.

`check_entries` refuses a crafted manifest (a path that is absolute, holds `..`, repeats, or lies under a stored
symlink) and `clashes` lists what already exists in the output folder where the engram puts something else. Both
only read; the writer runs only when they pass, so a refused extraction writes nothing.
"""
from __future__ import annotations

import os
import stat

from embeddenator.fs.dirfd import DIR_FLAGS, lstat_at, split
from embeddenator.fs.errors import FsError, IntegrityError
from embeddenator.fs.hierarchy import ancestors
from embeddenator.fs.manifest import Entry, check_relative


def tree_order(entries: list[Entry]) -> list[Entry]:
    """Entries sorted so every folder comes before what it holds (depth-first, by name bytes)."""
    return sorted(entries, key=lambda e: e.path.split(b'/'))


def check_entries(entries: list[Entry]) -> list[Entry]:
    """The entries in tree order; IntegrityError for a path that repeats, lies under a stored symlink or file, or
    a hard link whose target is not a stored file."""
    ordered = tree_order(entries)
    kinds: dict[bytes, str] = {}
    for entry in ordered:
        check_relative(entry.path)
        if entry.path in kinds:
            raise IntegrityError(f'{os.fsdecode(entry.path)}: appears twice in the manifest; the engram is damaged')
        for above in ancestors(entry.path)[:-1]:
            if kinds.get(above, 'dir') == 'symlink':
                raise IntegrityError(f'{os.fsdecode(entry.path)}: lies under a stored symlink; extracting it would '
                                     'write outside the output folder')
            if kinds.get(above, 'dir') != 'dir':
                raise IntegrityError(f'{os.fsdecode(entry.path)}: lies under a stored {kinds[above]}, not a folder; '
                                     'the engram is damaged')
        kinds[entry.path] = entry.kind
    for entry in ordered:
        if entry.kind == 'hardlink' and kinds.get(entry.target) != 'file':
            raise IntegrityError(f'{os.fsdecode(entry.path)}: a hard link to {os.fsdecode(entry.target)!r}, which is '
                                 'not a stored file; the engram is damaged')
    return ordered


def clashes(ordered: list[Entry], root_fd: int) -> list[bytes]:
    """Paths where the output already holds something other than what the engram puts there.

    A real folder where the engram has a folder is no clash (the trees merge); anything else is, a symlink above
    all: it is never followed, so nothing below it is looked at. Folders are walked through descriptors.
    """
    found: list[bytes] = []
    stack: list[tuple[bytes, int]] = [(b'', root_fd)]    # existing real folders on the path to the current entry
    try:
        for entry in ordered:
            parent, name = split(entry.path)
            while len(stack) > 1 and not (parent == stack[-1][0] or parent.startswith(stack[-1][0] + b'/')):
                os.close(stack.pop()[1])
            if stack[-1][0] != parent:
                continue                                  # the parent is new or replaced: nothing below exists
            st = lstat_at(stack[-1][1], name)
            if st is None:
                continue
            if entry.kind == 'dir' and stat.S_ISDIR(st.st_mode):
                stack.append((entry.path, os.open(name, DIR_FLAGS, dir_fd=stack[-1][1])))
            else:
                found.append(entry.path)
    finally:
        for _, fd in stack[1:]:
            os.close(fd)
    return found


def refuse_clashes(found: list[bytes], root: bytes) -> None:
    """FsError naming the first clashes; nothing has been written when this is raised."""
    if found:
        shown = ', '.join(os.fsdecode(os.path.join(root, p)) for p in found[:3])
        more = f' and {len(found) - 3} more' if len(found) > 3 else ''
        raise FsError(f'{shown}{more} already exists; nothing was written: extract into an empty folder or pass '
                      'force to replace them')
