"""`changelog:<component>` and `changelog:release-notes`: Keep a Changelog files from the git history.

Which commits go where (one rule, the same for every component):
- a tagged release (`embeddenator-<name>-v<version>`, see tasks/release/history.py) gets the commits after the previous
  release up to its tag, dated with the tag;
- the commits after the last release (all of them before the first) go under the manifest's version when that
  version has no tag yet (the release being prepared: `## [0.2.0] - <date>`), and under `## [Unreleased]` when
  the manifest still names the last release; either section is dated by HEAD's commit (none for Unreleased), so
  re-running on the same HEAD and tags gives the same bytes.

Update mode: those two sections are drafts, marked by an HTML comment and rewritten on every run until their
tag exists. A released version's section is written once; after that it is kept byte for byte, like the file's
top and any hand-written text, and a newly tagged release is inserted above the older ones (delete a section to
have it written again). CHANGELOG.md is committed, not a doit `clean` target: it is the record the package ships.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from tasks.release.commits import Entry, entries, group
from tasks.core.config import settings, workspace
from tasks.core.errors import PluginError, failed
from tasks.release.history import (CHANGELOG, ComponentHistory, HistoryError, component_history, head_date, open_repo,
                                   repository_url, state, tag_name, tag_pattern)
from tasks.release.release_notes import write_release_notes
from tasks.core.files import replace_file
from tasks.core.reporting import TEMPLATES, render
from tasks.release.versions import is_newer
from tasks.core.uptodate import lazy_config_changed
from tasks.core.workspace import Component, Workspace

UNRELEASED = 'Unreleased'
DRAFT_MARK = '<!-- draft:'
_HEADING = re.compile(r'^## +\[?(?P<title>[^\]\s]+)\]?')
_FENCE = re.compile(r'^\s*(```|~~~)')


# --- sections and update mode (pure) --------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    title: str                  # a version, or UNRELEASED
    date: str | None
    draft: bool
    tag: str                    # the tag that marks (or will mark) it; '' for UNRELEASED
    groups: tuple[tuple[str, tuple[Entry, ...]], ...] = ()


def sections(comp: Component, history: ComponentHistory, head: str, pattern: str, url: str | None) -> list[Section]:
    """Every section the history calls for, newest first: the draft (if any), then each release."""
    out = []
    last = history.last
    if last is None or is_newer(comp.version, last.version):
        out.append(Section(comp.version, head, True, tag_name(pattern, comp.name, comp.version),
                           entries(history.pending, comp.name, url)))
    elif group(history.pending):   # only internal commits since the release: nothing to list
        out.append(Section(UNRELEASED, None, True, '', entries(history.pending, comp.name, url)))
    for rel, found in reversed(history.released):
        out.append(Section(rel.version, rel.date, False, rel.tag, entries(found, comp.name, url)))
    return out


@dataclass(frozen=True)
class Part:
    """One piece of the file: text kept as it was, or a section to render."""
    raw: str | None = None
    section: Section | None = None


@dataclass(frozen=True)
class ChangelogContext:
    dist: str
    preamble: str | None        # the file's top as it was; None renders the template's
    parts: tuple[Part, ...]
    draft_mark: str = DRAFT_MARK


def split(text: str) -> tuple[str, list[str]]:
    """The text before the first `## ` heading, and one chunk per heading (outside code fences), verbatim."""
    lines = text.splitlines(keepends=True)
    starts, fenced = [], False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _HEADING.match(line):
            starts.append(i)
    bounds = [*starts, len(lines)]
    head = ''.join(lines[:bounds[0]])
    return head, [''.join(lines[a:b]) for a, b in zip(bounds, bounds[1:])]


def chunk_title(chunk: str) -> str:
    return _HEADING.match(chunk)['title']


def merge(existing: str | None, found: list[Section], dist: str) -> ChangelogContext:
    """The file's new content: drafts on top, then every kept chunk, with missing releases inserted in order."""
    drafts = [s for s in found if s.draft]
    if existing is None:
        return ChangelogContext(dist, None, tuple(Part(section=s) for s in found))
    head, chunks = split(existing)
    titles = {s.title for s in drafts}
    kept = [c for c in chunks if DRAFT_MARK not in c and chunk_title(c) not in titles]
    have = {chunk_title(c) for c in kept}
    body: list[Part] = [Part(raw=c) for c in kept]
    for sec in (s for s in found if not s.draft and s.title not in have):
        at = next((i for i, p in enumerate(body) if p.raw is not None and _older(chunk_title(p.raw), sec.title)),
                  None)
        at = len(body) if at is None else at
        body.insert(at, Part(section=sec))
    parts = [*(Part(section=s) for s in drafts), *body]
    return ChangelogContext(dist, _separated(head, bool(parts)),
                            tuple(Part(raw=_separated(p.raw, i + 1 < len(parts))) if p.raw is not None else p
                                  for i, p in enumerate(parts)))


