"""The one exception of the io domain."""
from __future__ import annotations

import os


class FormatError(ValueError):
    """A file that is not a valid envelope of the expected kind: names the file, the byte offset and why."""

    def __init__(self, path: str | os.PathLike, offset: int, reason: str):
        self.path, self.offset, self.reason = os.fspath(path), int(offset), reason
        super().__init__(f'{self.path}: at byte {self.offset}: {reason}')
