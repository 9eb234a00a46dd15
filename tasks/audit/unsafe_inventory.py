"""The unsafe-code inventory: every place in the kernels that bypasses Python's safety, and whether it is reviewed.

Pure functions over source text, so the rules are unit-tested on small strings. A *site* is one source line with
one or more kinds of unsafety:

- Cython (.pyx, .pxd, .pxi): `directive` (boundscheck(False), wraparound(False), initializedcheck(False),
  cdivision(True), as decorator, `with` block or `# cython:` header), `pointer` (pointer declarations),
  `pointer-arith` (indexing or arithmetic on a declared pointer), `cast` (`<T *>`), `buffer-address`
  (`&buf[i]`: a buffer turned into a raw pointer), `nogil` (`with nogil:` and `nogil` functions), `prange`,
  `extern` (each declaration of a `cdef extern` block).
- C (.h, .c): `intrinsic` (`_mm*` calls), `unaligned` (loadu/storeu/lddqu intrinsics, memcpy/memmove),
  `inline-asm`, `cast` (`(T *)`), `pointer`, `pointer-arith`.
- Manifests: each unsafe entry of `[tool.embeddenator.cython-directives]` is one module-wide `directive` site,
  reviewed when a comment in the manifest documents it (above the table or the key, or on the key's line).

A site is reviewed when a `SAFETY:` comment (followed by text) is on its line, or heads the statement that
contains it: directly above it, above the enclosing block or function (including its decorators), in a
function's docstring, or above an earlier statement of the same paragraph (no blank line between).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from tasks.audit.safety_review import SAFETY, reviewed_lines
from tasks.audit.source_lines import Line, split_c, split_cython

CYTHON_SUFFIXES = {'.pyx', '.pxd', '.pxi'}
C_SUFFIXES = {'.h', '.c', '.hpp', '.cpp', '.cc'}
# Directive values that switch a check off (cdivision(True) drops the ZeroDivisionError check).
UNSAFE_DIRECTIVES = {'boundscheck': False, 'wraparound': False, 'initializedcheck': False, 'cdivision': True}


@dataclass(frozen=True)
class Site:
    file: str
    line: int                   # 1-based
    kinds: tuple[str, ...]
    reviewed: bool
    code: str                   # the source line, stripped, for the report

    @property
    def where(self) -> str:
        return f'{self.file}:{self.line}'


@dataclass(frozen=True)
class FileInventory:
    file: str
    sites: tuple[Site, ...]
    invariants: tuple[str, ...] = ()     # the text of each SAFETY: comment, in file order

    @property
    def reviewed(self) -> int:
        return sum(s.reviewed for s in self.sites)

    @property
    def findings(self) -> list[Site]:
        return [s for s in self.sites if not s.reviewed]

    @property
    def notes(self) -> str:
        """Site kinds with their counts, most frequent first (ties alphabetical)."""
        counts = Counter(k for s in self.sites for k in s.kinds)
        return ', '.join(f'{k} {n}' for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# ------------------------------------------------------------------------------------------ site detection

_TYPE = r'(?:const\s+)?(?:struct\s+)?(?:unsigned\s+|signed\s+)?(?:void|char|short|int|long|float|double|bint|' \
        r'size_t|Py_ssize_t|\w+_t|__m\d+\w*)'
_PY_DIRECTIVE = re.compile(r'\b(?:boundscheck|wraparound|initializedcheck)\s*\(\s*False\s*\)'
                           r'|\bcdivision\s*\(\s*True\s*\)')
_HEADER = re.compile(r'^\s*cython\s*:(.*)$')
_PY_POINTER_DECL = re.compile(r'\b(?:cdef|ctypedef)\s+(?:(?:public|readonly|inline|extern|static)\s+)*'
                              r'(?:const\s+)?[A-Za-z_][\w.]*(?:\s+[A-Za-z_][\w.]*)?\s*\*+\s*'
                              r'(?:const\s+)?([A-Za-z_]\w*)')
_PY_POINTER_PARAM = re.compile(r'[(,]\s*(?:const\s+)?[A-Za-z_][\w.]*(?:\s+[A-Za-z_][\w.]*)?\s*\*+\s*(?:const\s+)?'
                               r'([A-Za-z_]\w*)')
_PY_CAST = re.compile(r'<[^<>=]*\*\s*>')
_PY_ADDRESS = re.compile(r'(?:^|[(,=:\[]|\breturn\b)\s*&\s*[A-Za-z_][\w.]*')
_PY_NOGIL = re.compile(r'\bwith\s+nogil\b|\bnogil\s*:\s*$|\bnogil\s*$')
_PY_PRANGE = re.compile(r'\bprange\s*\(')
_PY_EXTERN = re.compile(r'^\s*cdef\s+extern\b')
_C_INTRINSIC = re.compile(r'\b_mm\d*_\w+\s*\(|\b__builtin_ia32_\w+\s*\(')
_C_UNALIGNED = re.compile(r'\b_mm\d*_\w*(?:loadu|storeu|lddqu)\w*\s*\(|\b(?:memcpy|memmove)\s*\(')
_C_ASM = re.compile(r'\b(?:__asm__|__asm|asm)\b(?:\s+(?:volatile|__volatile__))?\s*\(')
_C_CAST = re.compile(r'\(\s*' + _TYPE + r'(?:\s+const)?\s*\*+\s*\)')
_C_POINTER = re.compile(r'\b' + _TYPE + r'(?:\s+const)?\s*\*+\s*(?:const\s+|restrict\s+|__restrict\s+)*'
                        r'([A-Za-z_]\w*)\s*(?=[,)=;\[])')


def _pointer_use(names: Iterable[str]) -> re.Pattern | None:
    """Indexing or arithmetic on one of the declared pointer `names`."""
    names = sorted(set(names))
    if not names:
        return None
    return re.compile(r'\b(?:' + '|'.join(map(re.escape, names)) + r')\s*(?:\[|\+\+|--|[-+]=?(?!>))')


def _scoped_uses(declared: Sequence[list[str]], scopes: Sequence[int | None]) -> list[re.Pattern | None]:
    """Per line, the pattern of uses of the pointers visible there: its function's and the file's globals."""
    names: dict[int | None, set[str]] = {}
    for found, scope in zip(declared, scopes):
        names.setdefault(scope, set()).update(found)
    patterns = {scope: _pointer_use(names.get(scope, set()) | names.get(None, set())) for scope in set(scopes)}
    return [patterns[scope] for scope in scopes]


# A function or a class: pointers declared in one are not those of another (class attributes are reached
# through `self.`, which the pointer-use pattern does not follow).
_SCOPE = re.compile(r'\s*(?:(?:async\s+)?(?:def|cdef|cpdef)\b[^=]*\(|(?:cdef\s+)?class\b)')


def cython_scopes(lines: Sequence[Line]) -> list[int | None]:
    """Per line, the index of the innermost enclosing function or class header (its own line included)."""
    stack: list[tuple[int, int]] = []       # (indent, header line)
    out: list[int | None] = []
    for i, ln in enumerate(lines):
        if ln.code.strip():
            while stack and ln.indent <= stack[-1][0]:
                stack.pop()
            if _SCOPE.match(ln.code) and ln.code.rstrip().endswith(':'):
                stack.append((ln.indent, i))
        out.append(stack[-1][1] if stack else None)
    return out


def c_scopes(codes: Sequence[str]) -> list[int | None]:
    """Per line, an id of the top-level braced block (a function) it belongs to, its header lines included."""
    out: list[int | None] = []
    depth, current, pending = 0, None, []
    for i, code in enumerate(codes):
        if depth == 0:
            current = None
            pending.append(i)
            if '{' in code:
                current = i
                for j in pending:
                    out[j:j + 1] = [i] if j < len(out) else []
                pending = []
            elif code.rstrip().endswith((';', '}')) or code.lstrip().startswith('#') or not code.strip():
                pending = []
        out.append(current)
        depth = max(0, depth + code.count('{') - code.count('}'))
    return out


def cython_kinds(lines: Sequence[Line]) -> dict[int, list[str]]:
    """0-based line index -> the kinds of unsafety found on that line of a Cython source."""
    declared = [[m for rx in (_PY_POINTER_DECL, _PY_POINTER_PARAM) for m in rx.findall(ln.code)]
                if _is_declaration(ln.code) else [] for ln in lines]
    uses = _scoped_uses(declared, cython_scopes(lines))
    extern_indent = None
    found: dict[int, list[str]] = {}
    for i, ln in enumerate(lines):
        code, kinds = ln.code, []
        header = _HEADER.match(ln.comment) if not code.strip() else None
        if header and any(_header_unsafe(header.group(1))):
            kinds.append('directive')
        if extern_indent is not None and code.strip():
            if ln.indent > extern_indent:
                kinds.append('extern')
            else:
                extern_indent = None
        if _PY_EXTERN.match(code):
            if code.rstrip().endswith(':'):
                extern_indent = ln.indent     # the block's declarations are the sites
            else:
                kinds.append('extern')
        if _PY_DIRECTIVE.search(code):
            kinds.append('directive')
        if _is_declaration(code) and (_PY_POINTER_DECL.search(code) or _PY_POINTER_PARAM.search(code)):
            kinds.append('pointer')
        elif uses[i] is not None and uses[i].search(code):
            kinds.append('pointer-arith')
        if _PY_CAST.search(code):
            kinds.append('cast')
        if _PY_ADDRESS.search(code):
            kinds.append('buffer-address')
        if _PY_NOGIL.search(code) and 'extern' not in code:
            kinds.append('nogil')
        if _PY_PRANGE.search(code):
            kinds.append('prange')
        if kinds:
            found[i] = list(dict.fromkeys(kinds))
    return found


def _is_declaration(code: str) -> bool:
    return bool(re.match(r'\s*(?:cdef|cpdef|ctypedef)\b', code))


def _header_unsafe(text: str) -> Iterable[bool]:
    for key, value in re.findall(r'(\w+)\s*=\s*(\w+)', text):
        if key in UNSAFE_DIRECTIVES:
            yield value.lower() == str(UNSAFE_DIRECTIVES[key]).lower()


def c_kinds(lines: Sequence[Line]) -> dict[int, list[str]]:
    """0-based line index -> the kinds of unsafety found on that line of a C source."""
    codes = [ln.code for ln in lines]
    declared = [[] if code.lstrip().startswith('#') else _C_POINTER.findall(code) for code in codes]
    uses = _scoped_uses(declared, c_scopes(codes))
    found: dict[int, list[str]] = {}
    for i, code in enumerate(codes):
        if re.match(r'\s*#\s*(?:include|if|ifdef|ifndef|elif|else|endif|pragma)\b', code):
            continue
        kinds = []
        if _C_INTRINSIC.search(code):
            kinds.append('intrinsic')
        if _C_UNALIGNED.search(code):
            kinds.append('unaligned')
        if _C_ASM.search(code):
            kinds.append('inline-asm')
        if _C_CAST.search(code):
            kinds.append('cast')
        if _C_POINTER.search(code):
            kinds.append('pointer')
        elif uses[i] is not None and uses[i].search(code):
            kinds.append('pointer-arith')
        if kinds:
            found[i] = kinds
    return found


# ------------------------------------------------------------------------------------------------ scanning

def scan_source(text: str, file: str) -> FileInventory:
    """The inventory of one Cython or C source; `file` (its workspace-relative path) picks the language."""
    suffix = '.' + file.rsplit('.', 1)[-1] if '.' in file else ''
    if suffix in CYTHON_SUFFIXES:
        lines, cython = split_cython(text), True
        kinds = cython_kinds(lines)
    elif suffix in C_SUFFIXES:
        lines, cython = split_c(text), False
        kinds = c_kinds(lines)
    else:
        known = ', '.join(sorted(CYTHON_SUFFIXES | C_SUFFIXES))
        raise ValueError(f'{file}: not a Cython or C source; the inventory reads {known}')
    covered = reviewed_lines(lines, cython)
    sites = tuple(Site(file, i + 1, tuple(k), i in covered or _in_safety_header(lines, i), lines[i].raw.strip())
                  for i, k in sorted(kinds.items()))
    return FileInventory(file, sites, invariants(lines))


def invariants(lines: Sequence[Line]) -> tuple[str, ...]:
    """What each SAFETY: comment says (from the marker to the end of its comment or docstring), deduplicated."""
    out: list[str] = []
    text: list[str] = []
    for ln in [*lines, Line('', '', '', '')]:
        part = ln.comment if ln.comment.strip() else ln.string
        if part.strip() and (text or 'SAFETY:' in part):
            text.append(part[part.index('SAFETY:') + 7:] if not text else part.strip().lstrip('*'))
            if ln.comment_only or (not ln.code.strip() and ln.string):
                continue
        if text:
            note = ' '.join(' '.join(text).replace('*/', ' ').split()).strip(' *"')
            if note and note not in out:
                out.append(note)
            text = []
    return tuple(out)


def _in_safety_header(lines: Sequence[Line], i: int) -> bool:
    """A `# cython:` header line is reviewed by a SAFETY comment in the comment run it belongs to."""
    if not lines[i].comment_only or not _HEADER.match(lines[i].comment):
        return False
    lo = hi = i
    while lo > 0 and lines[lo - 1].comment_only:
        lo -= 1
    while hi + 1 < len(lines) and lines[hi + 1].comment_only:
        hi += 1
    return any(SAFETY.search(ln.comment) for ln in lines[lo:hi + 1])


def manifest_sites(text: str, file: str, directives: dict, table: str = 'tool.embeddenator.cython-directives'
                   ) -> FileInventory:
    """One site per unsafe module-wide directive of the manifest's table; reviewed when a comment documents it."""
    raw = text.splitlines()
    header = next((i for i, ln in enumerate(raw) if ln.strip() == f'[{table}]'), None)
    sites = []
    for key, unsafe in UNSAFE_DIRECTIVES.items():
        if key not in directives or directives[key] != unsafe:
            continue
        at = _toml_key_line(raw, header, key)
        documented = (at is not None and '#' in raw[at]) or any(
            _comment_above(raw, i) for i in (at, header) if i is not None)
        line = (at if at is not None else header or 0) + 1
        sites.append(Site(file, line, ('directive',), documented, f'{key} = {str(unsafe).lower()} (module-wide)'))
    return FileInventory(file, tuple(sites), _comment_block(raw, header) if sites else ())


