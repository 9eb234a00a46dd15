"""A CycloneDX bill of materials per built file: `<file>.cdx.json` beside each wheel and sdist in dist/<name>/.

It lists the package's runtime dependencies as the verification venv resolved them: the versions installed there
and the SHA-256 of the archives pip installed them from (pip's installation reports, `pip install --report`). A
package with compiled kernels (vsa) also records the compiler, Cython and the flags that built them, as the
package report wrote them down. No index takes a file beside the archives through twine, so a copy is kept under
reports/publishing/sbom/<name>/ (reports/publishing/dry-run/sbom/ for a dry run).
"""
from __future__ import annotations

import json
import os
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tasks.core import kernel_build
from tasks.core.files import replace_copy, replace_file
from tasks.core.kernels import compiler_config
from tasks.core.processes import run
from tasks.core.workspace import Component

SUFFIX = '.cdx.json'
PROPERTY = 'embeddenator'   # the namespace of this project's CycloneDX properties


@dataclass(frozen=True)
class Installed:
    """One distribution installed in the verification venv."""
    name: str                         # as its metadata spells it
    version: str
    requires: tuple[str, ...] = ()    # its Requires-Dist lines
    sha256: str | None = None         # of the archive pip installed it from, when a report recorded it


@dataclass(frozen=True)
class Subject:
    """The file a bill describes."""
    file: str
    sha256: str
    dist: str
    version: str
    toolchain: Mapping[str, object] = field(default_factory=dict)   # how its kernels were built; {} for none


def sbom_path(dist_file: Path) -> Path:
    return dist_file.with_name(dist_file.name + SUFFIX)


# ---------------------------------------------------------------- what the venv resolved

def archive_hashes(reports: Iterable[Mapping]) -> dict[tuple[str, str], str]:
    """(canonical name, version) -> SHA-256 of the archive each `pip install --report` installed it from."""
    found = {}
    for report in reports:
        for item in report.get('install') or []:
            meta = item.get('metadata') or {}
            hashes = ((item.get('download_info') or {}).get('archive_info') or {}).get('hashes') or {}
            if meta.get('name') and meta.get('version') and hashes.get('sha256'):
                found[(canonicalize_name(meta['name']), meta['version'])] = hashes['sha256']
    return found


def installed(inspect: Mapping, hashes: Mapping[tuple[str, str], str]) -> dict[str, Installed]:
    """Canonical name -> what `pip inspect` says the venv holds, with the archive digest where one is known."""
    out = {}
    for item in inspect.get('installed') or []:
        meta = item.get('metadata') or {}
        key = canonicalize_name(meta['name'])
        out[key] = Installed(meta['name'], meta['version'], tuple(meta.get('requires_dist') or ()),
                             hashes.get((key, meta['version'])))
    return out


def closure(root: str, venv: Mapping[str, Installed], environment: Mapping[str, str] | None = None
            ) -> dict[str, list[str]]:
    """Canonical name -> the canonical names it requires, for `root` and everything it needs at run time, as the
    venv's metadata says (markers evaluated for the venv's interpreter, extras followed where they are asked)."""
    env = dict(environment or default_environment())
    edges: dict[str, set[str]] = {}
    todo = [(canonicalize_name(root), frozenset())]
    seen = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen or name not in venv:
            continue
        seen.add((name, extras))
        edges.setdefault(name, set())
        for line in venv[name].requires:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker and not any(req.marker.evaluate({**env, 'extra': e}) for e in (extras or {''})):
                continue
            dep = canonicalize_name(req.name)
            if dep in venv:
                edges[name].add(dep)
                todo.append((dep, frozenset(req.extras)))
    return {name: sorted(deps) for name, deps in sorted(edges.items())}


# ---------------------------------------------------------------- the document

def purl(dist: str, version: str, file: str | None = None):
    from packageurl import PackageURL
    return PackageURL('pypi', None, canonicalize_name(dist), version, {'file_name': file} if file else None)


