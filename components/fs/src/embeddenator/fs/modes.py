"""Which permission bits extraction restores: GNU tar's rule, as one pure function.

As the superuser, modes come back whole (tar's `--same-permissions` is the default for root). Any other user
gets the stored mode with the umask applied and setuid/setgid dropped, unless `same_permissions` asks for the
stored bits as they are (tar's `--same-permissions`). The sticky bit is kept either way: it grants nothing.
"""
from __future__ import annotations

import stat

from embeddenator.io.atomic import current_umask   # noqa: F401 - re-exported: extraction reads it here

ALL_BITS = 0o7777


def restored_mode(mode: int, euid: int, umask: int, same_permissions: bool) -> int:
    """The bits to set on an extracted entry stored with `mode`.

    >>> from embeddenator.fs.modes import restored_mode
    >>> oct(restored_mode(0o4755, euid=0, umask=0o022, same_permissions=False))
    '0o4755'
    >>> oct(restored_mode(0o4775, euid=1000, umask=0o022, same_permissions=False))
    '0o755'
    """
    if euid == 0 or same_permissions:
        return mode & ALL_BITS
    return mode & ALL_BITS & ~umask & ~(stat.S_ISUID | stat.S_ISGID)
