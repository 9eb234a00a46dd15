"""A one-line progress bar on stderr, shown only when stderr is a terminal (never in pipes, logs or --json)."""
from __future__ import annotations

import sys
import time

WIDTH = 30


class Progress:
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
        if self.shown:
            self.stream.write('\n')
            self.stream.flush()
