"""The stored tree as a file system sees it: names per folder, inode numbers, link counts and `stat` fields.

Built once from an engram's manifest (pure: no I/O), for the read-only mount. Inode 1 is the root; every other
entry gets its index + 2, and a hard link the inode of the file it names, so `ls -i` and `st_nlink` show the
links as one file. Owners missing from an old (v1) engram are the mounting user's; a folder that only appears as
the parent of a stored path gets mode 0755.
"""
from __future__ import annotations

import os
import stat

from embeddenator.fs.engram import Engram
from embeddenator.fs.manifest import Entry

TYPE_BITS = {'dir': stat.S_IFDIR, 'file': stat.S_IFREG, 'symlink': stat.S_IFLNK, 'hardlink': stat.S_IFREG,
             'fifo': stat.S_IFIFO, 'chardev': stat.S_IFCHR, 'blockdev': stat.S_IFBLK}
BLOCK = 4096


class Tree:
    """Lookup by path (bytes, no leading slash; b'' is the root), folder listings and stat dictionaries."""

    def __init__(self, engram: Engram):
        root = engram.root_entry or Entry(b'', 'dir', mode=0o755)
        self.root = Entry(b'', 'dir', mode=root.mode, mtime_ns=root.mtime_ns, uid=root.uid, gid=root.gid)
        self.entries: dict[bytes, Entry] = {b'': self.root}
        self.inodes: dict[bytes, int] = {b'': 1}
        self.names: dict[bytes, list[bytes]] = {b'': []}
        for number, entry in enumerate(engram.entries, start=2):
            self._add(entry, number)
        self.links: dict[bytes, int] = {}
        for entry in engram.entries:
            if entry.kind == 'hardlink' and entry.target in self.entries:
                self.inodes[entry.path] = self.inodes[entry.target]
                self.links[entry.target] = self.links.get(entry.target, 1) + 1
        self.subdirs = {path: sum(self.entries[join(path, n)].kind == 'dir' for n in names)
                        for path, names in self.names.items()}
        for names in self.names.values():
            names.sort()
        self.data_bytes = sum(e.size for e in engram.entries if e.kind == 'file')
        self.chunk_size = engram.codec.chunk_size

    def _add(self, entry: Entry, number: int) -> None:
        parent, _, name = entry.path.rpartition(b'/')
        if parent not in self.entries:                         # a parent the manifest does not list
            self._add(Entry(parent, 'dir', mode=0o755, mtime_ns=self.root.mtime_ns), -len(self.entries))
        if entry.path in self.entries:
            return
        self.entries[entry.path] = entry
        self.inodes[entry.path] = number if number > 0 else (1 << 40) + len(self.entries)
        self.names[parent].append(name)
        if entry.kind == 'dir':
            self.names.setdefault(entry.path, [])

    def lookup(self, path: bytes) -> Entry | None:
        """The entry at `path` ('/'-separated, leading slash allowed), None if the tree has none."""
        return self.entries.get(path.strip(b'/'))

    def children(self, path: bytes) -> list[bytes]:
        """Names in the folder `path`, sorted by bytes."""
        return self.names.get(path, [])

    def content(self, entry: Entry) -> Entry:
        """The file entry holding the data of `entry` (a hard link's target; the entry itself otherwise)."""
        return self.entries.get(entry.target, entry) if entry.kind == 'hardlink' else entry

    def stat(self, entry: Entry) -> dict:
        """`stat` fields of `entry` as stored: type and mode, owner, size, nanosecond times, links, blocks."""
        node = self.content(entry)
        size = len(node.target) if node.kind == 'symlink' else node.size if node.kind == 'file' else 0
        stored = sum(length for _, length in node.data_extents()) if node.kind == 'file' else size
        if node.kind == 'dir':
            links = 2 + self.subdirs.get(node.path, 0)
        else:
            links = self.links.get(node.path, 1)
        out = {'st_mode': TYPE_BITS[node.kind] | node.mode, 'st_ino': self.inodes[entry.path], 'st_nlink': links,
               'st_uid': os.getuid() if node.uid is None else node.uid,
               'st_gid': os.getgid() if node.gid is None else node.gid,
               'st_size': size, 'st_blocks': -(-stored // 512), 'st_blksize': BLOCK,
               'st_atime': node.mtime_ns, 'st_mtime': node.mtime_ns, 'st_ctime': node.mtime_ns}
        if node.rdev is not None:
            out['st_rdev'] = os.makedev(*node.rdev)
        return out

    def statfs(self) -> dict:
        """`statvfs` fields: the data size in blocks, nothing free (a read-only file system)."""
        return {'f_bsize': BLOCK, 'f_frsize': BLOCK, 'f_blocks': -(-self.data_bytes // BLOCK), 'f_bfree': 0,
                'f_bavail': 0, 'f_files': len(self.entries), 'f_ffree': 0, 'f_favail': 0, 'f_namemax': 255}


def join(parent: bytes, name: bytes) -> bytes:
    """`name` in the folder `parent` (b'' is the root)."""
    return parent + b'/' + name if parent else name
