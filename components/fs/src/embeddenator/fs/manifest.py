"""The manifest: what a tree held (paths, kinds, sizes, modes, owners, mtimes, SHA-256, chunk ranges, data
extents of sparse files, link targets, device numbers). Walking a tree into entries is `walk`.

Paths are relative, '/'-separated byte strings (`os.fsencode`), so names that are not UTF-8 survive; in JSON a
path that decodes as UTF-8 is a string, any other is ``{"hex": ...}``. Walk order is sorted by name bytes, so the
same tree always gives the same manifest (and the same engram bytes).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from embeddenator.fs.errors import FsError

KINDS = ('dir', 'file', 'symlink', 'hardlink', 'fifo', 'chardev', 'blockdev')
SPECIAL = ('fifo', 'chardev', 'blockdev')


@dataclass
class Entry:
    path: bytes                  # relative, b'/'-separated; b'' only for the root folder's own metadata
    kind: str                    # one of KINDS
    mode: int = 0o644            # permission bits only (0 .. 0o7777)
    mtime_ns: int = 0
    size: int = 0
    target: bytes = b''          # symlinks: what the link points to, verbatim; hard links: the stored file's path
    sha256: str = ''             # files: hex digest of the content
    first: int = 0               # files: index of the first chunk in the engram's chunk table
    count: int = 0               # files: number of chunks
    uid: int | None = None       # owner (None: an engram from before owners were stored)
    gid: int | None = None
    rdev: tuple[int, int] | None = None            # devices: (major, minor)
    extents: list[tuple[int, int]] | None = None   # sparse files: the (offset, length) runs of data; None: dense
    source: str = field(default='', repr=False, compare=False)   # absolute path at ingest time (not stored)
    inode: tuple | None = field(default=None, repr=False, compare=False)   # (dev, ino) of a linked file at scan

    @property
    def parent(self) -> bytes:
        return self.path.rpartition(b'/')[0]

    def data_extents(self) -> list[tuple[int, int]]:
        """The (offset, length) runs holding data: the stored extents of a sparse file, else the whole file."""
        if self.extents is not None:
            return self.extents
        return [(0, self.size)] if self.size else []

    def chunk_offset(self, index: int, chunk_size: int) -> int:
        """Byte offset in the file of its chunk number `index` (each run of data starts a new chunk)."""
        for offset, length in self.data_extents():
            count = -(-length // chunk_size)
            if index < count:
                return offset + index * chunk_size
            index -= count
        raise IndexError(f'{self.path!r} has no chunk {index}')

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
            if self.extents is not None:
                out['extents'] = [list(e) for e in self.extents]
        elif self.kind in ('symlink', 'hardlink'):
            out['target'] = encode_path(self.target)
        elif self.kind in ('chardev', 'blockdev'):
            out['rdev'] = list(self.rdev)
        if self.uid is not None:
            out.update(uid=self.uid, gid=self.gid)
        return out

    @classmethod
    def from_json(cls, item: dict, root: bool = False) -> 'Entry':
        """Inverse of `to_json`; FsError for a malformed item or a path that could escape the output folder.

        `root` reads the output folder's own metadata (a folder with no path)."""
        try:
            kind = 'dir' if root else item['kind']
            if kind not in KINDS:
                raise FsError(f'manifest entry kind {kind!r} is not one of {", ".join(KINDS)}')
            entry = cls(path=b'' if root else decode_path(item['path']), kind=kind, mode=int(item['mode']),
                        mtime_ns=int(item['mtime_ns']))
            if kind == 'file':
                entry.size, entry.sha256 = int(item['size']), str(item['sha256'])
                entry.first, entry.count = int(item['first']), int(item['count'])
                if 'extents' in item:
                    entry.extents = [(int(a), int(b)) for a, b in item['extents']]
            elif kind in ('symlink', 'hardlink'):
                entry.target = decode_path(item['target'])
            elif kind in ('chardev', 'blockdev'):
                major, minor = item['rdev']
                entry.rdev = (int(major), int(minor))
            if 'uid' in item:
                entry.uid, entry.gid = int(item['uid']), int(item['gid'])
        except (KeyError, TypeError, ValueError) as err:
            raise FsError(f'manifest entry {item!r:.200} is malformed ({err}); re-create the engram') from None
        if not root:
            check_relative(entry.path)
        _check_fields(entry)
        return entry


def _check_fields(entry: Entry) -> None:
    """FsError for a stored value no real tree has (a crafted or damaged manifest)."""
    name = os.fsdecode(entry.path) or '(the output folder)'
    if not 0 <= entry.mode <= 0o7777:
        raise FsError(f'manifest entry {name!r} has mode {entry.mode:#o}, outside 0o7777; the engram is damaged or '
                      'crafted')
    if entry.uid is not None and not (0 <= entry.uid < 1 << 32 and 0 <= entry.gid < 1 << 32):
        raise FsError(f'manifest entry {name!r} has owner {entry.uid}:{entry.gid}, outside 0 .. 2**32-1')
    if entry.kind == 'hardlink':
        check_relative(entry.target)
    if entry.rdev is not None and not all(0 <= n < 1 << 32 for n in entry.rdev):
        raise FsError(f'manifest entry {name!r} has device numbers {entry.rdev}, outside 0 .. 2**32-1')
    if entry.extents is not None:
        end = 0
        for offset, length in entry.extents:
            if offset < end or length <= 0 or offset + length > entry.size:
                raise FsError(f'manifest entry {name!r} has data extents out of order or past its size '
                              f'{entry.size}; the engram is damaged')
            end = offset + length


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
