"""Build the Cython kernels declared under [[tool.embeddenator.extensions]] in pyproject.toml.

In the workspace the kernel sources live at the workspace root (`../../pyx`); an sdist carries its own copy
beside this file, so the same declaration builds from either place.
"""
import os
import tomllib
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
TOOL = tomllib.loads((HERE / 'pyproject.toml').read_text(encoding='utf-8'))['tool']['embeddenator']


def _base(sources):
    """The folder the declared paths are relative to: this package's root if it carries them, else the workspace."""
    return HERE if all((HERE / s).exists() for s in sources) else HERE.parents[1]


def _extensions():
    for spec in TOOL.get('extensions', []):
        base = _base(spec['sources'])
        yield Extension(spec['name'], [os.path.relpath(base / s, HERE) for s in spec['sources']],
                        include_dirs=[str(base / d) for d in spec.get('include_dirs', [])],
                        extra_compile_args=spec.get('extra_compile_args', []),
                        extra_link_args=spec.get('extra_link_args', []))


directives = dict(TOOL.get('cython-directives', {}))
if os.environ.get('EMBEDDENATOR_DEBUG'):
    directives.update(boundscheck=True, wraparound=True, initializedcheck=True)
setup(ext_modules=cythonize(list(_extensions()), compiler_directives=directives))
