"""`doit mutate`: what is mutated, how mutmut's results become the report, and one real run on a toy workspace."""
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tasks.test.mutate import (function_of, mutant_changes, mutated_modules, mutmut_config, read_results,
                               run_mutation, summarise)

MUTATED = '''
def x_is_major__mutmut_orig(level):
    if level is None:
        return False
    return level == 'major'


def x_is_major__mutmut_1(level):
    if level is None:
        return False
    return level != 'major'


class Workspace:
    def xǁWorkspaceǁorder__mutmut_orig(self):
        return release_order(self.deps, 'a long argument that makes the statement longer than the window')

    def xǁWorkspaceǁorder__mutmut_2(self):
        return release_order(None, 'a long argument that makes the statement longer than the window')
'''


def test_modules_are_found_by_folder_glob_or_by_name_anywhere(tmp_path):
    for name in ('core/config.py', 'release/versions.py', 'release/other.py', 'commits.py'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('x = 1\n')
    found = mutated_modules(tmp_path, ('core/*.py', 'versions.py', 'commits.py', 'absent.py'))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        'commits.py', 'core/config.py', 'release/versions.py']


def test_config_is_a_toml_table_for_the_staged_copy():
    import tomllib
    table = tomllib.loads(mutmut_config(['tasks/a.py'], ['tests/test_a.py'], ['test_slow', 'test_e2e'], 2))
    cfg = table['tool']['mutmut']
    assert cfg['only_mutate'] == ['tasks/a.py'] and cfg['pytest_add_cli_args_test_selection'] == ['tests/test_a.py']
    assert cfg['pytest_add_cli_args'][-2:] == ['-k', 'not test_slow and not test_e2e'] and cfg['max_children'] == 2


def test_a_mutant_is_named_by_its_function_and_changed_line():
    assert function_of('tasks.toy.x_is_major__mutmut_1') == 'is_major'
    assert function_of('tasks.core.workspace.xǁComponentǁlevel__mutmut_3') == 'Component.level'
    changes = mutant_changes(MUTATED, 'tasks.toy')
    assert changes == {
        'tasks.toy.x_is_major__mutmut_1': ("return level == 'major'", "return level != 'major'"),
        'tasks.toy.xǁWorkspaceǁorder__mutmut_2': (
            "return release_order(self.deps, 'a long argument that makes …",
            "return release_order(None, 'a long argument that makes …")}


def test_results_count_killed_out_of_the_non_equivalent(tmp_path):
    (tmp_path / 'tasks').mkdir()
    (tmp_path / 'tasks' / 'toy.py.meta').write_text(json.dumps({'exit_code_by_key': {
        'tasks.toy.x_is_major__mutmut_1': 0, 'tasks.toy.x_is_major__mutmut_2': 1,
        'tasks.toy.x_is_major__mutmut_3': 1, 'tasks.toy.x_is_major__mutmut_4': 33}}))
    results = read_results(tmp_path, ['tasks/toy.py', 'tasks/missing.py'])
    assert results['tasks/toy.py']['tasks.toy.x_is_major__mutmut_4'] == 'no tests' and results['tasks/missing.py'] == {}
    changes = mutant_changes(MUTATED, 'tasks.toy')
    data = summarise(results, changes, 60)
    assert (data['killed'], data['counted'], data['rate'], data['verdict']) == (2, 4, 50.0, 'fail')
    assert [s['status'] for s in data['survivors']] == ['survived', 'no tests']
    assert data['survivors'][0]['after'] == "return level != 'major'"
    judged = {('is_major', "return level == 'major'", "return level != 'major'"): 'toy: both spellings agree'}
    data = summarise(results, changes, 60, judged)
    assert (data['counted'], data['rate'], data['verdict']) == (3, 66.7, 'pass')
    assert data['equivalent'][0]['reason'] == 'toy: both spellings agree'


TOY = '''
def is_major(level):
    """Whether a bump level is the major one."""
    return level == 'major'


def unused(x):
    return x + 1
'''
TOY_TEST = '''
from tasks.toy import is_major


def test_is_major():
    assert is_major('major') is True
    assert is_major('minor') is False
'''


@pytest.mark.slow
def test_a_real_run_kills_the_tested_function_and_reports_the_untested_one(tmp_path):
    root = tmp_path / 'ws'
    (root / 'tasks').mkdir(parents=True)
    (root / 'tests').mkdir()
    (root / 'tasks' / '__init__.py').write_text('')
    (root / 'tasks' / 'toy.py').write_text(textwrap.dedent(TOY).lstrip())
    (root / 'tests' / 'test_toy.py').write_text(textwrap.dedent(TOY_TEST).lstrip())
    (root / 'pyproject.toml').write_text('')
    subprocess.run(['git', 'init', '-q', str(root)], check=True)
    subprocess.run(['git', '-C', str(root), 'add', '.'], check=True)
    report = tmp_path / 'reports' / 'mutation.md'
    failed = run_mutation(str(root), str(tmp_path / 'stage' / 'ws'), ['tasks/toy.py'], str(report), 50, 1,
                          tests=['tests/test_toy.py'], deselect=[])
    assert failed is None, failed
    data = json.loads(report.with_suffix('.json').read_text())
    assert data['killed'] == data['counted'] - len(data['survivors']) > 0
    assert {s['function'] for s in data['survivors']} == {'unused'}
    assert {s['status'] for s in data['survivors']} == {'no tests'}
    assert 'unused' in Path(report).read_text()
