"""`test:<component>` and `integration`: pytest runs whose inputs are exactly what the tests can observe.

A component's tests depend on its own files, on the files of every component it depends on (directly or not),
and on the compiled extensions of all of those: editing io re-runs io and its dependents, editing a kernel
re-runs vsa and its dependents, and nothing else.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from doit.exceptions import TaskFailed

from tasks.compile.build import extension_targets
from tasks.core.config import settings, workspace
from tasks.test.integration_report import report_inputs, run_and_report
from tasks.test.test_report import summary_task
from tasks.core.workspace import Component, Workspace

# Generated or irrelevant to a test run: never an input.
_SKIP_DIRS = {'__pycache__', 'build', 'dist', '.pytest_cache', '.hypothesis', '.benchmarks'}
_SKIP_SUFFIXES = {'.so', '.pyd', '.pyc', '.o', '.partial', '.md'}
PYTEST_NO_TESTS = 5


def source_files(paths: Iterable[Path]) -> list[Path]:
    """Files under `paths` that a test run can observe (sources, tests, manifests), without generated ones."""
    out: list[Path] = []
    for base in paths:
        if base.is_file():
            out.append(base)
            continue
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith('.egg-info'))
            out.extend(Path(folder, f) for f in sorted(files) if Path(f).suffix not in _SKIP_SUFFIXES)
    return out


def component_files(ws: Workspace, comp: Component) -> list[Path]:
    return source_files(ws.root / p for p in comp.paths)


def test_inputs(ws: Workspace, name: str) -> list[Path]:
    """Everything `test:<name>` reads: its files, those of its dependencies, and their compiled extensions."""
    names = [name, *sorted(ws.closure(name))]
    comps = [ws.components[n] for n in names]
    files = [f for c in comps for f in component_files(ws, c)]
    return sorted(set(files) | set(extension_targets(comps)))


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


def run_pytest(label: str, tests: str, junit: str, extra: tuple[str, ...] = ()):
    """Run pytest on `tests` writing JUnit XML to `junit`; TaskFailed naming the failing tests, or "no tests"."""
    Path(junit).parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, '-m', 'pytest', tests, f'--junitxml={junit}', '-q', '-rfE', '-p', 'no:cacheprovider',
           *extra]
    print(f'{label}: testing ...', file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = proc.stdout.strip().splitlines()
    summary = lines[-1].strip('= ') if lines else 'no output'
    if proc.returncode == 0:
        print(f'{label}: {summary}', file=sys.stderr)
        return True
    sys.stderr.write(proc.stdout)
    return TaskFailed(failure_message(label, tests, junit, proc.returncode, proc.stdout))


def junit_path(name: str) -> Path:
    cfg = settings()
    return cfg.path(cfg.reports, 'tests', f'{name}.xml')


def task_test():
    """run each component's tests (JUnit XML under reports/tests/)"""
    ws = workspace()
    yield {'name': None, 'doc': "run every component's tests and the integration suite",
           'task_dep': ['integration']}
    for name, comp in ws.components.items():
        junit = junit_path(name)
        yield {
            'name': name,
            'doc': f'pytest {comp.dist} -> {junit.relative_to(ws.root)}',
            'actions': [(run_pytest, [name, str(comp.root / 'tests'), str(junit)])],
            'file_dep': [str(f) for f in test_inputs(ws, name)],
            'targets': [str(junit)],
            'clean': True,
            # progress goes to the console as it comes; a failure then ends with its one line, not an empty block
            'verbosity': 2,
        }
    suites = {name: junit_path(name) for name in [*ws.components, 'integration']}
    yield summary_task(suites, junit_path('summary').with_suffix('.md'))


def task_integration():
    """run the cross-component integration suite (tests/integration)"""
    ws = workspace()
    suite = ws.root / 'tests' / 'integration'
    junit = junit_path('integration')
    comps = list(ws.components.values())
    inputs = {f for c in comps for f in component_files(ws, c)} | set(extension_targets(comps))
    report = junit.with_suffix('.md')
    return {
        'actions': [(run_and_report, [str(suite), str(junit), str(report)])],
        'file_dep': sorted(str(f) for f in inputs | set(source_files([suite])) | set(map(Path, report_inputs()))),
        'targets': [str(junit), str(report), str(report.with_suffix('.json'))],
        'clean': True,
        'verbosity': 2,
    }
