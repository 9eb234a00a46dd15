"""Reading pytest's JUnit XML, once for every stage: the counts of a run, and its test cases one by one."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tasks.core.errors import PluginError


class JUnitError(PluginError):
    """A JUnit file is missing or unreadable; the message names it and what writes it."""


@dataclass(frozen=True)
class Counts:
    tests: int
    failed: int             # failures and errors
    skipped: int
    seconds: float          # as pytest measured them

    @property
    def passed(self) -> int:
        return self.tests - self.failed - self.skipped


def _suites(path: Path, hint: str) -> list[ET.Element]:
    """The <testsuite> elements of pytest's file: a <testsuites> of them, or a lone <testsuite>."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise JUnitError(f'{path}: cannot read the JUnit report ({err}); {hint}') from None
    return [root] if root.tag == 'testsuite' else root.findall('testsuite')


def counts(path: Path, hint: str = 're-run the task that writes it') -> Counts:
    """Totals of one JUnit file; `hint` (the command that writes the file) ends the error message."""
    suites = _suites(Path(path), hint)
    total = {k: sum(int(s.get(k, 0)) for s in suites) for k in ('tests', 'failures', 'errors', 'skipped')}
    return Counts(total['tests'], total['failures'] + total['errors'], total['skipped'],
                  round(sum(float(s.get('time', 0)) for s in suites), 3))


def cases(path: Path, hint: str = 're-run the task that writes it') -> list[tuple[str, str, str, float]]:
    """(module, test name, outcome, seconds) of every test case; outcome is passed, failed or skipped."""
    out = []
    for suite in _suites(Path(path), hint):
        for case in suite.iter('testcase'):
            module = case.get('classname', '').split('.')[-1] or '?'
            outcome = ('failed' if case.find('failure') is not None or case.find('error') is not None
                       else 'skipped' if case.find('skipped') is not None else 'passed')
            out.append((module, case.get('name', '?'), outcome, float(case.get('time', 0))))
    return out
