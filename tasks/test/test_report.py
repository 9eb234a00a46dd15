"""`test:summary`: one table of every test run (per component and the integration suite) from the JUnit files."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Mapping

from tasks.core.junit import JUnitError, counts
from tasks.core.reporting import write_gate_report

TEMPLATE = 'test-summary.md.j2'


@dataclass(frozen=True)
class SuiteCounts:
    name: str
    passed: int
    failed: int             # failures and errors
    skipped: int
    duration: float         # seconds, as pytest measured them
    junit: str              # file name, beside the report


def junit_counts(name: str, path: Path) -> SuiteCounts:
    """Counts of one JUnit XML file (pytest's: a <testsuites> of <testsuite> elements, or a lone <testsuite>)."""
    found = counts(path, f'run `doit test:{name}`')
    return SuiteCounts(name, found.passed, found.failed, found.skipped, found.seconds, Path(path).name)


def summarize(suites: Iterable[SuiteCounts]) -> dict:
    """The report's data: every suite, the totals, and the verdict (any failure or an empty run fails)."""
    suites = list(suites)
    totals = {k: sum(getattr(s, k) for s in suites) for k in ('passed', 'failed', 'skipped')}
    totals['duration'] = round(sum(s.duration for s in suites), 3)
    failing = [s.name for s in suites if s.failed]
    verdict = 'fail' if failing or not totals['passed'] else 'pass'
    summary = (f'{totals["passed"]} passed, {totals["failed"]} failed, {totals["skipped"]} skipped in '
               f'{len(suites)} suites ({totals["duration"]:.1f} s)')
    if failing:
        summary += f'; failing: {", ".join(failing)}'
    return {'verdict': verdict, 'summary': summary, 'suites': [asdict(s) for s in suites], 'totals': totals}


def write_summary(junits: Mapping[str, str], markdown: str):
    """Action: render the summary of `junits` (name -> JUnit path) to `markdown` and its JSON twin."""
    return write_gate_report(
        'test summary', Path(markdown), TEMPLATE,
        lambda: summarize(junit_counts(name, Path(path)) for name, path in junits.items()), (JUnitError,))


def summary_task(junits: Mapping[str, Path], markdown: Path) -> dict:
    """The `test:summary` subtask: reads every JUnit file, writes reports/tests/summary.md and .json."""
    template = Path(__file__).resolve().parents[2] / 'templates' / TEMPLATE
    return {
        'name': 'summary',
        'doc': f'passed/failed/skipped and duration per suite -> {markdown.name} and {markdown.stem}.json',
        'actions': [(write_summary, [{k: str(v) for k, v in junits.items()}, str(markdown)])],
        'file_dep': [str(p) for p in junits.values()] + [__file__, str(template)],
        'targets': [str(markdown), str(markdown.with_suffix('.json'))],
        'clean': True,
    }
