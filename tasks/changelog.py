"""`changelog:<component>` and `changelog:release-notes`: Keep a Changelog files from the git history.

Which commits go where (one rule, the same for every component):
- a tagged release (`embeddenator-<name>-v<version>`, see tasks/history.py) gets the commits after the previous
  release up to its tag, dated with the tag;
- the commits after the last release (all of them before the first) go under the manifest's version when that
  version has no tag yet (the release being prepared: `## [0.2.0] - <date>`), and under `## [Unreleased]` when
  the manifest still names the last release; either section is dated by HEAD's commit (none for Unreleased), so
  re-running on the same HEAD and tags gives the same bytes.

Update mode: those two sections are drafts, marked by an HTML comment and rewritten on every run until their
tag exists. A released version's section is written once; after that it is kept byte for byte, like the file's
top and any hand-written text, and a newly tagged release is inserted above the older ones. CHANGELOG.md is
committed (not a doit `clean` target): it is the record, and the package ships it.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jinja2
from doit.tools import config_changed
from packaging.version import InvalidVersion, Version

from tasks.commits import BREAKING, Commit, group
from tasks.config import settings, workspace
from tasks.history import (DEFAULT_TAG_PATTERN, HistoryError, Release, commits, head_date, last_releases,  # noqa: F401
                           open_repo, pathspecs, releases, state, tag_name)
from tasks.versions import VersionError, commit_level, effective_level, is_newer, next_version
from tasks.workspace import Component, Workspace

TEMPLATES = Path(__file__).resolve().parent.parent / 'templates'
CHANGELOG = 'CHANGELOG.md'
UNRELEASED = 'Unreleased'
DRAFT_MARK = '<!-- draft:'
HIGHLIGHTS = (BREAKING, 'Added', 'Fixed', 'Performance', 'Security')
_HEADING = re.compile(r'^## +\[?(?P<title>[^\]\s]+)\]?')
_FENCE = re.compile(r'^\s*(```|~~~)')


def tag_pattern() -> str:
    return settings().get('tag-pattern', DEFAULT_TAG_PATTERN)


def repository_url() -> str | None:
    url = settings().get('repository-url')
    return url.rstrip('/') if url else None


# --- what the history says -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComponentHistory:
    released: tuple[tuple[Release, tuple[Commit, ...]], ...]   # oldest release first
    pending: tuple[Commit, ...]                                 # after the last release, newest first

    @property
    def last(self) -> Release | None:
        return self.released[-1][0] if self.released else None


def component_history(ws: Workspace, repo, comp: Component, pattern: str) -> ComponentHistory:
    paths = pathspecs(ws, repo, comp, exclude=[comp.root / CHANGELOG])
    out, previous = [], None
    for rel in releases(repo, comp.name, pattern):
        out.append((rel, tuple(commits(repo, paths, previous, rel.sha))))
        previous = rel.sha
    return ComponentHistory(released=tuple(out), pending=tuple(commits(repo, paths, previous)))


# --- sections and update mode (pure) --------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    subject: str
    scope: str | None
    short: str
    url: str | None
    note: str = ''


@dataclass(frozen=True)
class Section:
    title: str                  # a version, or UNRELEASED
    date: str | None
    draft: bool
    tag: str                    # the tag that marks (or will mark) it; '' for UNRELEASED
    groups: tuple[tuple[str, tuple[Entry, ...]], ...] = ()


def entries(comp_name: str, found: tuple[Commit, ...], url: str | None) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
    """Commits grouped by section; a scope naming the component itself says nothing in its changelog."""
    return tuple((name, tuple(Entry(subject=c.message.subject,
                                    scope=c.message.scope if c.message.scope != comp_name else None,
                                    short=c.short, url=f'{url}/commit/{c.sha}' if url else None,
                                    note=c.message.breaking_note) for c in items))
                 for name, items in group(found).items())


def sections(comp: Component, history: ComponentHistory, head: str, pattern: str, url: str | None) -> list[Section]:
    """Every section the history calls for, newest first: the draft (if any), then each release."""
    out = []
    last = history.last
    if last is None or is_newer(comp.version, last.version):
        out.append(Section(comp.version, head, True, tag_name(pattern, comp.name, comp.version),
                           entries(comp.name, history.pending, url)))
    elif history.pending and group(history.pending):
        out.append(Section(UNRELEASED, None, True, '', entries(comp.name, history.pending, url)))
    for rel, found in reversed(history.released):
        out.append(Section(rel.version, rel.date, False, rel.tag, entries(comp.name, found, url)))
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

def entry_line(e: Entry) -> str:
    """Filter `entry`: `**scope:** subject (sha)`, the SHA a link when the repository URL is configured."""
    scope = f'**{e.scope}:** ' if e.scope else ''
    return f'{scope}{e.subject} ({f"[{e.short}]({e.url})" if e.url else e.short})'


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters['entry'] = entry_line
    return env


def render_changelog(ctx: ChangelogContext) -> str:
    text = environment().get_template('changelog.md.j2').render(ctx=ctx)
    if not ctx.parts or ctx.parts[-1].raw is None:
        text = text.rstrip('\n') + '\n'   # a generated end: exactly one newline
    return text


def write_atomic(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.partial')
    with os.fdopen(fd, 'w', encoding='utf-8', newline='') as out:
        out.write(text)
    os.replace(tmp, path)


def update_changelog(ws: Workspace, repo, comp: Component, pattern: str, url: str | None) -> str:
    """The new text of `comp`'s CHANGELOG.md (it reads the current file for update mode)."""
    path = comp.root / CHANGELOG
    existing = None
    if path.is_file():
        with open(path, encoding='utf-8', newline='') as f:   # newline='': hand-written \r\n survive
            existing = f.read()
    found = sections(comp, component_history(ws, repo, comp, pattern), head_date(repo), pattern, url)
    return render_changelog(merge(existing, found, comp.dist))


