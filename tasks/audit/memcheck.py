"""valgrind memcheck over the kernel workout: its command line and the reading of its XML output.

CPython runs with PYTHONMALLOC=malloc so memcheck sees every allocation. valgrind emulates the CPU and does
not offer AVX-512 (its CPUID hides it), so the workout runs the paths the kernels detect *under valgrind*; the
report names the paths that ran and those left to the sanitizer build. An error or a definite leak counts
against the project when any frame of its stack, or of the stack where an uninitialised value came from, is in
the project's compiled modules; the others (the interpreter, the loader) are counted and shown, not failed.
"""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

LEAK_DEFINITE = 'Leak_DefinitelyLost'


@dataclass(frozen=True)
class MemcheckError:
    kind: str
    what: str
    frames: tuple[str, ...]      # "function (object) file:line", innermost first
    project: bool

    @property
    def leak(self) -> bool:
        return self.kind.startswith('Leak_')


@dataclass(frozen=True)
class MemcheckResult:
    errors: tuple[MemcheckError, ...] = ()
    suppressed: int = 0
    ran: bool = True
    notes: tuple[str, ...] = field(default=())

    def count(self, project: bool, leaks: bool) -> int:
        return sum(e.project == project and (e.kind == LEAK_DEFINITE if leaks else not e.leak) for e in self.errors)


def valgrind_command(python: str, script: Path, args: Iterable[str], xml: Path, suppressions: Path,
                     valgrind: str = 'valgrind') -> list[str]:
    """memcheck with leak checking of definite leaks, origins of uninitialised values, XML to `xml`."""
    return [valgrind, '--tool=memcheck', '--leak-check=full', '--show-leak-kinds=definite',
            '--errors-for-leak-kinds=definite', '--track-origins=yes', '--num-callers=30',
            f'--suppressions={suppressions}', '--xml=yes', f'--xml-file={xml}', python, str(script), *args]


def find_valgrind() -> str | None:
    return shutil.which('valgrind')


def _frame(node: ET.Element) -> tuple[str, str]:
    fn = node.findtext('fn') or '??'
    obj = node.findtext('obj') or ''
    where = f'{node.findtext("file")}:{node.findtext("line")}' if node.findtext('file') else ''
    return f'{fn} ({Path(obj).name}) {where}'.strip(), obj


def parse_memcheck_xml(text: str, project_objects: Iterable[str]) -> MemcheckResult:
    """Errors and leaks of one memcheck XML report, each marked as touching `project_objects` (file names of
    the compiled modules) or not."""
    names = {Path(p).name for p in project_objects}
    root = ET.fromstring(text)
    errors = []
    for node in root.iter('error'):
        frames, objects = [], []
        for stack in node.findall('stack'):
            for f in stack.iter('frame'):
                label, obj = _frame(f)
                frames.append(label)
                objects.append(Path(obj).name)
        what = node.findtext('what') or node.findtext('xwhat/text') or ''
        errors.append(MemcheckError(node.findtext('kind') or '?', what, tuple(frames[:12]),
                                    any(o in names for o in objects)))
    suppressed = sum(int(p.findtext('count') or 0) for p in root.iter('pair'))
    return MemcheckResult(tuple(errors), suppressed)


_ALLOCATORS = ('malloc', 'calloc', 'realloc', 'free', 'operator new', 'memcpy', 'memmove', 'memset')


def outside_summary(result: MemcheckResult, limit: int = 8) -> list[str]:
    """The errors outside project code, grouped as "count x kind in function (object)", largest first."""
    counts: dict[str, int] = {}
    for e in result.errors:
        if not e.project:
            frame = next((f for f in e.frames if not f.startswith(_ALLOCATORS) and '(vgpreload' not in f),
                         e.frames[0] if e.frames else '?')
            key = f'{e.kind} in {frame.split(" ")[0]} ({frame.split("(")[-1].split(")")[0]})'
            counts[key] = counts.get(key, 0) + 1
    return [f'{n} x {k}' for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def memcheck_verdict(result: MemcheckResult, ran_paths: list[str], machine_paths: list[str]) -> tuple[bool, str]:
    """(passed, one-line summary) of a memcheck run."""
    if not result.ran:
        return False, f'valgrind did not run: {"; ".join(result.notes)}'
    errors, leaks = result.count(True, False), result.count(True, True)
    others = result.count(False, False) + result.count(False, True)
    skipped = [p for p in machine_paths if p not in ran_paths]
    tail = f' (valgrind cannot run: {", ".join(skipped)})' if skipped else ''
    summary = (f'{errors} error(s) and {leaks} definite leak(s) in project code on {", ".join(ran_paths)}{tail}; '
               f'{others} outside it, {result.suppressed} suppressed')
    return errors == 0 and leaks == 0, summary
