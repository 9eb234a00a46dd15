"""The publishing checklist as pure functions: manifest metadata, README sections, the CHANGELOG's version.

Each check returns Findings (what was checked, whether it holds, and the fix when it does not); `package:<name>`
renders them into its report and fails on any that does not hold.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

LICENSE = 'MIT OR Apache-2.0'
KEYWORDS = ('vsa', 'holographic', 'sparse', 'ternary', 'embeddings')
#: Fields of [project] every published manifest fills in.
REQUIRED = ('name', 'version', 'description', 'readme', 'license', 'license-files', 'authors', 'keywords',
            'classifiers', 'urls', 'requires-python')
#: README sections: label -> words one heading must contain; the second table applies to compiled components.
README_SECTIONS = {'overview': ('overview',), 'install with pip': ('install',),
                   'quick start': ('quick start', 'usage', 'use'), 'API docs': ('api',),
                   'performance': ('performance',), 'license': ('license',)}
COMPILED_SECTIONS = {'security notes': ('security',)}
#: Flags that would compile the whole extension for one CPU family: the wheel must run on baseline x86-64 and
#: choose its SIMD path at run time (the wide functions carry their own target attributes).
_NON_BASELINE = re.compile(r'^-(march|mcpu|mtune)=native$|^-m(avx|avx2|avx512\w*|bmi2?|fma|sse4\.?\d?|popcnt)$')
_HEADING = re.compile(r'^#{1,6}\s+(.+?)\s*#*\s*$', re.M)


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def check_manifest(project: Mapping, where: str, comp_root: Path, siblings: Mapping[str, str]) -> list[Finding]:
    """[project] of a component manifest; `siblings` maps each workspace distribution to its version."""
    out = [Finding(f'manifest {key}', key in project and project[key] not in ('', [], {}),
                   f'{where}: [project] {key}' + (' missing; add it' if key not in project else
                                                  ' is empty; fill it in' if project[key] in ('', [], {}) else ''))
           for key in REQUIRED]
    license_ = project.get('license')
    out.append(Finding('license expression', license_ == LICENSE,
                       f'{where}: [project] license = {license_!r}' +
                       ('' if license_ == LICENSE else f'; write the SPDX expression "{LICENSE}" (PEP 639)')))
    missing = [f for f in project.get('license-files', []) if not (comp_root / f).is_file()]
    out.append(Finding('license files', not missing and bool(project.get('license-files')),
                       f'{where}: license-files ' + (f'{missing} do not exist' if missing else 'present'
                                                     if project.get('license-files')
                                                     else 'missing; list the license files (PEP 639)')))
    lacking = sorted(set(KEYWORDS) - set(project.get('keywords', [])))
    out.append(Finding('keywords', not lacking, f'{where}: keywords' + (f' lack {lacking}' if lacking else ' ok')))
    out.extend(check_sibling_requirements(project.get('dependencies', []), where, siblings))
    return out


def check_sibling_requirements(deps: Iterable[str], where: str, siblings: Mapping[str, str]) -> list[Finding]:
    """Each sibling requirement is a version range (no path or URL) that admits the sibling's current version."""
    known = {canonicalize_name(k): v for k, v in siblings.items()}
    out = []
    for text in deps:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            out.append(Finding('dependency', False, f'{where}: {text!r} is not a PEP 508 requirement'))
            continue
        current = known.get(canonicalize_name(req.name))
        if current is None:
            continue
        ok = req.url is None and bool(req.specifier) and Version(current) in req.specifier
        out.append(Finding(f'range for {req.name}', ok, f'{where}: {text!r}' + (
            '' if ok else f'; write a range that admits {current}, e.g. "{req.name}>={current},<{_next_minor(current)}"'
        )))
    return out


def check_readme(text: str, where: str, dist: str, compiled: bool) -> list[Finding]:
    headings = [h.lower() for h in _HEADING.findall(text)]
    wanted = {**README_SECTIONS, **(COMPILED_SECTIONS if compiled else {})}
    out = []
    for label, words in wanted.items():
        ok = any(w in h for h in headings for w in words)
        out.append(Finding(f'README {label}', ok, f'{where}: section "{label}"' + (
            '' if ok else f' missing; add a heading containing {words[0]!r}')))
    command = f'pip install {dist}'
    out.append(Finding('README pip command', command in text,
                       f'{where}: ' + ('shows' if command in text else 'add') + f' `{command}`'))
    return out


def check_changelog(text: str | None, where: str, version: str) -> Finding:
    """The CHANGELOG has a `## [<version>]` (or `## <version>`) section."""
    if text is None:
        return Finding('CHANGELOG section', False, f'{where}: missing; run `doit changelog` and commit it')
    pattern = re.compile(rf'^#{{1,3}}\s*\[?v?{re.escape(version)}\]?(\s|$)', re.M)
    ok = bool(pattern.search(text))
    return Finding('CHANGELOG section', ok, f'{where}: ' + (
        f'has {version}' if ok else f'no section for {version}; run `doit changelog` and commit it'))


def check_baseline_isa(flags: Iterable[str], where: str) -> Finding:
    """The compiled extension is built for the baseline ISA, so its runtime dispatch is what picks AVX2/AVX-512."""
    bad = sorted({f for f in flags if _NON_BASELINE.match(f)})
    return Finding('baseline ISA', not bad, f'{where}: ' + (
        f'{" ".join(bad)} would make the whole extension CPU-specific; mark wide functions with target '
        f'attributes instead' if bad else 'no -march=native or global -mavx*: runtime dispatch decides'))


def check_sizes(sizes: Mapping[str, int], limit: int) -> list[Finding]:
    return [Finding(f'size of {name}', size < limit, f'{name}: {size} bytes (limit {limit})')
            for name, size in sizes.items()]


def _next_minor(version: str) -> str:
    v = Version(version)
    return f'{v.major}.{v.minor + 1}' if v.major == 0 else f'{v.major + 1}'
