"""`doit dashboard`: reports/index.html from the reports the other stages wrote, drawn by one Jinja2 template.

The page is one self-contained file (inline CSS and SVG, no script, a Content-Security-Policy that forbids any
fetch), so it opens from a CI artefact or a mail attachment as it does from the work tree.
"""
from __future__ import annotations

import sys
from pathlib import Path

from tasks.core.config import settings, workspace
from tasks.core.errors import failed
from tasks.core.files import replace_file
from tasks.core.reporting import TEMPLATES
from tasks.core.workspace import Workspace, load_workspace
from tasks.report import model

TEMPLATE = 'dashboard.html.j2'


def components(ws: Workspace) -> list[dict]:
    """The workspace model as the view model wants it: packages in publish order."""
    return [{'name': c.name, 'dist': c.dist, 'version': c.version, 'level': c.level, 'deps': list(c.deps)}
            for c in ws.components.values()]


def render_html(view: dict) -> str:
    import jinja2   # only rendering pays for it, not every load of the task graph
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters['percent'] = percent
    view = {**view, 'bench': {**view['bench'], 'chart': jinja2.utils.markupsafe.Markup(view['bench']['chart'])
                              if view['bench']['chart'] else None}}   # the bench stage's own SVG, inlined
    return env.get_template(TEMPLATE).render(**view)


def percent(value: object) -> str:
    return f'{value * 100:+.1f}%' if isinstance(value, (int, float)) else '-'


def index_path() -> Path:
    cfg = settings()
    return cfg.path(cfg.reports, 'index.html')


def render_dashboard(generated: str) -> Path:
    """Write reports/index.html from what the reports folder holds now; returns its path."""
    cfg = settings()
    ws = load_workspace(cfg.root, cfg.components)
    out = index_path()
    view = model.view_model(out.parent, cfg.root, components(ws), generated)
    replace_file(out, render_html(view))
    return out


def render_action(generated: str | None = None):
    """The action: render and print the page's path (a manifest error is one line)."""
    import time
    from tasks.core.errors import PluginError
    try:
        out = render_dashboard(generated or time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    except PluginError as err:
        return failed(f'dashboard: {err}')
    print(f'dashboard: {out}', file=sys.stderr)
    return None


def task_dashboard():
    """render reports/index.html: every gate, tests, audit, bench, package graph, publish timeline (no network)"""
    out = index_path()
    workspace()   # a manifest error stops the graph's load in one line, as for every stage
    return {
        'actions': [render_action],
        'targets': [str(out)],
        'uptodate': [False],   # it shows what the reports folder holds now; rendering takes a fraction of a second
        'clean': True,
    }