def _comment_block(raw: list[str], i: int | None) -> tuple[str, ...]:
    """The TOML comment lines directly above line `i`, joined into one note."""
    text: list[str] = []
    while i and raw[i - 1].lstrip().startswith('#'):
        i -= 1
        text.insert(0, raw[i].strip().lstrip('#').strip())
    return (' '.join(text),) if text else ()


def _toml_key_line(raw: list[str], header: int | None, key: str) -> int | None:
    if header is None:
        return None
    for i in range(header + 1, len(raw)):
        if raw[i].lstrip().startswith('['):
            return None
        if re.match(rf'\s*{re.escape(key)}\s*=', raw[i]):
            return i
    return None


def _comment_above(raw: list[str], i: int) -> bool:
    return i > 0 and raw[i - 1].lstrip().startswith('#') and len(raw[i - 1].strip('# ')) > 0


def findings(inventories: Iterable[FileInventory]) -> list[Site]:
    """Every unreviewed site, in file and line order."""
    return sorted((s for inv in inventories for s in inv.findings), key=lambda s: (s.file, s.line))


def describe(site: Site) -> str:
    """One line naming the site and the fix."""
    return (f'{site.where}: {", ".join(site.kinds)} without a SAFETY: comment (add `SAFETY: <invariant>` '
            f'directly above it or on the enclosing function): {site.code}')
