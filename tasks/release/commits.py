"""Conventional Commits: parse a commit message and say which changelog section it belongs to.

Pure: strings in, frozen values out. The grouping is one ordered table of pattern -> section (first match wins)
ending in a catch-all, so a commit that is not conventional lands under "Other" instead of being dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

# `type(scope)!: subject`; the type is case-insensitive (the spec says so), the scope optional.
_HEADER = re.compile(r'^(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?: +(?P<subject>\S.*)$')
# A footer is `Token: value` or `Token #value`; `BREAKING CHANGE` is the one token with a space.
_FOOTER = re.compile(r'^(?P<token>BREAKING[ -]CHANGE|[\w-]+)(?::[ \t]+|[ \t]+#)(?P<value>.*)$')
_BREAKING = {'BREAKING CHANGE', 'BREAKING-CHANGE'}

BREAKING = 'Breaking changes'
OTHER = 'Other'

# Ordered: the first pattern that matches `type(scope): subject` (lower-cased type) wins. Types are matched with
# the `(` or `:` that follows them, so a message that merely starts with a type word ("fix typo") is not one. A
# section of None leaves the commit out on purpose; a breaking commit always goes to BREAKING, whatever its type.
SECTIONS: tuple[tuple[re.Pattern, str | None], ...] = tuple((re.compile(p), s) for p, s in (
    # security first, whatever the verb: users must not miss it
    (r'^security[(:]|^[\w-]+\(security\):', 'Security'),
    (r'^feat[(:]', 'Added'),
    (r'^fix[(:]', 'Fixed'),
    (r'^perf[(:]', 'Performance'),
    # deprecations and removals: their own types, or a refactor that says so in its first word
    (r'^deprecate[(:]|^refactor[^:]*: +deprecate', 'Deprecated'),
    (r'^remove[(:]|^refactor[^:]*: +(remove|drop)\b', 'Removed'),
    # the rest a user of the package can notice (git's own revert message included)
    (r'^(refactor|docs|build|revert)[(:]|^Revert "', 'Changed'),
    # internal work with no effect on the published package
    (r'^(test|tests|ci|chore|style)[(:]', None),
    # catch-all: unknown types and messages that are not conventional at all
    (r'', OTHER),
))

#: Sections in the order a changelog shows them.
ORDER = (BREAKING, 'Added', 'Fixed', 'Performance', 'Security', 'Changed', 'Deprecated', 'Removed', OTHER)


@dataclass(frozen=True)
class Message:
    """A parsed commit message; `type` is None when the header is not conventional."""
    type: str | None
    scope: str | None
    subject: str
    body: str = ''
    breaking: bool = False
    breaking_note: str = ''      # the text of a `BREAKING CHANGE:` footer, if any

    @property
    def key(self) -> str:
        """What the SECTIONS patterns match: `type(scope): subject`, or the bare header."""
        if self.type is None:
            return self.subject
        return f'{self.type}{f"({self.scope})" if self.scope else ""}: {self.subject}'


@dataclass(frozen=True)
class Commit:
    """A commit as the changelog needs it: identity, date and parsed message."""
    sha: str
    date: str                    # committer date, ISO `YYYY-MM-DD`
    message: Message

    @property
    def short(self) -> str:
        return self.sha[:7]


def parse_message(text: str) -> Message:
    """Parse `text` as a Conventional Commit; anything else keeps its first line as the subject."""
    lines = text.strip('\n').replace('\r\n', '\n').split('\n')
    header, rest = lines[0].strip(), lines[1:]
    body, note = _body_and_breaking_note(rest)
    match = _HEADER.match(header)
    if not match:
        return Message(type=None, scope=None, subject=header, body=body, breaking=bool(note), breaking_note=note)
    scope = (match['scope'] or '').strip() or None
    return Message(type=match['type'].lower(), scope=scope, subject=match['subject'].strip(), body=body,
                   breaking=bool(match['bang'] or note), breaking_note=note)


def _body_and_breaking_note(lines: list[str]) -> tuple[str, str]:
    """Split the lines after the header into the body and a `BREAKING CHANGE:` footer's text (with its
    continuation lines, which run until the next footer or a blank line)."""
    body, note, in_note = [], [], False
    for line in lines:
        footer = _FOOTER.match(line)
        if footer and footer['token'] in _BREAKING:
            in_note = True
            note.append(footer['value'].strip())
        elif in_note and line.strip() and not footer:
            note.append(line.strip())
        else:
            in_note = False
            body.append(line)
    return '\n'.join(body).strip('\n'), ' '.join(n for n in note if n)


def section(message: Message) -> str | None:
    """The changelog section of a message (None: deliberately not listed)."""
    if message.breaking:
        return BREAKING
    return next(name for pattern, name in SECTIONS if pattern.search(message.key))


@dataclass(frozen=True)
class Entry:
    """One changelog line: `text` is the Markdown the templates print (`**scope:** subject (sha)`)."""
    text: str
    subject: str
    scope: str | None
    sha: str
    note: str = ''               # a breaking change's footer text


def entry(commit: Commit, component: str, url: str | None) -> Entry:
    """A scope naming the component itself says nothing in its own changelog; the SHA links when `url` is set."""
    msg = commit.message
    scope = msg.scope if msg.scope != component else None
    ref = f'[{commit.short}]({url}/commit/{commit.sha})' if url else commit.short
    return Entry(text=f'{f"**{scope}:** " if scope else ""}{msg.subject} ({ref})', subject=msg.subject, scope=scope,
                 sha=commit.sha, note=msg.breaking_note)


def entries(commits: Iterable[Commit], component: str, url: str | None) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
    """(section, entries) pairs in ORDER, for a changelog or release notes."""
    return tuple((name, tuple(entry(c, component, url) for c in found)) for name, found in group(commits).items())


def group(commits: Iterable[Commit]) -> dict[str, list[Commit]]:
    """Commits by section, sections in ORDER, empty ones left out; commits keep their given order."""
    found: dict[str, list[Commit]] = {}
    for commit in commits:
        name = section(commit.message)
        if name is not None:
            found.setdefault(name, []).append(commit)
    return {name: found[name] for name in ORDER if name in found}
