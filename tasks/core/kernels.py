"""The compiled extensions as the stages see them: their sources (found by scanning), where each lands, and the
compile itself, shared by `build`, the sanitizer build and the benchmark proof.

The inputs are found by scanning the sources (`cimport`, `include`, `cdef extern from`, `#include "..."`), so a
new header is picked up without a hand-kept list. How an extension compiles (flags, OpenMP, directives) is
tasks/core/kernel_build.py, the definition the wheel build uses too.
"""
from __future__ import annotations

import os
import re
import sys
import sysconfig
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Iterable

from tasks.core import kernel_build
from tasks.core.files import rel, replace_copy
from tasks.core.workspace import Component, Extension, Workspace

# What a Cython or C source names as its own inputs: `cimport a.b`, `from a cimport b`, `include "x.pxi"`,
# `cdef extern from "x.h"`, and `#include "x.h"` (angle-bracket includes are system headers, not ours).
_CIMPORT = re.compile(r'^\s*(?:from\s+([\w.]+)\s+cimport|cimport\s+([\w.]+))', re.M)
_QUOTED = re.compile(r'^\s*(?:include|cdef\s+extern\s+from|#\s*include)\s+"([^"]+)"', re.M)
# Cython's textual `include "x.pxi"` always names a file of ours: when it is absent, that is the error to report.
_INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"', re.M)


def scan_sources(source: Path, search: Iterable[Path]) -> tuple[list[Path], list[tuple[str, Path]]]:
    """Every local file `source` depends on, transitively (sorted), and each `include` that names no file.

    The missing ones are (name, the file that includes it); an absent `source` is not read (its caller says so).
    """
    search = [Path(p) for p in search]
    seen: set[Path] = set()
    missing: list[tuple[str, Path]] = []
    stack = [Path(source)] if Path(source).is_file() else []
    while stack:
        current = stack.pop()
        text = current.read_text(encoding='utf-8', errors='replace')
        names = [m for m in _QUOTED.findall(text)]
        names += [(a or b).replace('.', '/') + '.pxd' for a, b in _CIMPORT.findall(text)]
        included = set(_INCLUDE.findall(text))
        for name in names:
            found = _locate(name, [current.parent, *search])
            if found is None and name in included:
                missing.append((name, current))
            elif found is not None and found not in seen:
                seen.add(found)
                stack.append(found)
    seen.discard(Path(source))
    return sorted(seen), sorted(set(missing))


def scan_deps(source: Path, search: Iterable[Path]) -> list[Path]:
    """Every local file `source` depends on, transitively, found in its own folder or `search`; sorted."""
    return scan_sources(source, search)[0]


def _locate(name: str, folders: Iterable[Path]) -> Path | None:
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def missing_sources(root: Path, comp: Component, ext: Extension) -> list[str]:
    """One line per kernel source that is not there: a declared source, or a file a source includes."""
    out = []
    search = [root / d for d in ext.include_dirs]
    for src in ext.sources:
        if not (root / src).is_file():
            out.append(f'{src}: no such file (a source of {ext.name} in {rel(comp.manifest, root)}); restore it '
                       'or correct the manifest')
            continue
        for name, includer in scan_sources(root / src, search)[1]:
            out.append(f'{name}: no such file (included by {rel(includer, root)}); restore it or correct the '
                       'include')
    return out


def extension_target(comp: Component, ext: Extension) -> Path:
    """Where the compiled module lands: beside the package's Python sources (src layout, in place)."""
    *package, module = ext.name.split('.')
    return comp.root.joinpath('src', *package, module + sysconfig.get_config_var('EXT_SUFFIX'))


def extension_targets(comps: Iterable[Component]) -> list[Path]:
    return [extension_target(c, e) for c in comps for e in c.extensions]


def kernel_stamp(comp: Component) -> Path:
    """The record of how `build:<comp>` compiled its extensions: the sources' digests and the compiler config."""
    from tasks.core.config import settings
    cfg = settings()
    return cfg.path(cfg.build, comp.name, 'kernels.json')


