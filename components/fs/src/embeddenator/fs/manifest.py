"""The manifest: what a tree held (paths, kinds, sizes, modes, mtimes, SHA-256, chunk ranges) and how to walk one.

Paths are relative, '/'-separated byte strings (`os.fsencode`), so names that are not UTF-8 survive; in JSON a
path that decodes as UTF-8 is a string, any other is ``{"hex": ...}``. Walk order is sorted by name bytes, so the
same tree always gives the same manifest (and the same engram bytes).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from embeddenator.fs.errors import FsError

KINDS = ('dir', 'file', 'symlink')


@dataclass
class Entry:
    path: bytes                  # relative, b'/'-separated; b'' never appears (the root is implicit)
    kind: str                    # 'dir', 'file' or 'symlink'
    mode: int = 0o644            # permission bits only
    mtime_ns: int = 0
    size: int = 0
    target: bytes = b''          # symlinks: what the link points to, verbatim
    sha256: str = ''             # files: hex digest of the content
    first: int = 0               # files: index of the first chunk in the engram's chunk table
    count: int = 0               # files: number of chunks
    source: str = field(default='', repr=False, compare=False)   # absolute path at ingest time (not stored)

    @property
    def parent(self) -> bytes:
        return self.path.rpartition(b'/')[0]

    def to_json(self) -> dict:
        """The entry as stored in an engram's manifest: only the fields its kind uses, never `source`.

        >>> from embeddenator.fs import Entry
        >>> item = Entry(b'docs/a.txt', 'file', size=5, sha256='ab', first=2, count=1).to_json()
        >>> item
        {'path': 'docs/a.txt', 'kind': 'file', 'mode': 420, 'mtime_ns': 0,
         'size': 5, 'sha256': 'ab', 'first': 2, 'count': 1}
        >>> Entry.from_json(item) == Entry(b'docs/a.txt', 'file', size=5, sha256='ab', first=2, count=1)
        True
        """
        out = {'path': encode_path(self.path), 'kind': self.kind, 'mode': self.mode, 'mtime_ns': self.mtime_ns}
        if self.kind == 'file':
            out.update(size=self.size, sha256=self.sha256, first=self.first, count=self.count)
        elif self.kind == 'symlink':
            out['target'] = encode_path(self.target)
        return out

    @classmethod
    def from_json(cls, item: dict) -> 'Entry':
        """Inverse of `to_json`; FsError for a malformed item or a path that could escape the output folder."""
        try:
            kind = item['kind']
            if kind not in KINDS:
                raise FsError(f'manifest entry kind {kind!r} is not one of {", ".join(KINDS)}')
            entry = cls(path=decode_path(item['path']), kind=kind, mode=int(item['mode']),
                        mtime_ns=int(item['mtime_ns']))
            if kind == 'file':
                entry.size, entry.sha256 = int(item['size']), str(item['sha256'])
                entry.first, entry.count = int(item['first']), int(item['count'])
            elif kind == 'symlink':
                entry.target = decode_path(item['target'])
        except (KeyError, TypeError, ValueError) as err:
            raise FsError(f'manifest entry {item!r} is malformed ({err}); re-create the engram') from None
        check_relative(entry.path)
        if not 0 <= entry.mode <= 0o7777:
            raise FsError(f'manifest entry {os.fsdecode(entry.path)!r} has mode {entry.mode:#o}, outside 0o7777; '
                          'the engram is damaged or crafted')
        return entry


def encode_path(path: bytes):
    """A path for JSON: a string when it is UTF-8, otherwise `{'hex': ...}`.

    >>> from embeddenator.fs.manifest import decode_path, encode_path
    >>> encode_path(b'docs/a.txt'), encode_path(b'caf\\xe9')
    ('docs/a.txt', {'hex': '636166e9'})
    >>> decode_path({'hex': '636166e9'})
    b'caf\\xe9'
    """
    try:
        return path.decode('utf-8')
    except UnicodeDecodeError:
        return {'hex': path.hex()}


def decode_path(value) -> bytes:
    """Inverse of `encode_path`."""
    return bytes.fromhex(value['hex']) if isinstance(value, dict) else value.encode('utf-8')


def check_relative(path: bytes) -> None:
    """Refuse paths that would escape the output folder on extraction."""
    parts = path.split(b'/')
    if not path or path.startswith(b'/') or any(p in (b'', b'.', b'..') for p in parts) or b'\0' in path:
        raise FsError(f'manifest path {path!r} is not a plain relative path; the engram is not safe to extract')


def _entry(full: bytes, rel: bytes, st: os.stat_result) -> Entry:
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return Entry(rel, 'symlink', mode, st.st_mtime_ns, target=os.readlink(full))
    if stat.S_ISDIR(st.st_mode):
        return Entry(rel, 'dir', mode, st.st_mtime_ns)
    if stat.S_ISREG(st.st_mode):
        return Entry(rel, 'file', mode, st.st_mtime_ns, size=st.st_size, source=os.fsdecode(full))
    raise FsError(f'{os.fsdecode(full)}: not a regular file, directory or symlink; leave it out of the sources')


def _stat_or_none(path):
    try:
        return os.stat(path)
    except OSError:
        return None


def _walk(full: bytes, rel: bytes, out: list[Entry], skip: frozenset) -> None:
    try:
        names = sorted(os.listdir(full))
    except OSError as err:
        raise FsError(f'{os.fsdecode(full)}: cannot list the directory ({err.strerror})') from None
    for name in names:
        child, child_rel = os.path.join(full, name), (rel + b'/' + name if rel else name)
        st = os.lstat(child)
        if (st.st_dev, st.st_ino) in skip:
            continue
        out.append(_entry(child, child_rel, st))
        if stat.S_ISDIR(st.st_mode):
            _walk(child, child_rel, out, skip)


def scan(sources, exclude=()) -> list[Entry]:
    """Entries of `sources`: a lone directory contributes its contents; several sources, each under its own name.

    Files in `exclude` (paths; typically the engram being written) are left out wherever they appear.
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
            _walk(full, b'', entries, skip)
            continue
        entries.append(_entry(full, name, st))
        if stat.S_ISDIR(st.st_mode):
            _walk(full, name, entries, skip)
    seen: dict[bytes, Entry] = {}
    for entry in entries:
        if entry.path in seen:
            raise FsError(f'two sources are both named {os.fsdecode(entry.path)!r}; ingest them separately')
        seen[entry.path] = entry
    return sorted(entries, key=lambda e: e.path.split(b'/'))
