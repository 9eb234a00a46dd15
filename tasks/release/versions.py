"""Version rules: the bump a set of commits calls for, the next version, sibling ranges, manifest edits.

SemVer with the 0.x rule: a breaking change bumps the major, except while the major is 0, where it bumps the
minor (0.x minors are the breaking releases); feat bumps the minor; fix, perf and security fixes bump the patch;
anything else (docs, refactors, tests, non-conventional messages) calls for no release by itself.

A component whose sibling ranges change must itself be re-released (its published metadata changes), so a bump
cascades a patch to every dependent that is at its released version: the fix-forward path.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import tomlkit
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tasks.core.errors import PluginError
from tasks.release.commits import Message

LEVELS = ('major', 'minor', 'patch')
# The release a commit calls for, by its Conventional Commit type (the changelog heading it is listed under is
# presentation and decides nothing here). A breaking commit is 'major' whatever its type; a security fix (type
# `security`, or any type with scope `security`) is at least a patch.
TYPE_LEVEL = {'feat': 'minor', 'fix': 'patch', 'perf': 'patch', 'security': 'patch'}


class VersionError(PluginError):
    """A version, level or manifest that the rules cannot work with; the message names what and the fix."""


def message_level(message: Message) -> str | None:
    """The level one commit calls for ('major', 'minor', 'patch'), or None: it needs no release by itself."""
    if message.breaking:
        return 'major'
    found = {TYPE_LEVEL.get(message.type or ''), 'patch' if message.scope == 'security' else None}
    return next((level for level in LEVELS if level in found), None)


def commit_level(messages: Iterable[Message]) -> str | None:
    """The strongest level the messages call for ('major', 'minor', 'patch'), or None: no release needed."""
    found = {message_level(m) for m in messages}
    return next((level for level in LEVELS if level in found), None)


def effective_level(level: str, version: str) -> str:
    """The 0.x rule: while the major is 0, a breaking change bumps the minor."""
    if level == 'major' and _parse(version).major == 0:
        return 'minor'
    return level


def next_version(version: str, level: str) -> str:
    """`version` bumped by `level` (lower parts reset); pre-release and local suffixes are dropped."""
    if level not in LEVELS:
        raise VersionError(f'bump level {level!r} is unknown; use one of {", ".join(LEVELS)}')
    major, minor, patch = (_parse(version).release + (0, 0))[:3]
    return {'major': f'{major + 1}.0.0', 'minor': f'{major}.{minor + 1}.0',
            'patch': f'{major}.{minor}.{patch + 1}'}[level]


def compatible_range(version: str) -> str:
    """The range a dependent declares on `version`: itself up to the next breaking release (`>=0.2.1,<0.3`)."""
    major, minor = (_parse(version).release + (0,))[:2]
    upper = f'{major + 1}' if major else f'0.{minor + 1}'
    return f'>={version},<{upper}'


def is_newer(version: str, than: str | None) -> bool:
    return than is None or _parse(version) > _parse(than)


def plan_bumps(order: Iterable[str], deps: Mapping[str, Iterable[str]], current: Mapping[str, str],
               released: Mapping[str, str | None], levels: Mapping[str, str | None]) -> dict[str, str]:
    """The new version of every component that must change, given a level per component (None: none).

    A level bumps from the last released version (the manifest's version when there is none yet), and only
    moves a version forward, so applying the same plan twice changes nothing. Then, in release order, every
    component with a bumped dependency is patch-bumped if its manifest version is the released one.
    """
    out: dict[str, str] = {}
    for name in order:
        base = released.get(name) or current[name]
        level = levels.get(name)
        target = next_version(base, effective_level(level, base)) if level else current[name]
        if level and is_newer(target, current[name]):
            out[name] = target
        elif any(d in out for d in deps[name]) and current[name] == released.get(name):
            out[name] = next_version(current[name], 'patch')
    return out


def update_manifest(text: str, version: str | None, siblings: Mapping[str, str]) -> str:
    """The manifest `text` with `[project] version` set (unless None) and, for each `dist -> version` in
    `siblings`, the dependency on `dist` set to its compatible range if the range does not already hold that
    exact lower bound. tomlkit keeps every comment and all formatting."""
    doc = tomlkit.parse(text)
    project = doc.get('project')
    if project is None:
        raise VersionError('manifest has no [project] table; add one with name, version and dependencies')
    if version is not None:
        project['version'] = version
    wanted = {canonicalize_name(d): v for d, v in siblings.items()}
    deps = project.get('dependencies', [])
    for i, entry in enumerate(list(deps)):
        req = Requirement(str(entry))
        key = canonicalize_name(req.name)
        if key in wanted and str(req.specifier) != str(Requirement(f'x{compatible_range(wanted[key])}').specifier):
            deps[i] = _with_specifier(str(entry), req, compatible_range(wanted[key]))
    return tomlkit.dumps(doc)


def _with_specifier(text: str, req: Requirement, spec: str) -> str:
    """The requirement as written (name spelling, extras, marker kept) with a new version specifier."""
    extras = f'[{",".join(sorted(req.extras))}]' if req.extras else ''
    name = text.strip()[:len(req.name)]
    marker = f'; {text.split(";", 1)[1].strip()}' if req.marker else ''
    return f'{name}{extras}{spec}{marker}'


def _parse(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        raise VersionError(f'version {version!r} is not a PEP 440 version; write e.g. 0.2.0') from None
