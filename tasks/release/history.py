"""The git history as the release tools see it (GitPython): release tags, and the commits of a component.

A release of component `<name>` is a tag named by the tag pattern (default `embeddenator-{name}-v{version}`)
whose version part is a PEP 440 version; its date is the tag's (annotated) or its commit's (lightweight).
A component's commits are the non-merge commits touching its paths (`Component.paths`, relative to the
workspace), its own CHANGELOG.md excluded so that regenerating the changelog is never itself a change.

`last_releases(ws, repo, tag_pattern())` answers "what did each component last release?" for the publish stage,
and `tag_name(tag_pattern(), name, version)` spells the tag it must create.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from packaging.version import InvalidVersion, Version

from tasks.core.errors import PluginError
from tasks.release.commits import Commit, parse_message
from tasks.core.config import settings
from tasks.core.workspace import Component, Workspace

if TYPE_CHECKING:   # GitPython is imported where the history is read, not when doit loads the task graph
    import git

DEFAULT_TAG_PATTERN = 'embeddenator-{name}-v{version}'
CHANGELOG = 'CHANGELOG.md'


def tag_pattern() -> str:
    """`[embeddenator] tag-pattern` of setup.cfg, with `{name}` and `{version}`."""
    return settings().get('tag-pattern', DEFAULT_TAG_PATTERN)


def repository_url() -> str | None:
    """`[embeddenator] repository-url`: where commit links point, if set."""
    url = settings().get('repository-url')
    return url.rstrip('/') if url else None


class HistoryError(PluginError):
    """The git repository or the tag pattern cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True)
class Release:
    version: str
    tag: str          # the tag's name, e.g. embeddenator-vsa-v0.2.0
    sha: str          # the released commit
    date: str         # ISO `YYYY-MM-DD`: the annotated tag's date, else the commit's


def open_repo(root: Path | str) -> git.Repo:
    """The repository holding `root`; HistoryError if there is none or it has no commit yet."""
    import git
    try:
        repo = git.Repo(root, search_parent_directories=True)
        repo.head.commit
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise HistoryError(f'{root}: not inside a git repository; changelogs are made from the history '
                           f'(run `git init` and commit)') from None
    except ValueError:
        raise HistoryError(f'{root}: the git repository has no commit yet; commit first') from None
    return repo


def tag_name(pattern: str, name: str, version: str) -> str:
    """The release tag of `name` at `version`."""
    _check_pattern(pattern)
    return pattern.format(name=name, version=version)


def tag_version(pattern: str, name: str, tag: str) -> str | None:
    """The version a tag of `name` stands for, or None when the tag is not one of its releases."""
    _check_pattern(pattern)
    head, tail = pattern.split('{version}')
    regex = re.escape(head.format(name=name)) + r'(?P<version>.+)' + re.escape(tail.format(name=name))
    match = re.fullmatch(regex, tag)
    if not match:
        return None
    try:
        Version(match['version'])
    except InvalidVersion:
        return None
    return match['version']


def _check_pattern(pattern: str):
    try:
        pattern.format(name='n', version='1')
        usable = pattern.count('{version}') == 1 and '{name}' in pattern
    except (KeyError, IndexError, ValueError):
        usable = False
    if not usable:
        raise HistoryError(f'setup.cfg: [embeddenator] tag-pattern {pattern!r} must contain {{name}} and '
                           f'{{version}} once, e.g. {DEFAULT_TAG_PATTERN}')


def releases(repo: git.Repo, name: str, pattern: str = DEFAULT_TAG_PATTERN) -> list[Release]:
    """Every release of component `name`, oldest version first."""
    found = []
    for ref in repo.tags:
        version = tag_version(pattern, name, ref.name)
        if version is not None:
            found.append(Release(version=version, tag=ref.name, sha=ref.commit.hexsha, date=_tag_date(ref)))
    return sorted(found, key=lambda r: Version(r.version))


def last_releases(ws: Workspace, repo: git.Repo, pattern: str = DEFAULT_TAG_PATTERN) -> dict[str, Release | None]:
    """Each component's newest release (by version), None for one never released."""
    return {name: (releases(repo, name, pattern) or [None])[-1] for name in ws.components}


def _tag_date(ref: git.TagReference) -> str:
    from git.objects.util import from_timestamp
    if ref.tag is not None:   # annotated: when it was tagged, in the tagger's time zone
        return from_timestamp(ref.tag.tagged_date, ref.tag.tagger_tz_offset).date().isoformat()
    return ref.commit.committed_datetime.date().isoformat()


def head_date(repo: git.Repo) -> str:
    return repo.head.commit.committed_datetime.date().isoformat()


def pathspecs(ws: Workspace, repo: git.Repo, comp: Component, exclude: Iterable[Path] = ()) -> list[str]:
    """`comp`'s paths as git pathspecs relative to the repository's top, with `exclude` left out."""
    top = Path(repo.working_tree_dir).resolve()
    specs = [(ws.root / p).resolve().relative_to(top).as_posix() for p in comp.paths]
    specs += [f':(exclude){Path(p).resolve().relative_to(top).as_posix()}' for p in exclude]
    return specs


def commits(repo: git.Repo, paths: list[str], since: str | None, until: str = 'HEAD') -> list[Commit]:
    """Non-merge commits after `since` (a commit, exclusive; None: from the start) up to `until` that touch
    `paths`, newest first. `--full-history` keeps commits that a merge made redundant for the final tree."""
    rev = f'{since}..{until}' if since else until
    return [Commit(sha=c.hexsha, date=c.committed_datetime.date().isoformat(), message=parse_message(c.message))
            for c in repo.iter_commits(rev, paths=paths, no_merges=True, full_history=True)]


@dataclass(frozen=True)
class ComponentHistory:
    released: tuple[tuple[Release, tuple[Commit, ...]], ...]   # each release with its commits, oldest first
    pending: tuple[Commit, ...]                                 # after the last release, newest first

    @property
    def last(self) -> Release | None:
        return self.released[-1][0] if self.released else None


def component_history(ws: Workspace, repo: git.Repo, comp: Component,
                      pattern: str = DEFAULT_TAG_PATTERN) -> ComponentHistory:
    """`comp`'s releases with the commits each brought (since the previous one), and what came after."""
    paths = pathspecs(ws, repo, comp, exclude=[comp.root / CHANGELOG])
    out, previous = [], None
    for rel in releases(repo, comp.name, pattern):
        out.append((rel, tuple(commits(repo, paths, previous, rel.sha))))
        previous = rel.sha
    return ComponentHistory(released=tuple(out), pending=tuple(commits(repo, paths, previous)))


def state(repo: git.Repo) -> Mapping[str, object]:
    """What the history-based tasks depend on: HEAD and every tag (a re-tag changes the tag's object)."""
    tags = repo.git.for_each_ref('refs/tags', format='%(refname) %(objectname)').splitlines()
    return {'head': repo.head.commit.hexsha, 'tags': sorted(tags)}
