"""A missing kernel source never breaks the graph: `doit list` works, `doit build` fails with one line naming it."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_everyday_loop import doit, make_toy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy(tmp_path):
    make_toy(tmp_path)
    ext = tmp_path / 'pyx' / '_ext.pyx'
    ext.write_text('include "parts.pxi"\n' + ext.read_text())
    (tmp_path / 'pyx' / 'parts.pxi').write_text('def part():\n    return 1\n')
    return tmp_path


def one_line_failure(proc):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and 'Traceback' not in out and 'InternalError' not in out, out
    return [line for line in out.splitlines() if 'no such file' in line]


def test_a_missing_kernel_source_leaves_list_working_and_build_names_it_and_its_manifest(toy):
    (toy / 'pyx' / '_ext.pyx').unlink()
    assert 'build' in doit(toy, 'list').stdout
    [line] = one_line_failure(doit(toy, 'build', check=False))
    assert line == ('build: pyx/_ext.pyx: no such file (a source of embeddenator.toykern._ext in '
                    'components/kern/pyproject.toml); restore it or correct the manifest')


def test_a_missing_included_file_is_named_with_the_file_that_includes_it(toy):
    (toy / 'pyx' / 'parts.pxi').unlink()
    assert 'build' in doit(toy, 'list').stdout
    [line] = one_line_failure(doit(toy, 'build', check=False))
    assert line == 'build: parts.pxi: no such file (included by pyx/_ext.pyx); restore it or correct the include'


def test_the_real_workspace_lists_its_tasks_without_its_main_kernel_source(tmp_path):
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split('\n')
    for name in filter(None, files):
        if (ROOT / name).is_file() and not name.startswith('.venv'):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    subprocess.run(['git', 'init', '-q'], cwd=tmp_path, check=True)
    (tmp_path / 'pyx' / '_kernels.pyx').unlink()
    proc = subprocess.run([sys.executable, '-m', 'doit', 'list'], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and 'build' in proc.stdout, proc.stderr
