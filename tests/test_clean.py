"""`doit clean` means clean: after a run, only doit's state, virtual environments and the local index's storage
stay among the ignored (generated) paths; README lists exactly these."""
import re
import shutil
import subprocess
from pathlib import Path

from test_everyday_loop import doit, make_toy

from tasks.core import clean

ROOT = Path(__file__).resolve().parents[1]
KEPT = ['.doit.json', '.registry/', '.venv/']


def ignored(root):
    out = subprocess.run(['git', 'status', '--porcelain', '--ignored'], cwd=root, capture_output=True, text=True,
                         check=True).stdout
    return sorted(line[3:] for line in out.splitlines() if line.startswith('!! '))


def test_doit_clean_leaves_only_its_state_the_venv_and_the_index_storage(tmp_path):
    make_toy(tmp_path)
    shutil.copy(ROOT / '.gitignore', tmp_path / '.gitignore')
    shutil.copy(ROOT / 'pyproject.toml', tmp_path / 'pyproject.toml')
    subprocess.run(['git', 'init', '-q'], cwd=tmp_path, check=True)
    doit(tmp_path)
    # what the other stages and the tools leave behind (packages, docs, reports, the index, Cython's C, a venv)
    for rel in ('dist/kern/x.whl', 'docs/api/kern/index.html', 'reports/publishing/publish.md', 'pyx/_ext.c',
                '.registry/packages/x.whl', '.venv/pyvenv.cfg', 'build/bench/reference/x', '.pytest_cache/x'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text('x')
    assert len(ignored(tmp_path)) > 8
    doit(tmp_path, 'clean')
    assert ignored(tmp_path) == KEPT


def test_the_readme_lists_exactly_what_doit_clean_keeps():
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    section = readme.split('`doit clean` keeps')[1].split('\n\n')[0]
    named = set(re.findall(r'`([^`]+)`', section))
    assert {'.doit.json', '.registry/', 'doit clean publish'} <= named, section
    assert 'virtual environment' in section


def test_kept_paths_are_the_state_venvs_and_the_registry(tmp_path):
    (tmp_path / 'env').mkdir()
    (tmp_path / 'env' / 'pyvenv.cfg').write_text('')
    assert clean.kept('.doit.json', tmp_path, '.registry') and clean.kept('.doit.json.db', tmp_path, '.registry')
    assert clean.kept('env/', tmp_path, '.registry') and clean.kept('.registry/', tmp_path, '.registry')
    assert not clean.kept('build/', tmp_path, '.registry') and not clean.kept('pyx/_kernels.c', tmp_path, '.reg')
