"""The publish plan: per package, in publish order, what a `doit publish` would do now, decided from plain values.

`plan_rows` takes what the workspace declares, what dist/ holds, what the index serves and the gate verdicts, and
says for each package: its version, whether the index has it (and whether the hashes match), which files would be
uploaded, and what would block it. It builds nothing and uploads nothing; `tasks.release.plan_task` feeds it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename, canonicalize_name, parse_sdist_filename,
                             parse_wheel_filename)
from packaging.version import InvalidVersion, Version

from tasks.release.preflight import FAIL, Gate
from tasks.release.registry import sha256_file

#: what a publish would do with a package
UPLOAD, TAG_ONLY, PUBLISHED, NOT_BUILT, BLOCKED = 'upload', 'tag only', 'already published', 'not built', 'blocked'


@dataclass(frozen=True)
class Package:
    name: str
    dist: str
    version: str
    level: int = 0
    deps: tuple[str, ...] = ()
    tag: str = ''


def dist_of(filename: str) -> tuple[str, Version] | None:
    """(normalized name, version) of a wheel or sdist file name; None for anything else."""
    try:
        if filename.endswith('.whl'):
            return parse_wheel_filename(filename)[:2]
        return parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidWheelFilename, InvalidVersion):
        return None


def of_release(files: Mapping[str, str], dist: str, version: str) -> dict[str, str]:
    """The files (name -> SHA-256) of one distribution's one version among `files`."""
    want = (canonicalize_name(dist), Version(version))
    return {name: digest for name, digest in files.items() if dist_of(name) == want}


def built_files(folder: Path, dist: str, version: str) -> dict[str, str]:
    """The sdist and wheels of `dist` `version` that `folder` (dist/<name>/) holds, with their SHA-256."""
    if not folder.is_dir():
        return {}
    found = of_release({p.name: '' for p in folder.iterdir() if p.is_file()}, dist, version)
    return {name: sha256_file(folder / name) for name in sorted(found)}


def plan_row(pkg: Package, built: Mapping[str, str], served: Mapping[str, str], tagged: bool,
             gates: Sequence[Gate], checklist: tuple[str, str], blocked_deps: Iterable[str]) -> dict:
    """One package's row. `built` and `served` are file name -> SHA-256 of this version (locally, on the index);
    `checklist` is the (status, summary) of its package report; `blocked_deps` its dependencies that are blocked."""
    conflicts = sorted(n for n, d in built.items() if n in served and served[n] != d)
    upload = sorted(n for n in built if n not in served)
    if not served:
        hashes = '-'
    elif not built:
        hashes = 'not compared (not built here)'
    elif conflicts:
        hashes = f'differ: {", ".join(conflicts)}'
    else:
        hashes = 'match'
    if not built:
        action = PUBLISHED if served and tagged else NOT_BUILT
    else:
        action = UPLOAD if upload else TAG_ONLY if not tagged else PUBLISHED
    blocking = None
    if conflicts:
        blocking = 'the index serves other content under this version: a published version is immutable; bump it'
    elif action in (UPLOAD, TAG_ONLY, NOT_BUILT):
        failed = [g for g in gates if g.status == FAIL]
        deps = sorted(blocked_deps)
        if failed:
            blocking = '; '.join(f'gate {g.name}: {g.summary}' for g in failed)
        elif built and checklist[0] == FAIL:
            blocking = f'package checklist: {checklist[1]}'
        elif deps:
            blocking = f'waits for {", ".join(deps)}, which would not publish'
    return {'component': pkg.name, 'dist': pkg.dist, 'version': pkg.version, 'level': pkg.level,
            'built': sorted(built), 'on_index': bool(served), 'served': sorted(served), 'hashes': hashes,
            'tagged': tagged, 'tag': pkg.tag, 'upload': upload if blocking is None else [],
            'would_upload': upload, 'action': BLOCKED if blocking else action, 'blocking': blocking}


def plan_rows(packages: Sequence[Package], built: Mapping[str, Mapping[str, str]],
              served: Mapping[str, Mapping[str, str]], tags: Iterable[str], gates: Sequence[Gate],
              checklists: Mapping[str, tuple[str, str]]) -> list[dict]:
    """Rows in the order of `packages` (publish order): `built` and `served` are keyed by component name and may
    hold other versions' files too; `tags` are the tags that exist."""
    tags = set(tags)
    rows: list[dict] = []
    blocked: set[str] = set()
    for pkg in packages:
        mine = of_release(built.get(pkg.name, {}), pkg.dist, pkg.version)
        on_index = of_release(served.get(pkg.name, {}), pkg.dist, pkg.version)
        row = plan_row(pkg, mine, on_index, pkg.tag in tags, gates,
                       checklists.get(pkg.name, ('not run', 'not run')), [d for d in pkg.deps if d in blocked])
        if row['action'] == BLOCKED:
            blocked.add(pkg.name)
        rows.append(row)
    return rows


def summary(rows: Sequence[dict]) -> str:
    counts = {action: sum(r['action'] == action for r in rows)
              for action in (UPLOAD, TAG_ONLY, PUBLISHED, NOT_BUILT, BLOCKED)}
    files = sum(len(r['upload']) for r in rows)
    return (f'{counts[UPLOAD]} to upload ({files} files), {counts[TAG_ONLY]} to tag only, {counts[PUBLISHED]} '
            f'already published, {counts[NOT_BUILT]} not built, {counts[BLOCKED]} blocked')


def table(rows: Sequence[dict]) -> str:
    """The plan as aligned text for the console."""
    head = ('package', 'version', 'on index', 'hashes', 'action', 'files / blocking')
    lines = [head]
    for r in rows:
        detail = r['blocking'] or ', '.join(r['upload']) or '-'
        lines.append((r['dist'], r['version'], 'yes' if r['on_index'] else 'no', r['hashes'], r['action'], detail))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    return '\n'.join('  '.join([*(c.ljust(w) for c, w in zip(line, widths)), line[-1]]).rstrip() for line in lines)
