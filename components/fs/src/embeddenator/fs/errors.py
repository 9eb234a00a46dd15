"""Errors of the holographic filesystem: one type, plus a subtype for data that fails its checks."""
import errno
import os

NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})     # a full disk, a quota, a file size limit


class FsError(Exception):
    """A problem the user can act on: a missing or unreadable source, an unwritable output, a failed ingest."""


class IntegrityError(FsError):
    """Stored data that does not verify (a chunk or file hash mismatch): the engram is damaged."""


class FsWarning(UserWarning):
    """Something left out on purpose that the user should hear about (a socket, a device when not root)."""


def cannot_write(path, err: OSError) -> FsError:
    """The error for an engram that could not be written at `path` (nothing changed there): what failed, and what
    to do about it, room first (a full disk is the usual cause)."""
    hint = ('make room there (free space, a quota or a file size limit) and run again' if err.errno in NO_ROOM
            else 'check the folder exists and is writable')
    return FsError(f'{os.fspath(path)}: cannot write the engram ({err.strerror}); nothing was changed: {hint}')
