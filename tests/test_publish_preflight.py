"""Preflight: gate verdicts (missing = not run, never passed), the tagger identity, the clean-tree check."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest

from tasks.release import preflight, tagging
from test_publish_support import git_repo

ROOT = Path(__file__).resolve().parents[1]

JUNIT = '<testsuites><testsuite tests="{t}" failures="{f}" errors="0" skipped="1"/></testsuites>'


def test_missing_gates_are_reported_as_not_run(tmp_path):
    gates = preflight.read_gates(tmp_path)
    assert [g.name for g in gates] == ['tests', 'integration', 'audit', 'bench']
    assert {g.status for g in gates} == {preflight.NOT_RUN}
    assert preflight.blocking(gates) == []


def test_verdicts_are_read_from_json_and_junit(tmp_path):
    (tmp_path / 'audit').mkdir()
    (tmp_path / 'audit' / 'audit.json').write_text(json.dumps({'verdict': 'fail', 'summary': '2 findings'}))
    (tmp_path / 'bench').mkdir()
    (tmp_path / 'bench' / 'gate.json').write_text(json.dumps({'verdict': 'pass', 'summary': 'no regression'}))
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'tests' / 'integration.xml').write_text(JUNIT.format(t=9, f=0))
    (tmp_path / 'tests' / 'summary.json').write_text('{"summary": "no verdict"}')
    gates = {g.name: g for g in preflight.read_gates(tmp_path)}
    assert gates['audit'].status == 'fail' and gates['audit'].summary == '2 findings'
    assert gates['bench'].status == 'pass'
    assert gates['integration'].status == 'pass' and '9 tests' in gates['integration'].summary
    assert gates['tests'].status == 'fail'          # unreadable is never taken for a pass
    assert {g.name for g in preflight.blocking(gates.values())} == {'audit', 'tests'}
    (tmp_path / 'tests' / 'integration.xml').write_text(JUNIT.format(t=9, f=1))
    assert preflight.read_gate('integration', [tmp_path / 'tests' / 'integration.xml']).status == 'fail'


def test_gate_tasks_do_not_depend_on_which_dodo_file_doit_loaded(monkeypatch):
    """The graph is the plugin's, not the loader's: `doit -f other_dodo.py` builds the same one."""
    import types
    dodo = types.ModuleType('dodo')
    dodo.task_test = dodo.task_bench = lambda: None
    monkeypatch.setitem(sys.modules, 'dodo', dodo)
    assert preflight.gate_tasks() == ['test', 'integration', 'audit', 'bench']
    monkeypatch.delitem(sys.modules, 'dodo')
    assert preflight.gate_tasks() == ['test', 'integration', 'audit', 'bench']
    assert preflight.gate_tasks(enabled=False) == []


def _task_deps(*doit_args: str) -> list[str]:
    out = subprocess.run([sys.executable, '-m', 'doit', *doit_args, 'info', 'publish:vsa'], cwd=ROOT,
                         capture_output=True, text=True).stdout   # exits 1: the task is not up to date
    block = out.split('task_dep', 1)[1].split('\n\n', 1)[0]
    return [line.strip(' -') for line in block.splitlines()[1:] if line.strip()]


def test_publish_builds_the_same_graph_under_another_dodo_file_name(tmp_path):
    other = tmp_path / 'other_dodo.py'
    shutil.copy(ROOT / 'dodo.py', other)
    usual = _task_deps()
    assert {'test', 'integration', 'audit', 'bench', 'apidocs:vsa'} <= set(usual)
    assert _task_deps('-f', str(other), '-d', str(ROOT)) == usual


@pytest.fixture
def no_global_git(tmp_path, monkeypatch):
    """A machine where git knows nobody: no global or system identity."""
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.setenv('XDG_CONFIG_HOME', str(home / '.config'))
    monkeypatch.setenv('GIT_CONFIG_NOSYSTEM', '1')
    monkeypatch.setattr(git.GitConfigParser, '_get_system_config_file', lambda *a: '/nonexistent', raising=False)


def test_without_identity_the_fallback_signs_the_tag(tmp_path, no_global_git):
    repo = git_repo(tmp_path / 'repo')
    if git.Repo(repo).config_reader().get_value('user', 'name', default=''):
        pytest.skip('this machine has a system-wide git identity')
    with pytest.raises(tagging.TagError, match='git config user.name'):
        tagging.tagger_identity(repo, None)
    identity = tagging.tagger_identity(repo, 'Release Bot <bot@example.invalid>')
    assert identity == tagging.Identity('Release Bot', 'bot@example.invalid', False)
    tagging.create_tag(repo, 'embeddenator-x-v1.0.0', 'x 1.0.0', identity)
    tag = git.Repo(repo).tags['embeddenator-x-v1.0.0'].tag
    assert tag.tagger.email == 'bot@example.invalid'


def test_a_configured_identity_wins(tmp_path, no_global_git):
    repo = git_repo(tmp_path / 'repo')
    with git.Repo(repo).config_writer() as cfg:
        cfg.set_value('user', 'name', 'Maintainer')
        cfg.set_value('user', 'email', 'm@example.invalid')
    assert tagging.tagger_identity(repo, 'Bot <b@x.invalid>').configured


def test_dirty_paths_lists_changes_and_untracked_files(tmp_path):
    repo = git_repo(tmp_path / 'repo')
    assert tagging.dirty_paths(repo) == []
    (repo / 'README.md').write_text('changed\n')
    (repo / 'new.txt').write_text('new\n')
    assert sorted(tagging.dirty_paths(repo)) == ['README.md', 'new.txt']


def test_dirty_paths_are_verbatim_for_odd_names_and_renames(tmp_path):
    repo = git_repo(tmp_path / 'repo')
    git.Repo(repo).git.mv('README.md', 'read me "é".md')
    (repo / 'ünïcode name.txt').write_text('new\n')
    assert sorted(tagging.dirty_paths(repo)) == ['read me "é".md', 'ünïcode name.txt']


def test_a_publish_warning_is_printed_once_per_run_however_many_packages_meet_it(capsys):
    from tasks.release.publish import warn_once
    warn_once(['7 changed paths outside (test)', 'first (test)'])
    warn_once(['7 changed paths outside (test)'])
    warn_once(['7 changed paths outside (test)', 'second (test)'])
    assert capsys.readouterr().err.splitlines() == [
        'publish: warning: 7 changed paths outside (test)', 'publish: warning: first (test)',
        'publish: warning: second (test)']
