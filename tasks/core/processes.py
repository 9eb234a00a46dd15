"""Running a tool as a step: its output captured (and appended to a log), the last lines kept for the one-line
failure, and a timeout that ends as a result instead of an exception escaping the action."""
from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from tasks.core.heartbeat import Heartbeat


@dataclass(frozen=True)
class Finished:
    returncode: int | None      # None: killed at the timeout
    output: str                 # stdout and stderr, interleaved as the tool wrote them

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def tail(self, lines: int = 1) -> str:
        """The last `lines` non-empty lines of the output, or 'no output'."""
        kept = [line for line in self.output.strip().splitlines() if line.strip()][-lines:]
        return '\n'.join(kept) or 'no output'


def run(cmd: Sequence[str], log: Path | None = None, timeout: float | None = None,
        redact: Callable[[str], str] = str, beat: tuple[str, str] | None = None, **kwargs) -> Finished:
    """Run `cmd` to the end (or `timeout` seconds), output captured; with `log`, the command and its output
    (through `redact`, which hides credentials) are appended to that file; with `beat` (label, status), a
    status line every 10 s says it is still running."""
    try:
        with Heartbeat(*beat) if beat else contextlib.nullcontext():
            proc = subprocess.run(list(map(str, cmd)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout, **kwargs)
        done = Finished(proc.returncode, proc.stdout or '')
    except subprocess.TimeoutExpired as err:
        partial = err.stdout.decode(errors='replace') if isinstance(err.stdout, bytes) else (err.stdout or '')
        done = Finished(None, partial + f'\n(stopped after {timeout:g} s)')
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, 'a', encoding='utf-8') as fh:
            fh.write(redact(f'$ {" ".join(map(str, cmd))}\n{done.output}\n'))
    return Finished(done.returncode, redact(done.output))
