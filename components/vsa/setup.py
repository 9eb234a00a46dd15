"""Build the Cython kernels declared under [[tool.embeddenator.extensions]] in pyproject.toml.

In the workspace the kernel sources live at the workspace root (`../../pyx`); an sdist carries its own copy
beside this file, so the same declaration builds from either place.
"""
import os
import sys
import tempfile
import tomllib
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
TOOL = tomllib.loads((HERE / 'pyproject.toml').read_text(encoding='utf-8'))['tool']['embeddenator']


def _base(sources):
    """The folder the declared paths are relative to: this package's root if it carries them, else the workspace."""
    return HERE if all((HERE / s).exists() for s in sources) else HERE.parents[1]


OPENMP = '-fopenmp'


def _openmp_works() -> bool:
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


def _without_openmp(args):
    return [a for a in args if a != OPENMP]


def _extensions():
    openmp = None
    for spec in TOOL.get('extensions', []):
        base = _base(spec['sources'])
        cflags, ldflags = spec.get('extra_compile_args', []), spec.get('extra_link_args', [])
        if OPENMP in cflags + ldflags:
            openmp = _openmp_works() if openmp is None else openmp
            if not openmp:
                # prange then compiles to a plain loop: top_k runs on one thread, with the same results.
                print(f'{spec["name"]}: the compiler does not support OpenMP; building single-threaded',
                      file=sys.stderr)
                cflags, ldflags = _without_openmp(cflags), _without_openmp(ldflags)
        yield Extension(spec['name'], [os.path.relpath(base / s, HERE) for s in spec['sources']],
                        include_dirs=[str(base / d) for d in spec.get('include_dirs', [])],
                        extra_compile_args=cflags, extra_link_args=ldflags)


directives = dict(TOOL.get('cython-directives', {}))
if os.environ.get('EMBEDDENATOR_DEBUG'):
    directives.update(boundscheck=True, wraparound=True, initializedcheck=True)
setup(ext_modules=cythonize(list(_extensions()), compiler_directives=directives))
