"""`bump`: move manifest versions forward and keep every dependent's sibling ranges consistent (tomlkit).

Without parameters it applies what the commits since each component's last release call for (tasks/release/versions.py
says how); `doit bump --level vsa=patch` (repeatable, or comma-separated) bumps the named components instead,
which with the cascade to dependents is the fix-forward path (`--level vsa:patch` or `--level=vsa=patch`: doit
takes a bare `vsa=patch` argument for one of its own variables). Running it twice changes nothing the second time.

The task edits sources, so it has no targets (`doit clean` must never delete a manifest) and runs when asked.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from tasks.core.errors import PluginError, failed
from tasks.core.config import workspace
from tasks.release.history import component_history, open_repo, tag_pattern
from tasks.core.files import replace_file
from tasks.release.versions import LEVELS, commit_level, plan_bumps, update_manifest
from tasks.core.workspace import Workspace


class BumpError(PluginError):
    """A `--level` value that names no component or no level; the message shows the accepted form."""


def parse_levels(values: Iterable[str], names: Iterable[str]) -> dict[str, str]:
    """`['vsa=patch', 'io:minor,obs=patch']` -> {'vsa': 'patch', ...}; BumpError names the bad entry.

    doit reads a bare `name=value` argument as a command-line variable, so on the command line write
    `--level=vsa=patch` or `--level vsa:patch`.
    """
    known, out = set(names), {}
    for item in (p.strip() for v in values for p in v.split(',') if p.strip()):
        name, _, level = item.replace(':', '=', 1).partition('=')
        if name not in known or level not in LEVELS:
            raise BumpError(f'--level {item!r}: write <component>=<level> with a component among '
                            f'{", ".join(sorted(known))} and a level among {", ".join(LEVELS)}')
        out[name] = level
    return out


def manifest_edits(ws: Workspace, bumped: Mapping[str, str]) -> dict[str, str]:
    """name -> new text of every manifest the bumps change: their versions and their dependents' ranges."""
    out = {}
    for name, comp in ws.components.items():
        siblings = {ws.components[d].dist: bumped[d] for d in comp.deps if d in bumped}
        if name not in bumped and not siblings:
            continue
        old = comp.manifest.read_text(encoding='utf-8')
        new = update_manifest(old, bumped.get(name), siblings)
        if new != old:
            out[name] = new
    return out


def apply_bumps(level: list[str]):
    """Action: plan the bumps, rewrite the manifests that change, and print what moved."""
    ws = workspace()
    try:
        explicit = parse_levels(level, ws.components)
        repo, pattern = open_repo(ws.root), tag_pattern()
        history = {n: component_history(ws, repo, c, pattern) for n, c in ws.components.items()}
        released = {n: h.last.version if h.last else None for n, h in history.items()}
        levels = explicit or {n: commit_level(c.message for c in h.pending) if h.last else None
                              for n, h in history.items()}
        bumped = plan_bumps(ws.order(), {n: c.deps for n, c in ws.components.items()},
                            {n: c.version for n, c in ws.components.items()}, released, levels)
        edits = manifest_edits(ws, bumped)
    except PluginError as err:
        return failed(f'bump: {err}')
    for name, new in edits.items():
        replace_file(ws.components[name].manifest, new)
    for name, comp in ws.components.items():
        if name in bumped:
            print(f'{comp.dist}: {comp.version} -> {bumped[name]}')
        elif name in edits:
            print(f'{comp.dist}: sibling ranges updated')
    print('bump: every manifest is already at the version its history calls for' if not edits else
          'bump: now run `doit changelog`, review the drafts and commit the manifests with the changelogs')
    return True


def task_bump():
    """bump manifest versions (from the commits, or --level name:major|minor|patch) and sibling ranges"""
    return {
        'actions': [(apply_bumps,)],
        'params': [{'name': 'level', 'long': 'level', 'type': list, 'default': [],
                    'help': 'component:major|minor|patch (repeatable); default: what the commits call for'}],
        'verbosity': 2,
    }
