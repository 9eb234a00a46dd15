"""Walking source trees into manifest entries, as tar would archive them.

Regular files (with their data extents when sparse: `SEEK_DATA`/`SEEK_HOLE`), folders, symlinks (never followed),
hard links (a second name of an inode already seen becomes a link to the first name, in manifest order), fifos and
devices; sockets cannot be stored and are skipped with an `FsWarning` naming them; `skip_special` leaves out every
fifo, device and socket. Owners, modes and nanosecond mtimes are kept. A lone folder source also gives its own
metadata as the entry with path b'' (the output folder's on extraction).
"""
from __future__ import annotations

import errno
import os
import stat
import warnings
from pathlib import Path

from embeddenator.fs.errors import FsError, FsWarning
from embeddenator.fs.manifest import Entry

_SPECIAL = {stat.S_IFIFO: 'fifo', stat.S_IFCHR: 'chardev', stat.S_IFBLK: 'blockdev'}


def data_extents(path: bytes, size: int) -> list[tuple[int, int]] | None:
    """The (offset, length) runs of data in a file with holes; None when it has none (or the OS cannot tell)."""
    out: list[tuple[int, int]] = []
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise FsError(f'{os.fsdecode(path)}: cannot read ({err.strerror})') from None
    try:
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as err:
                if err.errno == errno.ENXIO:       # no data after pos: the rest is a hole
                    break
                return None                         # SEEK_DATA not supported here: store the file dense
            end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
            if end > start:
                out.append((start, end - start))
            pos = end
    finally:
        os.close(fd)
    return None if out == [(0, size)] else out


def _entry(full: bytes, rel: bytes, st: os.stat_result, skip_special: bool) -> Entry | None:
    mode, owner = stat.S_IMODE(st.st_mode), {'uid': st.st_uid, 'gid': st.st_gid}
    fmt = stat.S_IFMT(st.st_mode)
    if fmt == stat.S_IFLNK:
        return Entry(rel, 'symlink', mode, st.st_mtime_ns, target=os.readlink(full), **owner)
    if fmt == stat.S_IFDIR:
        return Entry(rel, 'dir', mode, st.st_mtime_ns, **owner)
    if fmt == stat.S_IFREG:
        sparse = st.st_blocks * 512 < st.st_size
        return Entry(rel, 'file', mode, st.st_mtime_ns, size=st.st_size, source=os.fsdecode(full),
                     extents=data_extents(full, st.st_size) if sparse else None,
                     inode=(st.st_dev, st.st_ino) if st.st_nlink > 1 else None, **owner)
    if skip_special:
        return None
    if fmt in _SPECIAL:
        rdev = (os.major(st.st_rdev), os.minor(st.st_rdev)) if fmt != stat.S_IFIFO else None
        return Entry(rel, _SPECIAL[fmt], mode, st.st_mtime_ns, rdev=rdev, **owner)
    what = 'a socket' if fmt == stat.S_IFSOCK else 'an unknown kind of file'
    warnings.warn(f'{os.fsdecode(full)}: {what}, skipped (it cannot be stored)', FsWarning, stacklevel=2)
    return None


def _stat_or_none(path):
    try:
        return os.stat(path)
    except OSError:
        return None


def _walk(full: bytes, rel: bytes, out: list[Entry], skip: frozenset, skip_special: bool) -> None:
    try:
        names = sorted(os.listdir(full))
    except OSError as err:
        raise FsError(f'{os.fsdecode(full)}: cannot list the directory ({err.strerror})') from None
    for name in names:
        child, child_rel = os.path.join(full, name), (rel + b'/' + name if rel else name)
        _add(child, child_rel, os.lstat(child), out, skip, skip_special)


def _add(full: bytes, rel: bytes, st: os.stat_result, out: list[Entry], skip: frozenset, skip_special: bool) -> None:
    """The entry for `full` (unless skipped) and, for a folder, everything below it. The engram being written
    (in `skip`) is left out with a warning, as tar leaves out its archive ("file is the archive; not dumped")."""
    if (st.st_dev, st.st_ino) in skip:
        warnings.warn(f'{os.fsdecode(full)}: the engram being written; not stored', FsWarning, stacklevel=2)
        return
    entry = _entry(full, rel, st, skip_special)
    if entry is not None:
        out.append(entry)
    if stat.S_ISDIR(st.st_mode):
        _walk(full, rel, out, skip, skip_special)


def link_duplicates(entries: list[Entry]) -> list[Entry]:
    """Every later name of an inode already listed becomes a hard link to the first name (entries in order)."""
    first: dict[tuple, bytes] = {}
    for i, e in enumerate(entries):
        if e.kind != 'file' or e.inode is None:
            continue
        if e.inode in first:
            entries[i] = Entry(e.path, 'hardlink', e.mode, e.mtime_ns, target=first[e.inode], uid=e.uid, gid=e.gid)
        else:
            first[e.inode] = e.path
    return entries


def scan(sources, exclude=(), skip_special: bool = False) -> list[Entry]:
    """Entries of `sources`: a lone directory contributes its contents; several sources, each under its own name.

    Files in `exclude` (paths; typically the engram being written) are left out wherever they appear. The first
    entry of a lone directory is its own metadata (path b'').
    """
    if isinstance(sources, (str, bytes, os.PathLike)):
        sources = [sources]
    skip = frozenset((st.st_dev, st.st_ino) for st in map(_stat_or_none, exclude) if st is not None)
    sources = [os.fsencode(Path(src)) for src in sources]
    entries: list[Entry] = []
    for full in sources:
        try:
            st = os.lstat(full)
        except OSError as err:
            raise FsError(f'{os.fsdecode(full)}: cannot read the source ({err.strerror}); check the path') from None
        name = os.path.basename(os.path.abspath(full))
        if stat.S_ISDIR(st.st_mode) and len(sources) == 1:
            entries.append(Entry(b'', 'dir', stat.S_IMODE(st.st_mode), st.st_mtime_ns, uid=st.st_uid, gid=st.st_gid))
            _walk(full, b'', entries, skip, skip_special)
            continue
        _add(full, name, st, entries, skip, skip_special)
    stats = [st for st in map(_stat_or_none, sources) if st is not None]
    if sources and not entries and all((st.st_dev, st.st_ino) in skip for st in stats):
        raise FsError(f'{os.fsdecode(sources[0])} is the engram being written, and there is nothing else to store; '
                      'give the files or folders to store')
    seen: dict[bytes, Entry] = {}
    for entry in entries:
        if entry.path in seen:
            raise FsError(f'two sources are both named {os.fsdecode(entry.path)!r}; ingest them separately')
        seen[entry.path] = entry
    return link_duplicates(sorted(entries, key=lambda e: e.path.split(b'/')))
