"""One build definition of the kernels: `doit build` and the wheel build (setup.py) compile a declaration the same
way, OpenMP probe included, and the vsa sdist carries that definition so it builds from itself."""
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.core import kernel_build
from tasks.core.workspace import load_workspace
from tasks.release.package import stage

ROOT = Path(__file__).resolve().parents[1]


def test_a_compiler_without_openmp_builds_the_kernels_single_threaded(monkeypatch, capsys):
    monkeypatch.setattr(kernel_build, 'openmp_works', lambda: False)
    ext = kernel_build.extension('pkg._k', ['k.pyx'], ['inc'], ['-O3', '-fopenmp'], ['-fopenmp'], ['-g'], ['-lm'])
    assert ext.extra_compile_args == ['-O3', '-g'] and ext.extra_link_args == ['-lm']
    assert 'pkg._k: the compiler does not support OpenMP; building single-threaded' in capsys.readouterr().err


def test_a_compiler_with_openmp_keeps_the_declared_flags(monkeypatch):
    monkeypatch.setattr(kernel_build, 'openmp_works', lambda: True)
    ext = kernel_build.extension('pkg._k', ['k.pyx'], [], ['-O3', '-fopenmp'], ['-fopenmp'])
    assert ext.extra_compile_args == ['-O3', '-fopenmp'] and ext.extra_link_args == ['-fopenmp']


def test_the_build_task_compiles_through_the_shared_definition(monkeypatch):
    """doit build's compile (tasks/core/kernels.py) makes its Extension with kernel_build.extension."""
    from tasks.core.kernels import compile_extension
    seen = []

    def stop(*args):
        seen.append(args)
        raise RuntimeError('recorded')

    monkeypatch.setattr(kernel_build, 'extension', stop)
    comp = load_workspace(ROOT).components['vsa']
    with pytest.raises(RuntimeError, match='recorded'):
        compile_extension(str(ROOT), str(comp.root), comp.extensions[0], {}, '/nonexistent', '/nonexistent/x.so')
    assert seen[0][0] == comp.extensions[0].name and '-fopenmp' in seen[0][3]


def test_the_vsa_sdist_builds_with_the_definition_it_carries(tmp_path):
    ws = load_workspace(ROOT)
    staged = stage(ws.root, ws.components['vsa'], tmp_path / 'vsa', 1_700_000_000)
    assert (staged / 'kernel_build.py').read_bytes() == Path(kernel_build.__file__).read_bytes()
    # outside the workspace, setup.py can only use the copy it carries (and the kernels it carries)
    proc = subprocess.run([sys.executable, 'setup.py', '--name'], cwd=staged, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == 'embeddenator-vsa'
