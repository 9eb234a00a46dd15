"""Which lines a `SAFETY:` comment covers: the review rules of the unsafe-code inventory (the docstring of
tasks/audit/unsafe_inventory.py states them), over source lines split by tasks/audit/source_lines.py."""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from tasks.audit.source_lines import Line

SAFETY = re.compile(r'SAFETY:\s*\S')


def reviewed_lines(lines: Sequence[Line], cython: bool) -> set[int]:
    """0-based indices of the lines a `SAFETY:` comment covers (see the module docstring)."""
    extent = _cython_extent if cython else _c_extent
    covered: set[int] = set()
    for start, siblings in _anchors(lines, cython):
        covered.update(range(start, extent(lines, start, siblings) + 1))
    return covered


def _anchors(lines: Sequence[Line], cython: bool) -> Iterable[tuple[int, bool]]:
    """(line, whether the paragraph's later statements are covered too) for each statement headed by a SAFETY
    comment: above it (covers the paragraph), on its own line or in its docstring (covers the statement)."""
    block: list[str] = []
    for i, ln in enumerate(lines):
        if ln.comment_only:
            block.append(ln.comment)
            continue
        if ln.code.strip() and SAFETY.search(' '.join(block)):
            yield i, True
        elif ln.code.strip() and SAFETY.search(ln.comment):
            yield i, False
        if cython and _docstring_has_safety(lines, i):
            yield _first_decorator(lines, i), False
        block = []


def _docstring_has_safety(lines: Sequence[Line], i: int) -> bool:
    if not re.match(r'\s*(?:async\s+)?(?:def|cdef|cpdef)\b.*:\s*$', lines[i].code):
        return False
    text = []
    for ln in lines[i + 1:]:
        if ln.code.strip().strip('\'"rRbBuU '):
            break
        text.append(ln.string)
    return bool(SAFETY.search(' '.join(text)))


def _first_decorator(lines: Sequence[Line], i: int) -> int:
    while i > 0 and lines[i - 1].code.lstrip().startswith('@'):
        i -= 1
    return i


def _cython_extent(lines: Sequence[Line], start: int, siblings: bool = True) -> int:
    """Last line of the statement at `start` with its indented body (decorators lead to their function), then,
    with `siblings`, of the simple statements that follow it in the same paragraph (no blank line between)."""
    base, end, head, gap = lines[start].indent, start, start, False
    for j in range(start + 1, len(lines)):
        ln = lines[j]
        if ln.blank:
            gap = True
        elif ln.indent > base or (ln.comment_only and not gap):
            end, gap = j, False
        elif ln.indent == base and not gap and _continues(lines[head].code, ln.code, siblings):
            end = head = j
        elif not ln.comment_only:
            break
    return end


_CLAUSE = re.compile(r'\s*(?:else|elif|except|finally)\b')


def _continues(previous: str, code: str, siblings: bool) -> bool:
    """Whether a line at the statement's own indentation still belongs to what the comment covers."""
    if previous.lstrip().startswith('@') or _CLAUSE.match(code):
        return True
    return siblings and not previous.rstrip().endswith(':')


def _c_extent(lines: Sequence[Line], start: int, siblings: bool = True) -> int:
    """Last line of the statement at `start` (its `;` or closing brace) then, with `siblings`, of the simple
    statements that follow it in the same paragraph; a braced block (a function, a loop) ends the run."""
    end = _c_statement_end(lines, start)
    while siblings and end + 1 < len(lines) and not lines[end].code.rstrip().endswith('}'):
        nxt = lines[end + 1]
        if nxt.blank or nxt.code.lstrip().startswith('}'):
            break
        end = end + 1 if nxt.comment_only else _c_statement_end(lines, end + 1)
    return end


def _c_statement_end(lines: Sequence[Line], start: int) -> int:
    if lines[start].code.lstrip().startswith('#'):
        j = start
        while lines[j].code.rstrip().endswith('\\') and j + 1 < len(lines):
            j += 1
        return j
    depth, opened = 0, False
    for j in range(start, len(lines)):
        for ch in lines[j].code:
            if ch in '({[':
                depth += 1
                opened = opened or ch == '{'
            elif ch in ')}]':
                depth -= 1
                if depth <= 0 and ch == '}' and opened:
                    return j
            elif ch == ';' and depth <= 0:
                return j
    return len(lines) - 1