def extension_inputs(comps: Iterable[Component]) -> list[Path]:
    """What a task that uses the compiled extensions depends on: each component's build record, not the binary.

    The binary's bytes depend on who compiled it: `pip install -e` (re)compiles the same sources in its own temporary
    folder into a module that differs byte for byte from the build's. Depending on the record instead, a reinstall
    changes no task input; a change of source, header or flag changes the record and re-runs what depends on it.
    """
    return [kernel_stamp(c) for c in comps if c.extensions]


def write_stamp(stamp: str, sources: list[str], config: dict) -> None:
    """The build record: sha256 of every source and the compiler config, as stable JSON (same inputs, same bytes)."""
    import hashlib
    import json
    digests = {s: hashlib.sha256(Path(s).read_bytes()).hexdigest() for s in sorted(sources)}
    text = json.dumps({'config': config, 'sources': digests}, indent=1, sort_keys=True, default=str)
    Path(stamp).parent.mkdir(parents=True, exist_ok=True)
    Path(stamp).write_text(text + '\n', encoding='utf-8')


def kernel_sources(ws: Workspace) -> list[Path]:
    """Every compiled source the manifests declare, with every local file it includes, transitively."""
    out: set[Path] = set()
    for comp in ws.components.values():
        for ext in comp.extensions:
            search = [ws.root / d for d in ext.include_dirs]
            for src in ext.sources:
                if (ws.root / src).is_file():
                    out.add(ws.root / src)
                out.update(scan_deps(ws.root / src, search))
    return sorted(out)


def build_definition() -> list[Path]:
    """The plugin files that decide how an extension compiles: a change to them changes every compiled module."""
    return [Path(kernel_build.__file__), Path(__file__)]


def directives(comp: Component) -> dict:
    """The manifest's Cython directives as this build applies them (see kernel_build.cython_directives)."""
    return kernel_build.cython_directives(comp.cython_directives)


def compiler_config(comp: Component, extra_cflags: tuple[str, ...] = ()) -> dict:
    """Everything besides the source files that changes the compiled result."""
    return {
        'cc': sysconfig.get_config_var('CC'),
        'cflags': sysconfig.get_config_var('CFLAGS'),
        'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'),
        'cython': _dist_version('Cython'),
        'directives': directives(comp),
        'extensions': [(e.name, e.extra_compile_args, e.extra_link_args) for e in comp.extensions],
        'extra_cflags': list(extra_cflags),
    }


def compile_extension(root: str, comp_root: str, ext: Extension, directives_: dict, build_dir: str,
                      target: str, extra_cflags: tuple[str, ...] = (), extra_ldflags: tuple[str, ...] = ()):
    """Cythonize and compile one extension under `build_dir`, then move the module to `target` atomically.

    Other stages (the sanitizer build) call this with their own build folder, flags and target.
    """
    from Cython.Build import cythonize
    from setuptools import Distribution

    root = Path(root)
    print(f'compiling {ext.name} ({", ".join(ext.sources)})', file=sys.stderr, flush=True)
    module = kernel_build.extension(ext.name, [str(root / s) for s in ext.sources],
                                    [str(root / d) for d in ext.include_dirs], ext.extra_compile_args,
                                    ext.extra_link_args, extra_cflags, extra_ldflags)
    build = Path(build_dir)
    cwd = os.getcwd()
    os.chdir(root)  # cythonize maps sources under build_dir by their path relative to the working directory
    try:
        [module] = cythonize([module], compiler_directives=directives_, build_dir=str(build / 'cython'),
                             include_path=[str(root / d) for d in ext.include_dirs], quiet=True, force=True)
        dist = Distribution({'name': ext.name, 'ext_modules': [module]})
        cmd = dist.get_command_obj('build_ext')
        cmd.build_lib, cmd.build_temp, cmd.force = str(build / 'lib'), str(build / 'temp'), True
        cmd.ensure_finalized()
        cmd.run()
        built = Path(cmd.get_ext_fullpath(ext.name))
    finally:
        os.chdir(cwd)
    # replaced, not overwritten: a test process that has the old module mapped keeps its copy
    replace_copy(root / built if not built.is_absolute() else built, Path(target))
