"""doit's console output, with each task's own wall time printed when it finishes.

`DOIT_CONFIG['reporter']` names this class, so every `doit` run shows, after the lines a task prints, one line
`<task>: done in 12.3 s` (or `failed after`): a person can see which step took the time, with `-n 2` too.
"""
from __future__ import annotations

import time

from doit.reporter import ConsoleReporter


class TimedReporter(ConsoleReporter):
    desc = 'console output with each task\'s wall time when it finishes'

    def __init__(self, outstream, options):
        super().__init__(outstream, options)
        self._started: dict[str, float] = {}

    def execute_task(self, task):
        self._started[task.name] = time.monotonic()
        super().execute_task(task)

    def add_success(self, task):
        super().add_success(task)
        self._finished(task, 'done in')

    def add_failure(self, task, fail):
        self._finished(task, 'failed after')
        super().add_failure(task, fail)

    def _finished(self, task, how: str) -> None:
        started = self._started.pop(task.name, None)
        if started is not None and task.actions and not task.name.startswith('_'):
            self.write(f'{task.name}: {how} {time.monotonic() - started:.1f} s\n')
            self.outstream.flush()
