"""Long steps say what they are doing: a thread that prints a status line every few seconds until the step ends.

A sanitizer run, a valgrind run, a benchmark group or a verification venv can take minutes with nothing to print;
a person watching `doit` should still see, at least every 10 seconds, which step is running and for how long.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Callable

EVERY = 10.0   # seconds between two status lines


class Heartbeat:
    """Context manager: print `<label>: <status> (<elapsed> s)` every `every` seconds while the block runs.

    `status` is a string or a callable returning the current one (a loop can keep it up to date).
    """

    def __init__(self, label: str, status: str | Callable[[], str] = 'running', every: float = EVERY,
                 stream=None):
        self.label, self.status, self.every = label, status, every
        self.stream = stream
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = 0.0

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            status = self.status() if callable(self.status) else self.status
            print(f'{self.label}: {status} ({time.monotonic() - self.started:.0f} s)',
                  file=self.stream or sys.stderr, flush=True)

    def __enter__(self) -> 'Heartbeat':
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name=f'heartbeat {self.label}', daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def run(cmd: list[str], label: str, status: str | None = None, every: float = EVERY,
        **kwargs) -> subprocess.CompletedProcess:
    """`subprocess.run(cmd, **kwargs)` that prints `label: <status> (<elapsed> s)` every `every` seconds."""
    with Heartbeat(label, status or f'still running {cmd[0]}', every):
        return subprocess.run(cmd, **kwargs)
