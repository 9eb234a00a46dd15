"""Atomic file replacement: a reader sees the old file or the new one, never a mix, even after a crash."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

PARTIAL_SUFFIX = '.partial'


def partial_owner(name: str, target: str | None = None) -> int | None:
    """The pid in an unfinished write's name `.<target>.<pid>.<random>.partial` (any target when None), else None.

    >>> from embeddenator.io.atomic import partial_owner
    >>> partial_owner('.t.engram.4242.x1y2.partial', 't.engram'), partial_owner('t.engram', 't.engram')
    (4242, None)
    """
    if not (name.startswith('.') and name.endswith(PARTIAL_SUFFIX)):
        return None
    head = name[1:-len(PARTIAL_SUFFIX)].rsplit('.', 2)
    if len(head) != 3 or not head[1].isdigit() or (target is not None and head[0] != target):
        return None
    return int(head[1])


def current_umask() -> int:
    """This process's umask, read without changing it where the OS allows (Linux: /proc), else set and reset."""
    try:
        with open('/proc/self/status', 'rb') as fh:
            for line in fh:
                if line.startswith(b'Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one owned by another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_partials(path: str | os.PathLike) -> list[Path]:
    """Unfinished writes of `path` beside it whose owner process is gone (what a killed writer left)."""
    path = Path(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return [path.parent / n for n in sorted(names)
            if (pid := partial_owner(n, path.name)) is not None and pid != os.getpid() and not pid_alive(pid)]


def atomic_write(path: str | os.PathLike, chunks: Iterable[bytes | memoryview]) -> Path:
    """Write `chunks` to a temporary file beside `path`, flush, fsync, rename over `path`, fsync the folder.

    The temporary file is `.<name>.<pid>.<random>.partial`: the pid names its owner, so a later writer can tell
    the leftover of a killed process (`stale_partials`) from a write still in progress.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.{os.getpid()}.', suffix=PARTIAL_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())     # what open() would give; mkstemp's 0600 is for secrets
        with os.fdopen(fd, 'wb') as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)     # make the rename itself durable
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:             # platforms without directory handles (Windows): the rename is what we have
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
