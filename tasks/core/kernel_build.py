"""How a declared extension compiles: the one build definition `doit build` and the wheel build (setup.py) share.

A component declares its extensions under `[[tool.embeddenator.extensions]]` and its Cython directives under
`[tool.embeddenator.cython-directives]`; this module turns a declaration into a setuptools Extension with the
flags this compiler can honour (OpenMP only where it builds and links) and the directives (EMBEDDENATOR_DEBUG=1
turns the checks back on). Stdlib and setuptools only, and no import of the plugin: the package stage copies
this file into each sdist that compiles extensions, so the sdist builds from itself.
"""
from __future__ import annotations

import functools
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

OPENMP = '-fopenmp'
DEBUG_ENV = 'EMBEDDENATOR_DEBUG'
DEBUG_DIRECTIVES = {'boundscheck': True, 'wraparound': True, 'initializedcheck': True}


def cython_directives(declared: Mapping) -> dict:
    """The declared Cython directives; EMBEDDENATOR_DEBUG=1 turns bounds and init checks back on."""
    out = dict(declared)
    if os.environ.get(DEBUG_ENV):
        out.update(DEBUG_DIRECTIVES)
    return out


@functools.cache
def openmp_works() -> bool:
    """Whether this compiler builds and links an OpenMP program (Apple clang, for one, does not)."""
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler
    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, 'omp.c')
        src.write_text('#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n')
        try:
            objects = compiler.compile([str(src)], output_dir=tmp, extra_postargs=[OPENMP])
            compiler.link_executable(objects, 'omp', output_dir=tmp, extra_postargs=[OPENMP])
        except Exception:  # any compile or link error means: no OpenMP here
            return False
    return True


def usable_flags(name: str, cflags: Iterable[str], ldflags: Iterable[str]) -> tuple[list[str], list[str]]:
    """The declared compile and link flags, without OpenMP when this compiler cannot build with it.

    Without OpenMP, Cython's prange compiles to a plain loop: the kernels run on one thread, with the same results.
    """
    cflags, ldflags = list(cflags), list(ldflags)
    if OPENMP in cflags + ldflags and not openmp_works():
        print(f'{name}: the compiler does not support OpenMP; building single-threaded', file=sys.stderr)
        cflags, ldflags = [a for a in cflags if a != OPENMP], [a for a in ldflags if a != OPENMP]
    return cflags, ldflags


def extension(name: str, sources: Iterable[str], include_dirs: Iterable[str], cflags: Iterable[str] = (),
              ldflags: Iterable[str] = (), extra_cflags: Iterable[str] = (), extra_ldflags: Iterable[str] = ()):
    """The setuptools Extension of one declaration; `extra_*` are a caller's own (a sanitizer build's flags)."""
    from setuptools import Extension
    cflags, ldflags = usable_flags(name, cflags, ldflags)
    return Extension(name, list(sources), include_dirs=list(include_dirs),
                     extra_compile_args=[*cflags, *extra_cflags], extra_link_args=[*ldflags, *extra_ldflags])


def declared_extensions(tool: Mapping, base: Path, relative_to: Path) -> list:
    """The Extensions a manifest's `[tool.embeddenator]` table declares; sources found under `base`, named
    relative to `relative_to` (setup.py's folder: setuptools wants relative source paths)."""
    return [extension(spec['name'], [os.path.relpath(base / s, relative_to) for s in spec['sources']],
                      [str(base / d) for d in spec.get('include_dirs', [])],
                      spec.get('extra_compile_args', []), spec.get('extra_link_args', []))
            for spec in tool.get('extensions', [])]
