"""Errors of the holographic filesystem: one type, plus a subtype for data that fails its checks."""


class FsError(Exception):
    """A problem the user can act on: a missing or unreadable source, an unwritable output, a failed ingest."""


class IntegrityError(FsError):
    """Stored data that does not verify (a chunk or file hash mismatch): the engram is damaged."""


class FsWarning(UserWarning):
    """Something left out on purpose that the user should hear about (a socket, a device when not root)."""
