"""A one-line progress bar on stderr, shown only when stderr is a terminal (never in pipes, logs or --json)."""
from __future__ import annotations

import sys
import time

WIDTH = 30


class Progress:
    """A `progress(done, total)` callback drawing a bar with MB and MB/s; silent unless `allowed` and a terminal.

    >>> import io
    >>> from embeddenator.cli.progress import Progress
    >>> bar = Progress('ingest', stream=io.StringIO())     # not a terminal: draws nothing
    >>> bar(50, 100); bar.close()
    >>> bar.enabled, bar.stream.getvalue()
    (False, '')
    """
    def __init__(self, label: str, allowed: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.label = label
        self.enabled = allowed and self.stream.isatty()
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        frac = min(1.0, done / total)
        bar = '#' * int(frac * WIDTH)
        rate = done / 1e6 / max(time.perf_counter() - self.start, 1e-9)
        self.stream.write(f'\r{self.label} [{bar:<{WIDTH}}] {frac:4.0%} {done / 1e6:8.1f} MB {rate:6.1f} MB/s')
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """End the bar's line, if one was drawn, so the next output starts on its own line."""
        if self.shown:
            self.stream.write('\n')
            self.stream.flush()
