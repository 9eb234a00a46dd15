"""`integration` report: pass/fail per area of the integration suite, from its JUnit XML.

An area is one test module of the suite, titled by the first line of its docstring, so the suite describes
itself and the plugin names nothing. Every module of the suite is an area: one that ran no test fails, so a test
file can never be silently left out; a module the JUnit file names but the folder lacks is still listed.
"""
from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, field
from pathlib import Path

from doit.exceptions import TaskFailed

from tasks.core.junit import JUnitError, cases as junit_cases
from tasks.core.reporting import write_gate_report
from tasks.test.pytest_run import run_pytest

TEMPLATE = 'integration.md.j2'


def area_titles(suite: Path) -> dict[str, str]:
    """Each `test_*.py` module of `suite` -> its title (first docstring line, else its name), by file name."""
    titles = {}
    for path in sorted(Path(suite).glob('test_*.py')):
        try:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding='utf-8')))
        except (OSError, SyntaxError, UnicodeDecodeError):
            doc = None
        titles[path.stem] = (doc or path.stem).strip().splitlines()[0].rstrip('.')
    return titles


@dataclass
class Area:
    module: str
    title: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return 'fail' if self.failed or not self.passed else 'pass'


def read_cases(junit: Path) -> list[tuple[str, str, str, float]]:
    """(module, test name, outcome, seconds) of every test case in a pytest JUnit file."""
    return junit_cases(junit, 'run `doit integration`')


def summarize(cases: list[tuple[str, str, str, float]], titles: dict[str, str]) -> dict:
    """The report's data: one row per area (`titles`: module -> title), the verdict and a one-line summary."""
    areas: dict[str, Area] = {m: Area(m, t) for m, t in titles.items()}
    for module, name, outcome, seconds in cases:
        area = areas.setdefault(module, Area(module, titles.get(module, module)))
        setattr(area, outcome, getattr(area, outcome) + 1)
        area.seconds += seconds
        if outcome == 'failed':
            area.failures.append(name)
    rows = [a for a in areas.values() if a.passed or a.failed or a.skipped or a.module in titles]
    failing = [a.title for a in rows if a.verdict == 'fail']
    passed = sum(a.passed for a in rows)
    summary = (f'{sum(a.verdict == "pass" for a in rows)}/{len(rows)} areas pass; {passed} tests passed, '
               f'{sum(a.failed for a in rows)} failed, {sum(a.skipped for a in rows)} skipped')
    if failing:
        summary += f'; failing: {", ".join(failing)}'
    return {'verdict': 'fail' if failing else 'pass', 'summary': summary,
            'areas': [{**asdict(a), 'seconds': round(a.seconds, 2), 'verdict': a.verdict} for a in rows]}


def write_integration_report(suite: str, junit: str, markdown: str):
    """Action: render the per-area report of `suite`'s run (`junit`) to `markdown` and its JSON twin."""
    return write_gate_report('integration report', Path(markdown), TEMPLATE,
                             lambda: summarize(read_cases(Path(junit)), area_titles(Path(suite))),
                             (JUnitError,))


def run_and_report(suite: str, junit: str, markdown: str):
    """Action: run the suite, then write the report whether it passed or not (a failing run is worth reading)."""
    tests = run_pytest('integration', suite, junit)
    if not Path(junit).exists():
        return tests
    reported = write_integration_report(suite, junit, markdown)
    if tests is not True:
        return TaskFailed(f'{tests.message.rstrip()}; report {markdown}')
    return reported


def report_inputs() -> list[str]:
    """What the report step reads besides the JUnit file: this module and its template."""
    return [__file__, str(Path(__file__).resolve().parents[2] / 'templates' / TEMPLATE)]
