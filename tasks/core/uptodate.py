"""`uptodate` helpers: non-file inputs that are costly to read (git history, tool versions) are read only when
doit actually checks the task, not every time it loads the graph (`doit list`, or a run of other tasks)."""
from __future__ import annotations

from typing import Callable

from doit.tools import config_changed


class lazy_config_changed(config_changed):
    """`config_changed` whose dict is computed by `compute()` on first check; one per task, like its parent."""

    def __init__(self, compute: Callable[[], dict], encoder=None):
        super().__init__({}, encoder)
        self.compute = compute

    def _calc_digest(self):
        self.config = self.compute()
        return super()._calc_digest()

    def __repr__(self):
        return f'lazy_config_changed({getattr(self.compute, "__name__", self.compute)!r})'
