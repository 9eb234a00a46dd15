"""`doit publish_plan` (also `doit publish --plan`): what a publish would do now, printed and written to
reports/publishing/plan.md and plan.json, without building anything.

It reads what dist/ holds (a package not built is "not built"), asks the configured index what it serves (the
embedded one is started for it, as publish does), and reads the gate and checklist reports. A publish shows the
same plan before its first upload (`publish:plan`), when the packages are built and the gates have run.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tasks.core.config import settings, workspace
from tasks.core.errors import PluginError, failed
from tasks.core.reporting import write_report
from tasks.release import preflight, tagging
from tasks.release.history import tag_name, tag_pattern
from tasks.release.package import dist_dir, report_path
from tasks.release.plan import Package, built_files, plan_rows, summary, table
from tasks.release.redact import scrub, scrub_data
from tasks.release.registry import open_registry, remote_registry, served_files
from tasks.release.release import stamp

TEMPLATE = 'publish-plan.md.j2'


def plan_path() -> Path:
    cfg = settings()
    return cfg.path(cfg.reports, 'publishing', 'plan.md')


def packages() -> list[Package]:
    pattern = tag_pattern()
    return [Package(name, c.dist, c.version, c.level, tuple(c.deps), tag_name(pattern, name, c.version))
            for name, c in workspace().components.items()]


def checklist(name: str) -> tuple[str, str]:
    """(status, summary) of the package report: "not run" without one, "fail" unless its verdict is "pass"."""
    path = report_path(name).with_suffix('.json')
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        return preflight.NOT_RUN, 'not built'
    except (OSError, ValueError) as err:
        return preflight.FAIL, f'{path.name} unreadable ({err})'
    return (preflight.PASS if data.get('verdict') == preflight.PASS else preflight.FAIL), str(data.get('summary'))


def index_label() -> str:
    cfg = settings()
    return 'the local index' if remote_registry(cfg) is None else f'the index {cfg.get("index")}'


def gather() -> dict:
    """The plan's data: every input read now (the index asked once per package); RegistryError if it is down."""
    ws, cfg = workspace(), settings()
    pkgs = packages()
    with open_registry(cfg) as registry:
        served = {p.name: served_files(registry, p.dist) for p in pkgs}
    built = {p.name: built_files(dist_dir(ws.components[p.name]), p.dist, p.version) for p in pkgs}
    tags = [p.tag for p in pkgs if tagging.tag_exists(ws.root, p.tag)]
    gates = preflight.read_gates(cfg.path(cfg.reports))
    rows = plan_rows(pkgs, built, served, tags, gates, {p.name: checklist(p.name) for p in pkgs})
    for row in rows:
        row['sha256'] = {n: built[row['component']][n] for n in row['built']}
    return {'generated': stamp(), 'index': index_label(), 'commit': tagging.head_commit(ws.root),
            'summary': summary(rows), 'packages': rows,
            'gates': [{**g.as_dict(), 'path': _relative(g.path, ws.root)} for g in gates],
            'not_run': [g.name for g in gates if g.status == preflight.NOT_RUN],
            'publish_runs_gates': bool(preflight.gate_tasks(cfg.get('publish-runs-gates', 'yes').lower()
                                                            not in ('no', 'false', '0')))}


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def write_plan() -> object:
    """The action: gather, write plan.md and plan.json, print the table; an index that is down is one line."""
    try:
        data = scrub_data(gather())
    except PluginError as err:
        return failed(scrub(f'publish plan: {err}'))
    out = plan_path()
    write_report(out, TEMPLATE, data)
    print(f'publish plan against {data["index"]}: {data["summary"]}', file=sys.stderr)
    print(table(data['packages']), file=sys.stderr)
    print(f'publish plan: {out}', file=sys.stderr)
    return None


def plan_task(targets: bool = True, **extra) -> dict:
    """The task dict of the plan: `publish_plan` owns the files as targets (two tasks cannot share one), and
    `publish:plan` writes them too, with `extra` keys such as its task_dep."""
    out = plan_path()
    owned = {'targets': [str(out), str(out.with_suffix('.json'))], 'clean': True} if targets else {}
    return {'actions': [write_plan], **extra, 'uptodate': [False], **owned}   # the index and dist/ decide


def task_publish_plan():
    """print and write reports/publishing/plan.md: per package, on the index?, hashes, uploads, blocking gate"""
    workspace()   # a manifest error stops the graph's load in one line, as for every stage
    return plan_task()
