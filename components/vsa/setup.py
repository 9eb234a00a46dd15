"""Build the Cython kernels declared under [[tool.embeddenator.extensions]] in pyproject.toml.

How a declaration compiles (flags, the OpenMP probe, Cython directives) is kernel_build.py, the same definition
`doit build` uses: the sdist carries a copy beside this file; in the workspace it is the plugin's
(tasks/core/kernel_build.py). Likewise the kernel sources: an sdist carries them here, the workspace at its root.
"""
import importlib.util
import tomllib
from pathlib import Path

from Cython.Build import cythonize
from setuptools import setup

HERE = Path(__file__).resolve().parent
TOOL = tomllib.loads((HERE / 'pyproject.toml').read_text(encoding='utf-8'))['tool']['embeddenator']


def _load_build_definition():
    """kernel_build.py from this folder (an sdist), else from the workspace's plugin."""
    path = next(p for p in (HERE / 'kernel_build.py', HERE.parents[1] / 'tasks' / 'core' / 'kernel_build.py')
                if p.is_file())
    spec = importlib.util.spec_from_file_location('kernel_build', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _base(sources):
    """The folder the declared paths are relative to: this package's root if it carries them, else the workspace."""
    return HERE if all((HERE / s).exists() for s in sources) else HERE.parents[1]


kernel_build = _load_build_definition()
sources = [s for spec in TOOL.get('extensions', []) for s in spec['sources']]
extensions = kernel_build.declared_extensions(TOOL, _base(sources), HERE)
setup(ext_modules=cythonize(extensions, compiler_directives=kernel_build.cython_directives(
    TOOL.get('cython-directives', {}))))