def _older(title: str, than: str) -> bool:
    try:
        return Version(title) < Version(than)
    except InvalidVersion:
        return False


def _separated(raw: str, followed: bool) -> str:
    """Kept text untouched, plus the blank line a following section needs when it has none."""
    if not followed or not raw or raw.endswith('\n\n'):
        return raw
    return raw + ('\n' if raw.endswith('\n') else '\n\n')


# --- rendering and writing ------------------------------------------------------------------------------------

def render_changelog(ctx: ChangelogContext) -> str:
    text = render('changelog.md.j2', {'ctx': ctx})
    if not ctx.parts or ctx.parts[-1].raw is None:
        text = text.rstrip('\n') + '\n'   # a generated end: exactly one newline
    return text


def update_changelog(ws: Workspace, repo, comp: Component, pattern: str, url: str | None) -> str:
    """The new text of `comp`'s CHANGELOG.md (it reads the current file for update mode)."""
    path = comp.root / CHANGELOG
    existing = None
    if path.is_file():
        with open(path, encoding='utf-8', newline='') as f:   # newline='': hand-written \r\n survive
            existing = f.read()
    found = sections(comp, component_history(ws, repo, comp, pattern), head_date(repo), pattern, url)
    return render_changelog(merge(existing, found, comp.dist))


# --- doit actions and tasks -----------------------------------------------------------------------------------

def write_changelog(name: str):
    """Action: update components/<name>/CHANGELOG.md; a bad repository or version prints one line and fails."""
    ws = workspace()
    comp = ws.components[name]
    try:
        text = update_changelog(ws, open_repo(ws.root), comp, tag_pattern(), repository_url())
    except PluginError as err:
        return failed(f'changelog:{name}: {err}')
    path = comp.root / CHANGELOG
    if not path.is_file() or path.read_bytes() != text.encode('utf-8'):
        replace_file(path, text)
    return True


@functools.cache
def history_inputs() -> dict:
    """The non-file inputs of every history-based task: HEAD, the tags and the settings that read them."""
    try:
        found = dict(state(open_repo(workspace().root)))
    except HistoryError as err:
        found = {'error': str(err)}
    return {**found, 'tag-pattern': tag_pattern(), 'repository-url': repository_url()}


def task_changelog():
    """write each component's CHANGELOG.md and reports/release-notes.md from the git history"""
    ws, cfg = workspace(), settings()
    template = TEMPLATES / 'changelog.md.j2'
    for name, comp in ws.components.items():
        yield {
            'name': name,
            'doc': f'update {(comp.root / CHANGELOG).relative_to(ws.root)} from the commits touching '
                   f'{", ".join(comp.paths)}',
            'actions': [(write_changelog, [name])],
            'file_dep': [str(template), str(comp.manifest)],
            'targets': [str(comp.root / CHANGELOG)],
            'uptodate': [lazy_config_changed(history_inputs)],
        }
    md, js = cfg.path(cfg.reports, 'release-notes.md'), cfg.path(cfg.reports, 'release-notes.json')
    yield {
        'name': 'release-notes',
        'doc': f'render {md.relative_to(ws.root)} (and .json): old and new version and highlights per component',
        'actions': [(write_release_notes, [str(md)])],
        'file_dep': [str(TEMPLATES / 'release-notes.md.j2'), *(str(c.manifest) for c in ws.components.values())],
        'targets': [str(md), str(js)],
        'uptodate': [lazy_config_changed(history_inputs)],
        'clean': True,
    }
