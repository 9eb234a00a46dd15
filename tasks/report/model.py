"""The dashboard's view model: plain dicts built from the report files by pure functions of a folder.

Every section says where its numbers come from (a link to the report) and what is missing: a report that does
not exist is "not run" (or "not produced"), an unreadable one is a failure, never a pass. Links are relative to
the reports folder (index.html lives there) and only point at files that exist.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from tasks.report import shapes

PASS, FAIL, NOT_RUN = 'pass', 'fail', 'not run'

#: gate -> (its JSON verdict, the report a reader opens), relative to the reports folder.
GATES = (
    ('tests', 'tests/summary.json', 'tests/summary.md'),
    ('integration', 'tests/integration.json', 'tests/integration.md'),
    ('audit', 'audit/audit.json', 'audit/audit.md'),
    ('bench', 'bench/gate.json', 'bench/report.md'),
)
#: the publish report of a real run and of a dry run; the newer one is shown.
PUBLISH = ('publishing/publish.json', 'publishing/dry-run/publish.json')
AUDIT_PARTS = ('inventory', 'sanitizers', 'memcheck', 'fuzz')
HIGHLIGHTS = 4
#: the publish plan and the bills of materials, as globs relative to the workspace
ARTEFACTS = (
    ('publish plan', 'reports/publishing/plan.md'),
    ('publish plan (JSON)', 'reports/publishing/plan.json'),
    ('SBOMs (CycloneDX)', 'dist/*/*.cdx.json'),
)


def read_json(path: Path) -> dict | None:
    """The report's data; None when it does not exist; {'unreadable': reason} when it is not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        return {'unreadable': f'{path.name}: {err}'}
    return data if isinstance(data, dict) else {'unreadable': f'{path.name}: not a JSON object'}


def link(reports: Path, *candidates: str) -> str | None:
    """The first candidate that exists, as a link relative to the reports folder."""
    return next((c for c in candidates if (reports / c).is_file()), None)


def verdict(data: dict | None) -> tuple[str, str]:
    """(status, summary) of a report: pass only on an explicit "pass" verdict."""
    if data is None:
        return NOT_RUN, 'not run: no report yet'
    if 'unreadable' in data:
        return FAIL, f'unreadable: {data["unreadable"]}; re-run its task'
    if 'verdict' not in data:
        return FAIL, 'no top-level "verdict"; re-run its task'
    status = PASS if data['verdict'] == PASS else FAIL
    return status, str(data.get('summary') or f'verdict {data["verdict"]}')


def gate(reports: Path, name: str, data_rel: str, page_rel: str) -> dict:
    status, summary = verdict(read_json(reports / data_rel))
    return {'name': name, 'status': status, 'summary': summary, 'link': link(reports, page_rel, data_rel)}


def publish_report(reports: Path) -> tuple[str | None, dict | None]:
    """(relative path, data) of the newer of the real and the dry-run publish reports, or (None, None)."""
    found = [(rel, read_json(reports / rel)) for rel in PUBLISH]
    found = [(rel, data) for rel, data in found if data is not None]
    if not found:
        return None, None
    return max(found, key=lambda f: str(f[1].get('generated') or ''))


def gates(reports: Path, components: Iterable[str]) -> list[dict]:
    """Every gate's verdict: the four stage gates, the package checklists, the publish itself."""
    rows = [gate(reports, *g) for g in GATES]
    checklists = [(name, verdict(read_json(reports / 'package' / f'{name}.json'))) for name in components]
    missing = [n for n, (s, _) in checklists if s == NOT_RUN]
    bad = [n for n, (s, _) in checklists if s == FAIL]
    status = FAIL if bad else NOT_RUN if missing else PASS
    summary = (f'failed: {", ".join(bad)}' if bad else f'not run for {", ".join(missing)}' if missing
               else f'{len(checklists)} checklists hold')
    rows.append({'name': 'package', 'status': status, 'summary': summary,
                 'link': link(reports, *(f'package/{n}.md' for n, _ in checklists))})
    rel, data = publish_report(reports)
    status, summary = verdict(data)
    name = 'publish (dry run)' if data and data.get('dry_run') else 'publish'
    rows.append({'name': name, 'status': status, 'summary': summary,
                 'link': rel and link(reports, rel.replace('.json', '.md'), rel)})
    return rows


def tests(reports: Path) -> dict:
    data = read_json(reports / 'tests' / 'summary.json') or {}
    suites = [{**s, 'link': link(reports, f'tests/{s.get("junit", "")}') if s.get('junit') else None}
              for s in data.get('suites') or []]
    areas = (read_json(reports / 'tests' / 'integration.json') or {}).get('areas') or []
    return {'suites': suites, 'totals': data.get('totals'), 'areas': areas}