def bill_of_materials(subject: Subject, venv: Mapping[str, Installed], edges: Mapping[str, Sequence[str]]) -> str:
    """The CycloneDX 1.6 JSON of `subject`: its runtime dependencies (`edges` from `closure`) and toolchain."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component as Part, ComponentScope, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    root_key = canonicalize_name(subject.dist)
    top = Part(type=ComponentType.LIBRARY, name=subject.dist, version=subject.version,
               bom_ref=str(purl(subject.dist, subject.version, subject.file)),
               purl=purl(subject.dist, subject.version, subject.file),
               hashes=[HashType(alg=HashAlgorithm.SHA_256, content=subject.sha256)],
               properties=[Property(name=f'{PROPERTY}:{k}', value=v) for k, v in toolchain_properties(subject)])
    parts = {root_key: top}
    for key in edges:
        if key == root_key:
            continue
        dep = venv[key]
        parts[key] = Part(type=ComponentType.LIBRARY, name=dep.name, version=dep.version,
                          bom_ref=str(purl(dep.name, dep.version)), purl=purl(dep.name, dep.version),
                          scope=ComponentScope.REQUIRED,
                          hashes=[HashType(alg=HashAlgorithm.SHA_256, content=dep.sha256)] if dep.sha256 else [])
    bom = Bom(metadata=BomMetaData(component=top))
    for key, part in parts.items():
        if key != root_key:
            bom.components.add(part)
    for tool in toolchain_parts(subject):
        bom.components.add(tool)
    for key, deps in edges.items():
        bom.register_dependency(parts[key], [parts[d] for d in deps if d != root_key])
    return JsonV1Dot6(bom).output_as_string(indent=2) + '\n'


def toolchain_properties(subject: Subject) -> list[tuple[str, str]]:
    """The kernel build flags as (name, value) properties of the described package."""
    tc = subject.toolchain
    if not tc:
        return []
    return [('build:cc', str(tc.get('cc'))), ('build:cflags', str(tc.get('cflags'))),
            *((f'build:extension:{name}:compile-args', ' '.join(cargs)) for name, cargs, _ in tc.get('extensions', ())),
            *((f'build:extension:{name}:link-args', ' '.join(largs)) for name, _, largs in tc.get('extensions', ())),
            ('build:cython-directives', json.dumps(tc.get('directives') or {}, sort_keys=True)),
            ('build:python', str(tc.get('python')))]


def toolchain_parts(subject: Subject) -> list:
    """The compiler and Cython as components outside the runtime closure (scope "excluded": build tools)."""
    from cyclonedx.model.component import Component as Part, ComponentScope, ComponentType
    tc = subject.toolchain
    if not tc:
        return []
    compiler = str(tc.get('cc_version') or tc.get('cc'))
    return [Part(type=ComponentType.APPLICATION, name=compiler.split()[0], version=compiler.split()[-1],
                 description=f'the C compiler that built the kernels: {compiler}', bom_ref='build-compiler',
                 scope=ComponentScope.EXCLUDED),
            Part(type=ComponentType.APPLICATION, name='Cython', version=str(tc.get('cython')),
                 bom_ref=str(purl('Cython', str(tc.get('cython')))), purl=purl('Cython', str(tc.get('cython'))),
                 description='generated the C of the kernels', scope=ComponentScope.EXCLUDED)]


# ---------------------------------------------------------------- the toolchain, recorded at build time

def toolchain(comp: Component) -> dict:
    """How `package:<name>` compiles a component's extensions: compiler (and its version), flags, Cython,
    directives; {} for a pure-Python component. The package report keeps it for the bills of materials."""
    if not comp.extensions:
        return {}
    config = compiler_config(comp)
    cc = (config.get('cc') or 'cc').split()[0]
    done = run([cc, '--version'])
    usable = [(e.name, *kernel_build.usable_flags(e.name, e.extra_compile_args, e.extra_link_args))
              for e in comp.extensions]
    return {'cc': config.get('cc'), 'cc_version': (done.output.strip().splitlines() or [cc])[0] if done.ok else cc,
            'cflags': ' '.join([*(config.get('cflags') or '').split(), *os.environ.get('CFLAGS', '').split()]),
            'extensions': usable, 'cython': config.get('cython'), 'directives': config.get('directives'),
            'python': sysconfig.get_python_version()}


# ---------------------------------------------------------------- writing

def write_sboms(files: Mapping[Path, str], dist: str, version: str, venv: Mapping[str, Installed],
                environment: Mapping[str, str] | None, tc: Mapping, copies: Path) -> list[Path]:
    """`<file>.cdx.json` beside each of `files` (path -> SHA-256) and a copy in `copies`; returns the bills."""
    edges = closure(dist, venv, environment)
    written = []
    copies.mkdir(parents=True, exist_ok=True)
    for path, digest in sorted(files.items()):
        text = bill_of_materials(Subject(path.name, digest, dist, version, tc), venv, edges)
        out = sbom_path(path)
        replace_file(out, text)
        replace_copy(out, copies / out.name)
        written.append(out)
    return written
