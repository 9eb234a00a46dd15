"""A read-only FUSE mount of an engram: the stored tree, served as it was ingested, decoded on read.

`serve(engram_path, mountpoint)` mounts through libfuse 3 with the mfusepy binding (the `mount` extra) and
returns when the mount goes away: `umount` / `fusermount3 -u` (a normal end), or SIGINT, SIGTERM or SIGHUP,
which end libfuse's loop as its own handlers would (it then unmounts lazily, so an open file cannot keep the
process alive). The loop runs in a worker thread so that the main thread keeps Python's signal handlers (libfuse
installs its own only over default ones) and can tell Ctrl-C from an unmount.

What `stat` shows is the stored metadata (`tree.Tree`); reads decode only the chunks that hold the bytes asked
for (`reader.ChunkReader`). Every write is refused with EROFS: the mount is read-only (`-o ro`) and the write
operations the kernel might still pass on answer EROFS too.
"""
from __future__ import annotations

import ctypes
import errno
import os
import signal
import sys
import threading
import time

from embeddenator.fs.engram import Engram, load
from embeddenator.fs.errors import FsError, IntegrityError
from embeddenator.fs.reader import CACHE_CHUNKS, ChunkReader
from embeddenator.fs.tree import Tree, join as _join

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
KICK = signal.SIGUSR1            # sent to the loop's thread to interrupt its read of /dev/fuse
TIMEOUT_S = 60.0                # the kernel may cache names and attributes this long: the engram never changes


def binding():
    """The mfusepy module; FsError saying what to install when it or libfuse is missing."""
    try:
        import mfusepy
    except ImportError:
        raise FsError("mounting needs the mfusepy binding: pip install 'embeddenator-fs[mount]'") from None
    except OSError as err:        # mfusepy loads libfuse on import
        raise FsError(f'mounting needs libfuse 3 ({err}); install it, e.g. apt-get install fuse3') from None
    return mfusepy


def check_mountpoint(path) -> str:
    """The mountpoint as an absolute path; FsError (one line) if it is missing, not a folder, already a mount
    point or not empty (libfuse 3 would mount over the files in it and hide them)."""
    where = os.path.abspath(os.fspath(path))
    if not os.path.lexists(where):
        raise FsError(f'{path}: no such mountpoint; create an empty folder first (mkdir {path})')
    if not os.path.isdir(where) or os.path.islink(where):
        raise FsError(f'{path}: not a folder; the mountpoint must be an empty folder')
    if os.path.ismount(where):
        raise FsError(f'{path}: already a mount point (busy); unmount it first (fusermount3 -u {path})')
    try:
        if any(os.scandir(where)):
            raise FsError(f'{path}: not empty; mount on an empty folder so nothing in it is hidden')
    except PermissionError:
        raise FsError(f'{path}: cannot read the folder (permission denied); choose a folder you own') from None
    return where


def fuse_operations(mfusepy):
    """The operations class over mfusepy's base (built here so importing this module never needs mfusepy)."""

    class EngramFS(mfusepy.Operations):
        """Answers the kernel from a `Tree` and a `ChunkReader`; paths are bytes on the way in and out."""
        use_ns = True

        def __init__(self, tree: Tree, reader: ChunkReader, ready: threading.Event):
            self.tree, self.reader, self.ready = tree, reader, ready
            self.reads = self.bytes_read = 0
            self.errors: list[str] = []
            self.session = None            # libfuse's `struct fuse *` while it is alive
            self.guard = threading.Lock()   # not `lock`: that name is a FUSE operation

        def init(self, path):
            with self.guard:
                self.session = ctypes.c_void_p(mfusepy._libfuse.fuse_get_context().contents.fuse)
            self.ready.set()

        def destroy(self, path):
            with self.guard:                 # libfuse frees the session next: never exit it after this
                self.session = None

        def _node(self, path: str):
            entry = self.tree.lookup(os.fsencode(path))
            if entry is None:
                raise mfusepy.FuseOSError(errno.ENOENT)
            return entry

        def getattr(self, path, fh=None):
            return self.tree.stat(self._node(path))

        def readdir(self, path, fh):
            node = self._node(path)
            if node.kind != 'dir':
                raise mfusepy.FuseOSError(errno.ENOTDIR)
            parent = self.tree.lookup(node.path.rpartition(b'/')[0])
            listing = [('.', node), ('..', parent)]
            listing += [(os.fsdecode(n), self.tree.lookup(_join(node.path, n))) for n in self.tree.children(node.path)]
            # with use_ino every name needs its inode: a zero one is a deleted entry to readdir(3)
            return [(name, self.tree.stat(entry), 0) for name, entry in listing]

        def readlink(self, path):
            node = self._node(path)
            if node.kind != 'symlink':
                raise mfusepy.FuseOSError(errno.EINVAL)
            return os.fsdecode(node.target)

        def open(self, path, flags):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_TRUNC | os.O_APPEND):
                raise mfusepy.FuseOSError(errno.EROFS)
            self._node(path)
            return 0

        def read(self, path, size, offset, fh):
            entry = self.tree.content(self._node(path))
            try:
                data = self.reader.read(entry, offset, size)
            except IntegrityError as err:
                self.errors.append(str(err))
                print(f'embeddenator mount: {err}', file=sys.stderr)
                raise mfusepy.FuseOSError(errno.EIO) from None
            self.reads += 1
            self.bytes_read += len(data)
            return data

        def statfs(self, path):
            return self.tree.statfs()

        def access(self, path, amode):
            self._node(path)
            if amode & os.W_OK:
                raise mfusepy.FuseOSError(errno.EROFS)
            return 0

        def _refuse(self, *args):
            raise mfusepy.FuseOSError(errno.EROFS)

        chmod = chown = create = link = mkdir = mknod = rename = rmdir = setxattr = removexattr = _refuse
        symlink = truncate = unlink = utimens = write = _refuse

    return EngramFS


