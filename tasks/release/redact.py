"""One redaction step for everything publishing prints or writes: messages, log lines and report fields.

`redact` is pure: it removes the userinfo of every URL (`https://user:pw@host/` -> `https://***@host/`), every
secret value it is given (also in its percent-encoded spelling, as it would appear inside a URL), and terminal
colour codes. `scrub` applies it with the secrets this process has met (`remember`, called where a credential is
read), so a code path that forgets to pass a secret along still cannot leak one.
"""
from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import quote

MASK = '***'
#: CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks) a terminal-aware tool may emit.
_ANSI = re.compile(r'\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]')
#: scheme://userinfo@ : userinfo is everything up to the last '@' before the host, without '/', spaces or quotes.
_USERINFO = re.compile(r'(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@\'"<>]+@')

_KNOWN: set[str] = set()


def strip_ansi(text: str) -> str:
    """`text` without terminal colour and control sequences (twine and pip colour their output on a terminal)."""
    return _ANSI.sub('', text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with URL userinfo, each secret (plain and percent-encoded) and colour codes removed."""
    text = _USERINFO.sub(lambda m: m['scheme'] + MASK + '@', strip_ansi(str(text)))
    spellings = {s for secret in secrets if secret for s in (secret, quote(secret, safe=''))}
    for value in sorted(spellings, key=len, reverse=True):   # a secret containing another is replaced whole
        text = text.replace(value, MASK)
    return text


def redact_data(data, secrets: Iterable[str] = ()):
    """`data` (JSON-like: dicts, lists, strings) with every string redacted."""
    secrets = tuple(secrets)
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, dict):
        return {key: redact_data(value, secrets) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(value, secrets) for value in data]
    return data


def remember(*secrets: str) -> None:
    """Register credentials read by this process: `scrub` removes them from then on."""
    _KNOWN.update(s for s in secrets if s)


def scrub(text: str) -> str:
    """`redact` with every remembered secret."""
    return redact(text, _KNOWN)


def scrub_data(data):
    """`redact_data` with every remembered secret."""
    return redact_data(data, _KNOWN)


def forget() -> None:
    """Drop every remembered secret: a process that runs several publishes (a test session) starts each afresh."""
    _KNOWN.clear()
