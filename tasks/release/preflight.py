"""The gates publish reads: each stage's JSON (or JUnit XML) verdict, and the gate tasks publish runs first.

A gate file that does not exist means the gate was not run: the report says so and publishing goes on; a
"fail" verdict (or an unreadable file) stops it. Nothing here pretends a missing gate passed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from tasks.core.junit import JUnitError, counts

#: gate -> candidate report files (relative to the reports folder), first existing one wins, and the task that
#: writes it (publish depends on that task unless `publish-runs-gates = no`).
GATES = (
    ('tests', ('tests/summary.json',), 'test'),
    ('integration', ('tests/integration.json', 'tests/integration.xml'), 'integration'),
    ('audit', ('audit/audit.json',), 'audit'),
    ('bench', ('bench/gate.json',), 'bench'),
)
PASS, FAIL, NOT_RUN = 'pass', 'fail', 'not run'


@dataclass(frozen=True)
class Gate:
    name: str
    status: str         # pass | fail | not run
    summary: str
    path: str           # the file read, or the first candidate when none exists

    def as_dict(self) -> dict:
        return asdict(self)


def read_gate(name: str, candidates: Iterable[Path]) -> Gate:
    candidates = list(candidates)
    for path in candidates:
        if path.is_file():
            return _read_junit(name, path) if path.suffix == '.xml' else _read_json(name, path)
    return Gate(name, NOT_RUN, f'not run: no {candidates[0].name} yet', str(candidates[0]))


def read_gates(reports: Path) -> list[Gate]:
    return [read_gate(name, [reports / f for f in files]) for name, files, _ in GATES]


def blocking(gates: Iterable[Gate]) -> list[Gate]:
    return [g for g in gates if g.status == FAIL]


def _read_json(name: str, path: Path) -> Gate:
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
        verdict = data['verdict']
    except (ValueError, KeyError, TypeError):
        return Gate(name, FAIL, f'{path}: unreadable or no top-level "verdict"; re-run its task', str(path))
    status = PASS if verdict == PASS else FAIL
    return Gate(name, status, str(data.get('summary') or f'verdict {verdict}'), str(path))


def _read_junit(name: str, path: Path) -> Gate:
    try:
        found = counts(path)
    except JUnitError:
        return Gate(name, FAIL, f'{path}: not valid JUnit XML; re-run its task', str(path))
    status = PASS if found.tests and not found.failed else FAIL
    return Gate(name, status, f'{found.tests} tests, {found.failed} failed, {found.skipped} skipped', str(path))


def gate_tasks(enabled: bool = True) -> list[str]:
    """The gate tasks publish runs first. The graph is the plugin's alone (the same whichever dodo file doit
    loaded): a dodo file that does not load the gate stages sets `publish-runs-gates = no` and publish reads
    their reports as they are."""
    return [task for _, _, task in GATES] if enabled else []
