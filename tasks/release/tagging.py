"""The git side of a release, through GitPython: clean tree, tagger identity, annotated release tags.

A machine with no git identity (a fresh CI runner) uses `[embeddenator] tag-identity` from setup.cfg for the tag
command only; without either, publishing stops before any upload with the commands that set one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tasks.core.errors import PluginError

_IDENTITY = re.compile(r'^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$')


class TagError(PluginError):
    """The git state forbids a release step; the message says what to run."""


@dataclass(frozen=True)
class Identity:
    name: str
    email: str
    configured: bool    # True: git's own; False: the setup.cfg fallback, set only for the tag command


def _repo(root: Path):
    """The repository at `root` (GitPython is imported here, not when doit loads the task graph)."""
    import git
    return git.Repo(root)


def dirty_paths(root: Path) -> list[str]:
    """Tracked changes and untracked, not ignored, files: what a release built from HEAD would not contain.

    `-z` gives each path verbatim (no quoting of spaces or non-ASCII names) and a rename's source as the next
    NUL-separated field, which is skipped: the path that matters is the one in the work tree.
    """
    fields = _repo(root).git.status('--porcelain', '-z', '--untracked-files=all').split('\0')
    paths, at = [], 0
    while at < len(fields):
        entry, at = fields[at], at + 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in 'RC' or entry[1] in 'RC':
            at += 1
    return paths


def tagger_identity(root: Path, fallback: str | None) -> Identity:
    """git's configured identity, else the fallback `Name <email>`; TagError says how to set one."""
    repo = _repo(root)
    reader = repo.config_reader()
    name = reader.get_value('user', 'name', default='')
    email = reader.get_value('user', 'email', default='')
    if name and email:
        return Identity(str(name), str(email), True)
    match = _IDENTITY.match(fallback or '')
    if match:
        return Identity(match['name'], match['email'], False)
    raise TagError('git has no identity to sign the release tags with: run `git config user.name "Your Name"` and '
                   '`git config user.email you@example.org`, or set tag-identity = Name <email> in setup.cfg '
                   '[embeddenator]')


def tag_exists(root: Path, name: str) -> bool:
    return name in {t.name for t in _repo(root).tags}


def create_tag(root: Path, name: str, message: str, identity: Identity) -> str:
    """An annotated tag on HEAD; returns the commit SHA it points to."""
    repo = _repo(root)
    env = {} if identity.configured else {
        'GIT_COMMITTER_NAME': identity.name, 'GIT_COMMITTER_EMAIL': identity.email,
        'GIT_AUTHOR_NAME': identity.name, 'GIT_AUTHOR_EMAIL': identity.email}
    with repo.git.custom_environment(**env):
        ref = repo.create_tag(name, ref='HEAD', message=message)
    return ref.commit.hexsha


def head_commit(root: Path) -> str:
    return _repo(root).head.commit.hexsha


def last_change_time(root: Path, paths: list[str], exclude: list[str] = ()) -> int:
    """Commit time (epoch s) of the last commit touching `paths` but not only `exclude`; HEAD's if none does.

    It is the archives' timestamp, so it must not move when only a file outside them changes (the CHANGELOG,
    whose release section loses its draft mark once the tag exists).
    """
    repo = _repo(root)
    specs = [*paths, *(f':(exclude){p}' for p in exclude)]
    out = repo.git.log('-1', '--format=%ct', '--', *specs) if paths else ''
    return int(out.strip() or repo.head.commit.committed_date)