# --- release notes --------------------------------------------------------------------------------------------

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
    rows: tuple[NotesRow, ...] = field(default_factory=tuple)


def notes_row(comp: Component, history: ComponentHistory, url: str | None) -> NotesRow:
    """Old and new version of one component, what its commits call for, and whether the manifest agrees."""
    old = history.last.version if history.last else None
    level = commit_level(c.message for c in history.pending)
    found = tuple(g for g in entries(comp.name, history.pending, url) if g[0] in HIGHLIGHTS)
    row = dict(name=comp.name, dist=comp.dist, old=old, level=level, highlights=found)
    if old is None:
        return NotesRow(new=comp.version, status='first release', **{**row, 'level': None})
    needed = next_version(old, effective_level(level, old)) if level else None
    if is_newer(comp.version, old):
        problem = (f'{comp.manifest.name} of {comp.name}: [project] version {comp.version} is below the {level} '
                   f'bump its commits call for ({needed}); run `doit bump`'
                   if needed and is_newer(needed, comp.version) else '')
        return NotesRow(new=comp.version, status='to release', problem=problem, **row)
    if comp.version == old:
        return NotesRow(new=needed, status='suggested: run `doit bump`' if needed else 'unchanged', **row)
    return NotesRow(new=None, status='behind', problem=(
        f'{comp.manifest.name} of {comp.name}: [project] version {comp.version} is lower than its last release '
        f'{old}; set it to {old} or later'), **row)


def release_notes(rows: list[NotesRow], head: str, date: str) -> ReleaseNotes:
    problems = [r for r in rows if r.problem]
    moving = [f'{r.name} {r.old} -> {r.new}' if r.old else f'{r.name} {r.new} (first release)'
              for r in rows if r.new and r.new != r.old]
    summary = (f'{len(problems)} manifest version(s) disagree with the history: '
               + '; '.join(r.problem for r in problems)) if problems else (
        f'{len(moving)} of {len(rows)} components to release: {", ".join(moving) or "none"}')
    return ReleaseNotes(head=head[:7], date=date, verdict='fail' if problems else 'pass', summary=summary,
                        rows=tuple(rows))


# --- doit actions and tasks -----------------------------------------------------------------------------------

def write_changelog(name: str):
    """Action: update components/<name>/CHANGELOG.md; a bad repository or version prints one line and fails."""
    ws = workspace()
    comp = ws.components[name]
    try:
        text = update_changelog(ws, open_repo(ws.root), comp, tag_pattern(), repository_url())
    except (HistoryError, VersionError) as err:
        print(f'changelog:{name}: {err}', file=sys.stderr)
        return False
    write_atomic(comp.root / CHANGELOG, text)
    return True


def write_release_notes(md: str, js: str):
    """Action: render reports/release-notes.md and its JSON twin for the whole workspace."""
    ws, pattern, url = workspace(), tag_pattern(), repository_url()
    try:
        repo = open_repo(ws.root)
        rows = [notes_row(c, component_history(ws, repo, c, pattern), url) for c in ws.components.values()]
        notes = release_notes(rows, repo.head.commit.hexsha, head_date(repo))
    except (HistoryError, VersionError) as err:
        print(f'changelog:release-notes: {err}', file=sys.stderr)
        return False
    write_atomic(Path(md), environment().get_template('release-notes.md.j2').render(notes=notes))
    write_atomic(Path(js), json.dumps(asdict(notes), indent=2, ensure_ascii=False) + '\n')
    print(f'release notes: {notes.summary}', file=sys.stderr)
    return True


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
    inputs = history_inputs()
    template = TEMPLATES / 'changelog.md.j2'
    for name, comp in ws.components.items():
        yield {
            'name': name,
            'doc': f'update {(comp.root / CHANGELOG).relative_to(ws.root)} from the commits touching '
                   f'{", ".join(comp.paths)}',
            'actions': [(write_changelog, [name])],
            'file_dep': [str(template), str(comp.manifest)],
            'targets': [str(comp.root / CHANGELOG)],
            'uptodate': [config_changed(inputs)],
        }
    md, js = cfg.path(cfg.reports, 'release-notes.md'), cfg.path(cfg.reports, 'release-notes.json')
    yield {
        'name': 'release-notes',
        'doc': f'render {md.relative_to(ws.root)} (and .json): old and new version and highlights per component',
        'actions': [(write_release_notes, [str(md), str(js)])],
        'file_dep': [str(TEMPLATES / 'release-notes.md.j2'), *(str(c.manifest) for c in ws.components.values())],
        'targets': [str(md), str(js)],
        'uptodate': [config_changed(inputs)],
        'clean': True,
    }