def audit(reports: Path) -> dict:
    data = read_json(reports / 'audit' / 'audit.json') or {}
    parts = []
    for key in AUDIT_PARTS:
        status, summary = verdict(data.get(key)) if isinstance(data.get(key), dict) else (NOT_RUN, 'not run')
        parts.append({'name': key, 'status': status, 'summary': summary})
    inventory = data.get('inventory') or {}
    findings = [*(inventory.get('findings') or []), *(data.get('failing') or [])]
    return {'parts': parts, 'sites': inventory.get('sites'), 'reviewed': inventory.get('reviewed'),
            'files': len(inventory.get('files') or []), 'findings': [str(f) for f in findings]}


def bench(reports: Path) -> dict:
    data = read_json(reports / 'bench' / 'gate.json') or {}
    chart = reports / 'bench' / 'chart.svg'
    svg = None
    if chart.is_file():
        text = chart.read_text(encoding='utf-8')
        svg = text[text.find('<svg'):] if '<svg' in text else None
    return {'counts': data.get('counts') or {}, 'rows': data.get('rows') or [], 'chart': svg,
            'reference': (data.get('reference') or {}).get('commit'), 'current': data.get('current')}


def artefacts(reports: Path, root: Path, wanted: Iterable[tuple[str, str]]) -> list[dict]:
    """(label, glob relative to the workspace) -> the files found as links from the reports folder; an empty
    list is shown as "not produced"."""
    rows = []
    for label, pattern in wanted:
        found = sorted(p for p in root.glob(pattern) if p.is_file())
        rows.append({'label': label, 'pattern': pattern,
                     'files': [Path(os.path.relpath(p, reports)).as_posix() for p in found]})
    return rows


def packages(reports: Path, components: list[dict]) -> tuple[list[dict], str | None]:
    """Version, level, dependencies, checklist verdict and changelog highlights of each package, in order."""
    notes = read_json(reports / 'release-notes.json') or {}
    by_dist = {row.get('dist'): row for row in notes.get('rows') or []}
    rows = []
    for comp in components:
        note = by_dist.get(comp['dist']) or {}
        highlights = [(section, item.get('subject') or item.get('text', ''))
                      for section, items in note.get('highlights') or [] for item in items]
        status, summary = verdict(read_json(reports / 'package' / f'{comp["name"]}.json'))
        rows.append({**comp, 'previous': note.get('old'), 'release': note.get('status'), 'checklist': status,
                     'checklist_summary': summary, 'highlights': highlights[:HIGHLIGHTS],
                     'more': max(len(highlights) - HIGHLIGHTS, 0),
                     'link': link(reports, f'package/{comp["name"]}.md')})
    return rows, link(reports, 'release-notes.md')


RECORD_KEYS = ('version', 'status', 'built', 'uploaded', 'served', 'verified', 'tag', 'tagged', 'error')


def publish(reports: Path, components: list[dict]) -> dict:
    """The newer publish run: its records in publish order (a package it did not reach says so) and the timeline."""
    rel, data = publish_report(reports)
    data = data or {}
    records = {r.get('component'): r for r in data.get('components') or [] if isinstance(r, dict)}
    rows = []
    for comp in components:
        record = records.get(comp['name']) or {'status': 'not reached'}
        rows.append({'component': comp['name'], **{k: record.get(k) for k in RECORD_KEYS}})
    return {'report': rel, 'link': rel and link(reports, rel.replace('.json', '.md'), rel),
            'dry_run': bool(data.get('dry_run')), 'run': data.get('run'), 'index': data.get('index'),
            'verdict': verdict(data if rel else None)[0], 'records': rows, 'timeline': shapes.timeline(rows)}


def view_model(reports: Path, root: Path, components: list[dict], generated: str,
               wanted: Iterable[tuple[str, str]] = ARTEFACTS) -> dict:
    """Everything the template shows. `components` are the workspace's packages in publish order, as dicts of
    name, dist, version, level and deps (the workspace model, so the graph is drawn from the manifests)."""
    names = [c['name'] for c in components]
    graph = shapes.graph_layout({c['name']: c['level'] for c in components},
                                {c['name']: tuple(c['deps']) for c in components},
                                {c['name']: f'{c["name"]} {c["version"]}' for c in components})
    rows, notes = packages(reports, components)
    verdicts = gates(reports, names)
    worst = FAIL if any(g['status'] == FAIL for g in verdicts) else \
        NOT_RUN if any(g['status'] == NOT_RUN for g in verdicts) else PASS
    return {'generated': generated, 'verdict': worst, 'gates': verdicts, 'tests': tests(reports),
            'audit': audit(reports), 'bench': bench(reports), 'graph': graph, 'publish': publish(reports, components),
            'packages': rows, 'release_notes': notes, 'artefacts': artefacts(reports, root, wanted)}
