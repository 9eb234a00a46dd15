"""The workspace's release notes: per component, the last release, the next version and its highlights.

The verdict fails when a manifest disagrees with the history: a version lower than the last release, or a
prepared version below the bump its commits call for (a breaking change released as a patch); the publish
stage reads it from the JSON twin.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from tasks.release.commits import BREAKING, Entry, entries
from tasks.core.config import workspace
from tasks.core.errors import PluginError, failed
from tasks.release.history import (ComponentHistory, component_history, head_date, open_repo,
                                   repository_url, tag_pattern)
from tasks.core.reporting import write_report
from tasks.release.versions import commit_level, effective_level, is_newer, next_version
from tasks.core.workspace import Component

HIGHLIGHTS = (BREAKING, 'Added', 'Fixed', 'Performance', 'Security')


@dataclass(frozen=True)
class NotesRow:
    name: str
    dist: str
    old: str | None             # last released version
    new: str | None             # the version to release (None: nothing to release)
    status: str
    level: str | None           # what the commits since `old` call for
    problem: str = ''
    highlights: tuple[tuple[str, tuple[Entry, ...]], ...] = ()


@dataclass(frozen=True)
class ReleaseNotes:
    head: str
    date: str
    verdict: str
    summary: str
    rows: tuple[NotesRow, ...] = ()


def notes_row(comp: Component, history: ComponentHistory, url: str | None) -> NotesRow:
    """Old and new version of one component, what its commits call for, and whether the manifest agrees."""
    old = history.last.version if history.last else None
    level = commit_level(c.message for c in history.pending)
    found = tuple(g for g in entries(history.pending, comp.name, url) if g[0] in HIGHLIGHTS)
    row = dict(name=comp.name, dist=comp.dist, old=old, highlights=found)
    where = f'components/{comp.name}/{comp.manifest.name}'
    if old is None:
        return NotesRow(new=comp.version, status='first release', level=None, **row)
    needed = next_version(old, effective_level(level, old)) if level else None
    if is_newer(comp.version, old):
        short = needed and is_newer(needed, comp.version)
        problem = (f'{where}: [project] version {comp.version} is below the {level} bump its commits call for '
                   f'({needed}); run `doit bump`') if short else ''
        return NotesRow(new=comp.version, status='to release', level=level, problem=problem, **row)
    if comp.version == old:
        return NotesRow(new=needed, status='suggested: run `doit bump`' if needed else 'unchanged', level=level,
                        **row)
    return NotesRow(new=None, status='behind', level=level, problem=(
        f'{where}: [project] version {comp.version} is lower than the last release {old}; set it to {old} or later'),
        **row)


def release_notes(rows: list[NotesRow], head: str, date: str) -> ReleaseNotes:
    problems = [r.problem for r in rows if r.problem]
    moving = [f'{r.name} {r.old} -> {r.new}' if r.old else f'{r.name} {r.new} (first release)'
              for r in rows if r.new and r.new != r.old]
    summary = (f'{len(problems)} manifest version(s) disagree with the history: {"; ".join(problems)}' if problems
               else f'{len(moving)} of {len(rows)} components to release: {", ".join(moving) or "none"}')
    return ReleaseNotes(head=head[:7], date=date, verdict='fail' if problems else 'pass', summary=summary,
                        rows=tuple(rows))


def write_release_notes(md: str):
    """Action: render `md` and its JSON twin for the whole workspace; a bad repository prints one line."""
    ws, pattern, url = workspace(), tag_pattern(), repository_url()
    try:
        repo = open_repo(ws.root)
        rows = [notes_row(c, component_history(ws, repo, c, pattern), url) for c in ws.components.values()]
        notes = release_notes(rows, repo.head.commit.hexsha, head_date(repo))
    except PluginError as err:
        return failed(f'changelog:release-notes: {err}')
    write_report(Path(md), 'release-notes.md.j2', asdict(notes))
    print(f'release notes: {notes.summary}', file=sys.stderr)
    return True
