"""`test:<component>` and `integration`: pytest runs whose inputs are exactly what the tests can observe.

A component's tests depend on its own files, on the files of every component it depends on (directly or not),
and on the compiled extensions of all of those: editing io re-runs io and its dependents, editing a kernel
re-runs vsa and its dependents, and nothing else.
"""
from __future__ import annotations

from pathlib import Path

from tasks.core.config import settings, workspace
from tasks.core.files import component_files, source_files
from tasks.core.kernels import extension_inputs
from tasks.test.integration_report import report_inputs, run_and_report
from tasks.test.pytest_run import run_pytest
from tasks.test.test_report import summary_task
from tasks.core.workspace import Workspace


def test_inputs(ws: Workspace, name: str) -> list[Path]:
    """Everything `test:<name>` reads: its files, those of its dependencies, and their compiled extensions."""
    names = [name, *sorted(ws.closure(name))]
    comps = [ws.components[n] for n in names]
    files = [f for c in comps for f in component_files(ws, c)]
    return sorted(set(files) | set(extension_inputs(comps)))


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
            'actions': [(run_pytest, [f'test:{name}', str(comp.root / 'tests'), str(junit)])],
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
    inputs = {f for c in comps for f in component_files(ws, c)} | set(extension_inputs(comps))
    report = junit.with_suffix('.md')
    return {
        'actions': [(run_and_report, [str(suite), str(junit), str(report)])],
        'file_dep': sorted(str(f) for f in inputs | set(source_files([suite])) | set(map(Path, report_inputs()))),
        'targets': [str(junit), str(report), str(report.with_suffix('.json'))],
        'clean': True,
        'verbosity': 2,
    }
