"""One pytest run as a doit action: JUnit XML to a file, progress to the console, one line when it fails."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from doit.exceptions import TaskFailed

from tasks.core import processes

PYTEST_NO_TESTS = 5


def failing_ids(output: str) -> list[str]:
    """The node ids of pytest's short summary lines (`FAILED id - reason`, `ERROR id`), in order, once each."""
    return list(dict.fromkeys(re.findall(r'^(?:FAILED|ERROR) (\S+)', output, re.M)))


def failure_message(label: str, tests: str, junit: str, returncode: int, output: str, shown: int = 5) -> str:
    """One line for a failed run: which tests failed (the first `shown`), and where the report is."""
    if returncode == PYTEST_NO_TESTS:
        return f'{label}: no tests collected in {tests}; a component must have tests'
    ids = failing_ids(output)
    if not ids:
        lines = output.strip().splitlines()
        return f"{label}: pytest exited {returncode} ({lines[-1].strip('= ') if lines else 'no output'}); see {junit}"
    more = f' and {len(ids) - shown} more' if len(ids) > shown else ''
    return f"{label}: tests failed: {', '.join(ids[:shown])}{more}; see {junit}"


def suite_line(junit: Path) -> str:
    """The counts and duration the summary report shows for this suite (one definition: the JUnit file's)."""
    from tasks.core.junit import JUnitError
    from tasks.test.test_report import junit_counts
    try:
        s = junit_counts(junit.stem, junit)
    except JUnitError as err:
        return str(err)
    return f'{s.passed} passed, {s.failed} failed, {s.skipped} skipped in {s.duration:.2f} s'


def run_pytest(label: str, tests: str, junit: str, extra: tuple[str, ...] = ()):
    """Run pytest on `tests` writing JUnit XML to `junit`; TaskFailed naming the failing tests, or "no tests"."""
    Path(junit).parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, '-m', 'pytest', tests, f'--junitxml={junit}', '-q', '-rfE', '-p', 'no:cacheprovider',
           *extra]
    print(f'{label}: testing ...', file=sys.stderr, flush=True)
    done = processes.run(cmd, beat=(label, 'still testing'))
    if done.ok:
        print(f'{label}: {suite_line(Path(junit))}', file=sys.stderr)
        return True
    sys.stderr.write(done.output)
    return TaskFailed(failure_message(label, tests, junit, done.returncode, done.output))
