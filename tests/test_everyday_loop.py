"""The everyday `doit` loop on a small temporary workspace: incremental, exact, parallel-safe, clean.

The toy has three components (`base`, `kern` with a compiled Cython extension, `app` depending on both), so
the same rules the real workspace relies on are proved without compiling the real kernels.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DODO = '''\
from tasks import DOIT_CONFIG  # noqa: F401
from tasks.compile.build import task_build  # noqa: F401
from tasks.test.test import task_integration, task_test  # noqa: F401
'''
CONFTEST = '''\
import sys
from pathlib import Path

for src in sorted(Path(__file__).parent.glob('components/*/src')):
    sys.path.insert(0, str(src))
'''


def _component(root: Path, name: str, deps=(), tool='', test='assert True'):
    folder = root / 'components' / name
    (folder / 'src' / 'embeddenator' / f'toy{name}').mkdir(parents=True)
    (folder / 'tests').mkdir()
    reqs = ', '.join(f'"embeddenator-{d}>=0.1"' for d in deps)
    (folder / 'pyproject.toml').write_text(
        f'[project]\nname = "embeddenator-{name}"\nversion = "0.1.0"\ndependencies = [{reqs}]\n{tool}')
    (folder / 'src' / 'embeddenator' / f'toy{name}' / '__init__.py').write_text(f'NAME = {name!r}\n')
    (folder / 'tests' / f'test_{name}.py').write_text(f'def test_{name}():\n    {test}\n')


def make_toy(root: Path):
    """A workspace with the real plugin and three toy components; names deliberately not the real ones."""
    (root / 'dodo.py').write_text(DODO)
    (root / 'conftest.py').write_text(CONFTEST)
    (root / 'setup.cfg').write_text('[tool:pytest]\naddopts = -ra\n')  # makes the toy root pytest's rootdir
    (root / 'pyx').mkdir()
    (root / 'pyx' / 'ext.h').write_text('/* answer */\nstatic inline int ext_answer(void) { return 42; }\n')
    (root / 'pyx' / 'decl.pxd').write_text('cdef extern from "ext.h" nogil:\n    int ext_answer()\n')
    (root / 'pyx' / '_ext.pyx').write_text('from decl cimport ext_answer\n\ndef answer():\n    return ext_answer()\n')
    _component(root, 'base')
    _component(root, 'kern', tool=textwrap.dedent('''
        [tool.embeddenator]
        paths = ["pyx"]
        [tool.embeddenator.cython-directives]
        language_level = 3
        [[tool.embeddenator.extensions]]
        name = "embeddenator.toykern._ext"
        sources = ["pyx/_ext.pyx"]
        include_dirs = ["pyx"]
        '''), test='from embeddenator.toykern._ext import answer; assert answer() == 42')
    _component(root, 'app', deps=['kern', 'base'],
               test='from embeddenator.toykern._ext import answer; import embeddenator.toybase; assert answer()')
    (root / 'tests' / 'integration').mkdir(parents=True)
    (root / 'tests' / 'integration' / 'test_all.py').write_text(
        'def test_all():\n    import embeddenator.toyapp, embeddenator.toykern._ext\n')


def doit(root: Path, *args: str, check=True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != 'EMBEDDENATOR_DEBUG'}
    proc = subprocess.run([sys.executable, '-m', 'doit', *args], cwd=root, capture_output=True, text=True, env=env)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def executed(proc: subprocess.CompletedProcess) -> set[str]:
    """Task names doit ran (`.  name`), leaving out the group tasks, which have no actions."""
    return {m for m in re.findall(r'^\.  (\S+)$', proc.stdout, re.M) if ':' in m or m == 'integration'}


def edit(path: Path, old: str, new: str):
    path.write_text(path.read_text().replace(old, new))


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy')
    make_toy(root)
    first = doit(root)
    assert executed(first) == {'build:kern', 'test:base', 'test:kern', 'test:app', 'integration', 'test:summary'}
    return root


def test_second_run_executes_nothing(toy):
    assert executed(doit(toy)) == set()


def test_every_task_has_help(toy):
    listing = doit(toy, 'list', '--all').stdout
    for line in listing.strip().splitlines():
        assert len(line.split(None, 1)) == 2, f'no doc line for {line!r}'


def test_editing_a_kernel_rebuilds_and_retests_exactly_its_dependents(toy):
    edit(toy / 'pyx' / 'ext.h', '/* answer */', '/* the answer */')
    assert executed(doit(toy)) == {'build:kern', 'test:kern', 'test:app', 'integration', 'test:summary'}
    assert executed(doit(toy)) == set()


def test_editing_a_pure_component_retests_it_and_its_dependents_without_building(toy):
    edit(toy / 'components' / 'base' / 'src' / 'embeddenator' / 'toybase' / '__init__.py', "'base'", "'base2'")
    assert executed(doit(toy)) == {'test:base', 'test:app', 'integration', 'test:summary'}


def test_a_failing_test_fails_the_run_and_says_which(toy):
    test = toy / 'components' / 'base' / 'tests' / 'test_base.py'
    edit(test, 'assert True', 'assert False')
    proc = doit(toy, 'test:base', check=False)
    assert proc.returncode != 0
    # the run ends with the failing test's id and the report's path, not an action's repr
    edit(test, 'assert False', 'assert True')
    last = [line for line in proc.stdout.splitlines() if line.strip()][-1]
    report = toy / 'reports' / 'tests' / 'base.xml'
    assert last == f'test:base: tests failed: components/base/tests/test_base.py::test_base; see {report}'
    assert 'returned False' not in proc.stdout + proc.stderr


def test_a_component_without_tests_is_not_a_silent_pass(toy):
    test = toy / 'components' / 'base' / 'tests' / 'test_base.py'
    saved = test.read_text()
    test.unlink()
    try:
        proc = doit(toy, 'test:base', check=False)
        assert proc.returncode != 0
        assert 'test:base: no tests collected in' in proc.stdout
    finally:
        test.write_text(saved)


def test_clean_then_parallel_run_rebuilds_the_same_outputs(toy):
    built = sorted(p.relative_to(toy) for p in toy.glob('components/*/src/embeddenator/*/*.so'))
    assert built
    doit(toy, 'clean')
    assert not list(toy.glob('components/*/src/embeddenator/*/*.so'))
    assert not list((toy / 'reports' / 'tests').glob('*.xml'))
    assert not (toy / 'build' / 'kern').exists()
    proc = doit(toy, '-n', '2')
    assert executed(proc) == {'build:kern', 'test:base', 'test:kern', 'test:app', 'integration', 'test:summary'}
    assert sorted(p.relative_to(toy) for p in toy.glob('components/*/src/embeddenator/*/*.so')) == built
    assert len(list((toy / 'reports' / 'tests').glob('*.xml'))) == 4


def test_a_cycle_stops_doit_list_with_one_line_naming_the_file(toy, tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(toy, copy, ignore=shutil.ignore_patterns('build', '*.so', 'reports', '.doit*'))
    edit(copy / 'components' / 'base' / 'pyproject.toml', 'dependencies = []',
         'dependencies = ["embeddenator-app>=0.1"]')
    proc = doit(copy, 'list', check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        'ERROR: components/app/pyproject.toml: [project] dependencies form a cycle '
        '(app -> base -> app); remove one of these dependencies']


def test_a_cycle_in_a_copy_of_the_real_manifests(tmp_path):
    for manifest in ROOT.glob('components/*/pyproject.toml'):
        target = tmp_path / manifest.relative_to(ROOT)
        target.parent.mkdir(parents=True)
        shutil.copy(manifest, target)
    (tmp_path / 'dodo.py').write_text(DODO)
    edit(tmp_path / 'components' / 'io' / 'pyproject.toml', 'dependencies = [',
         'dependencies = [\n    "embeddenator-cli>=0.2.0,<0.3",')
    proc = doit(tmp_path, 'list', check=False)
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr
    assert re.fullmatch(r'ERROR: components/\w+/pyproject.toml: \[project\] dependencies form a cycle \(.*io.*\); '
                        r'remove one of these dependencies\n', proc.stderr)
