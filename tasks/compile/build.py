"""`build`: compile each component's Cython extensions in place, from what its manifest declares.

The inputs are found by scanning the sources (`cimport`, `include`, `cdef extern from`, `#include "..."`), so a
new header is picked up without a hand-kept list; compiler, flags and Cython version go in `uptodate`.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Iterable

from doit.exceptions import TaskFailed
from doit.task import clean_targets
from doit.tools import config_changed

from tasks.core.config import settings, workspace
from tasks.core.workspace import Component, Extension

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
            out.append(f'{src}: no such file (a source of {ext.name} in {_rel(comp.manifest, root)}); restore it '
                       'or correct the manifest')
            continue
        for name, includer in scan_sources(root / src, search)[1]:
            out.append(f'{name}: no such file (included by {_rel(includer, root)}); restore it or correct the '
                       'include')
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _missing(problems: list[str]) -> TaskFailed:
    """The action of a build whose sources are missing: one line (the first problem, and how many more)."""
    more = f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''
    return TaskFailed(f'build: {problems[0]}{more}')


def extension_target(comp: Component, ext: Extension) -> Path:
    """Where the compiled module lands: beside the package's Python sources (src layout, in place)."""
    *package, module = ext.name.split('.')
    return comp.root.joinpath('src', *package, module + sysconfig.get_config_var('EXT_SUFFIX'))


def extension_targets(comps: Iterable[Component]) -> list[Path]:
    return [extension_target(c, e) for c in comps for e in c.extensions]


def directives(comp: Component) -> dict:
    """The manifest's Cython directives; EMBEDDENATOR_DEBUG=1 turns bounds and init checks back on."""
    out = dict(comp.cython_directives)
    if os.environ.get('EMBEDDENATOR_DEBUG'):
        out.update(boundscheck=True, wraparound=True, initializedcheck=True)
    return out


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
    from setuptools import Extension as SetuptoolsExtension

    root = Path(root)
    print(f'compiling {ext.name} ({", ".join(ext.sources)})', file=sys.stderr, flush=True)
    module = SetuptoolsExtension(
        ext.name, [str(root / s) for s in ext.sources], include_dirs=[str(root / d) for d in ext.include_dirs],
        extra_compile_args=[*ext.extra_compile_args, *extra_cflags],
        extra_link_args=[*ext.extra_link_args, *extra_ldflags])
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
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + '.partial')
    shutil.copyfile(root / built if not built.is_absolute() else built, partial)
    os.replace(partial, target)  # a test process that has the old module mapped keeps its copy


def _remove_tree(path: str):
    shutil.rmtree(path, ignore_errors=True)


def task_build():
    """compile the Cython kernels (runtime SIMD dispatch) in place into their components"""
    ws, cfg = workspace(), settings()
    for comp in ws.components.values():
        if not comp.extensions:
            continue
        build_dir = cfg.path(cfg.build, comp.name)
        actions, deps, problems = [], set(), []
        for ext in comp.extensions:
            search = [ws.root / d for d in ext.include_dirs]
            problems += missing_sources(ws.root, comp, ext)
            for src in ext.sources:
                if (ws.root / src).is_file():
                    deps.add(ws.root / src)
                deps.update(scan_deps(ws.root / src, search))
            actions.append((compile_extension, [str(ws.root), str(comp.root), ext, directives(comp),
                                                str(build_dir), str(extension_target(comp, ext))]))
        yield {
            'name': comp.name,
            'doc': f'compile the extensions of {comp.dist} ({", ".join(e.name for e in comp.extensions)})',
            # a missing source fails the build with one line, and leaves the rest of the graph loadable
            'actions': [(_missing, [problems])] if problems else actions,
            'file_dep': sorted(str(d) for d in deps) + [str(comp.manifest)],
            'targets': [str(extension_target(comp, e)) for e in comp.extensions],
            'uptodate': [config_changed(compiler_config(comp))],
            'clean': [clean_targets, (_remove_tree, [str(build_dir)])],
        }
