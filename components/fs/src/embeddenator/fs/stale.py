"""Leftovers of killed runs: partial engrams beside an output, staging folders inside an extraction target.

Both carry their owner's pid in their name (`.<name>.<pid>.<random>.partial`, `.embeddenator-extract.<pid>.<random>`);
the next run to the same place removes those whose owner is gone, and leaves alone those of a live process.
"""
from __future__ import annotations

import os

from embeddenator.fs.commit import remove_staging
from embeddenator.fs.writer import STAGING_PREFIX
from embeddenator.io.atomic import partial_owner, pid_alive, stale_partials


def clear_partials(target) -> list[str]:
    """Remove the partial engrams a killed writer left beside `target`; returns their names."""
    removed = []
    for path in stale_partials(target):
        try:
            path.unlink()
            removed.append(path.name)
        except OSError:
            pass
    return removed


def is_partial(path) -> bool:
    """Whether `path` is named like an unfinished engram write (it never holds a whole engram)."""
    return partial_owner(os.path.basename(os.fspath(path))) is not None


def clear_staging(root_fd: int) -> None:
    """Remove staging folders in the output folder whose extracting process is gone."""
    for name in os.listdir(root_fd):
        raw = os.fsencode(name)
        if not raw.startswith(STAGING_PREFIX):
            continue
        pid = raw[len(STAGING_PREFIX):].partition(b'.')[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            remove_staging(root_fd, raw)