def stop_loop(mfusepy, ops, worker: threading.Thread) -> None:
    """End libfuse's loop as its own SIGINT handler does: mark the session exited, then interrupt the worker's
    blocking read of /dev/fuse (EINTR); libfuse then unmounts (lazily) and returns, even with files open."""
    with ops.guard:
        if ops.session is not None:
            mfusepy._libfuse.fuse_exit(ops.session)
    if worker.ident is not None and worker.is_alive():
        signal.pthread_kill(worker.ident, KICK)


class Stop:
    """Python handlers for the stop signals while mounted: they record the signal; the main loop unmounts."""

    def __init__(self):
        self.signal: int | None = None
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self.previous[sig] = signal.signal(sig, self.record)
            self.previous[KICK] = signal.signal(KICK, self.ignore)
        return self

    def record(self, signum, frame):
        """Keep the first stop signal; the main loop sees it within 0.1 s and ends libfuse's loop."""
        self.signal = self.signal or signum

    def ignore(self, signum, frame):
        """KICK only interrupts a system call in the worker thread; there is nothing to do."""

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def serve(engram: Engram | str | os.PathLike, mountpoint, on_ready=None, cache_chunks: int = CACHE_CHUNKS) -> dict:
    """Mount `engram` (an Engram or a path) read-only at `mountpoint` and serve it until unmounted or signalled.

    `on_ready()` is called once the kernel has the mount. Returns counts (reads, bytes read, chunks decoded,
    seconds) and `signal`, the name of the signal that stopped it (None after an unmount). FsError for a bad
    mountpoint, a missing binding or a mount libfuse refused (its own message is on stderr before it).
    """
    where = check_mountpoint(mountpoint)
    mfusepy = binding()
    name = 'engram' if isinstance(engram, Engram) else os.path.abspath(engram)     # what `mount` and `df` show
    engram = engram if isinstance(engram, Engram) else load(engram)
    ready, failure = threading.Event(), []
    reader = ChunkReader(engram, cache_chunks)
    ops = fuse_operations(mfusepy)(Tree(engram), reader, ready)

    def run():
        try:
            mfusepy.FUSE(ops, where, foreground=True, nothreads=True, ro=True, default_permissions=True,
                         use_ino=True, kernel_cache=True, attr_timeout=TIMEOUT_S, entry_timeout=TIMEOUT_S,
                         fsname=name.replace(',', '_'), subtype='embeddenator')
        except BaseException as err:    # noqa: BLE001 - handed to the main thread, which reports it
            failure.append(err)

    start = time.monotonic()
    with Stop() as stop:
        worker = threading.Thread(target=run, name='embeddenator-mount', daemon=True)
        worker.start()
        announced = False
        while worker.is_alive():
            worker.join(0.1)
            if ready.is_set() and not announced:
                announced = True
                if on_ready:
                    on_ready()
            if stop.signal and ready.is_set():
                stop_loop(mfusepy, ops, worker)         # again each turn, in case the first kick came early
    if failure and not (stop.signal and isinstance(failure[0], RuntimeError)):
        err = failure[0]
        raise FsError(f'{mountpoint}: cannot mount ({type(err).__name__}: {err}); libfuse says why above; '
                      'check /dev/fuse and the fuse3 package') from None
    if not announced and stop.signal is None:
        raise FsError(f'{mountpoint}: the mount ended before it was ready; libfuse says why above')
    return {'reads': ops.reads, 'bytes_read': ops.bytes_read, 'chunks_decoded': reader.decoded,
            'errors': ops.errors, 'seconds': round(time.monotonic() - start, 3),
            'signal': signal.Signals(stop.signal).name if stop.signal else None}
