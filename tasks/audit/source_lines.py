"""Source lines split into code, comment and string text, for Cython and C: what the unsafe-code scanner reads.

Comments and string literals are separated from code so that a word in a docstring or a comment is never taken
for a site, and a `SAFETY:` comment is found wherever its marker puts it (`#`, `//`, `/* */` across lines).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    code: str       # the line with comments removed and string/char literals blanked
    comment: str    # the comment text on the line (without the markers)
    string: str     # the text of string literals on the line (docstrings)
    raw: str

    @property
    def blank(self) -> bool:
        return not self.code.strip() and not self.comment.strip() and not self.string.strip()

    @property
    def comment_only(self) -> bool:
        return not self.code.strip() and bool(self.comment.strip())

    @property
    def indent(self) -> int:
        return len(self.raw) - len(self.raw.lstrip())


def split_cython(text: str) -> list[Line]:
    """Per line: code without comments and with string contents blanked, the comment, the string text."""
    out, quote = [], None        # quote: the delimiter of a string left open by a previous line
    for raw in text.splitlines():
        code, comment, string, i = [], '', [], 0
        while i < len(raw):
            if quote:
                end = raw.find(quote, i)
                stop = len(raw) if end < 0 else end
                string.append(raw[i:stop])
                code.append(' ' * (stop - i))
                if end < 0:
                    break
                code.append(quote)
                i, quote = end + len(quote), None
                continue
            ch = raw[i]
            if ch == '#':
                comment = raw[i + 1:]
                break
            if ch in '\'"':
                quote = raw[i:i + 3] if raw[i:i + 3] in ('"""', "'''") else ch
                code.append(quote)
                i += len(quote)
                continue
            code.append(ch)
            i += 1
        if quote in ('"', "'"):
            quote = None        # an unterminated one-line string ends with its line
        out.append(Line(''.join(code), comment, ' '.join(string), raw))
    return out


def split_c(text: str) -> list[Line]:
    """Per line: code without comments and with literals blanked, and the comment text (// and /* */)."""
    out, in_block = [], False
    for raw in text.splitlines():
        code, comment, i = [], [], 0
        while i < len(raw):
            if in_block:
                end = raw.find('*/', i)
                comment.append(raw[i:] if end < 0 else raw[i:end])
                if end < 0:
                    break
                i, in_block = end + 2, False
                continue
            two = raw[i:i + 2]
            if two == '//':
                comment.append(raw[i + 2:])
                break
            if two == '/*':
                in_block, i = True, i + 2
                continue
            if raw[i] in '"\'':
                end = _literal_end(raw, i)
                code.append(raw[i] + ' ' * (end - i - 2) + raw[i])
                i = end
                continue
            code.append(raw[i])
            i += 1
        out.append(Line(''.join(code), ' '.join(comment), '', raw))
    return out


def _literal_end(raw: str, start: int) -> int:
    """Index just past the C string or char literal opening at `start` (escapes honoured)."""
    i, quote = start + 1, raw[start]
    while i < len(raw):
        if raw[i] == '\\':
            i += 2
            continue
        if raw[i] == quote:
            return i + 1
        i += 1
    return len(raw)
