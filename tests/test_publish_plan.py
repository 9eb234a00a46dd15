"""The publish plan from plain values: what is on the index, whether its hashes match, what would be uploaded, what
would block it; and the `publish_plan` task, which builds nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from tasks.release import plan
from tasks.release.plan import Package, plan_rows
from tasks.release.preflight import Gate

IO = Package('io', 'embeddenator-io', '0.2.0', 0, (), 'embeddenator-io-v0.2.0')
VSA = Package('vsa', 'embeddenator-vsa', '0.3.0', 1, ('io',), 'embeddenator-vsa-v0.3.0')
CLI = Package('cli', 'embeddenator-cli', '0.1.0', 2, ('vsa',), 'embeddenator-cli-v0.1.0')
FILES = {'io': {'embeddenator_io-0.2.0.tar.gz': 'a1', 'embeddenator_io-0.2.0-py3-none-any.whl': 'a2'},
         'vsa': {'embeddenator_vsa-0.3.0.tar.gz': 'b1',
                 'embeddenator_vsa-0.3.0-cp311-cp311-linux_x86_64.whl': 'b2'},
         'cli': {'embeddenator_cli-0.1.0.tar.gz': 'c1', 'embeddenator_cli-0.1.0-py3-none-any.whl': 'c2'}}
PASSED = [Gate('tests', 'pass', '10 passed', 'reports/tests/summary.json'),
          Gate('bench', 'not run', 'not run: no gate.json yet', 'reports/bench/gate.json')]
CHECKLISTS = {name: ('pass', '12/12 checks hold') for name in FILES}


def _rows(built=FILES, served=None, tags=(), gates=PASSED, checklists=CHECKLISTS):
    return {r['component']: r for r in plan_rows([IO, VSA, CLI], built, served or {}, tags, gates, checklists)}


def test_a_first_release_uploads_every_built_file_in_publish_order():
    rows = plan_rows([IO, VSA, CLI], FILES, {}, (), PASSED, CHECKLISTS)
    assert [r['component'] for r in rows] == ['io', 'vsa', 'cli']
    for row in rows:
        assert row['action'] == 'upload' and not row['on_index'] and row['hashes'] == '-'
        assert row['upload'] == sorted(FILES[row['component']]) and row['blocking'] is None


def test_a_resumed_release_uploads_only_what_the_index_lacks():
    served = {'io': dict(FILES['io']), 'vsa': {'embeddenator_vsa-0.3.0.tar.gz': 'b1'}}
    rows = _rows(served=served, tags=['embeddenator-io-v0.2.0'])
    assert rows['io']['action'] == 'already published' and rows['io']['hashes'] == 'match'
    assert rows['io']['upload'] == []
    assert rows['vsa']['on_index'] and rows['vsa']['hashes'] == 'match'
    assert rows['vsa']['upload'] == ['embeddenator_vsa-0.3.0-cp311-cp311-linux_x86_64.whl']
    assert rows['cli']['action'] == 'upload'


def test_uploaded_but_not_tagged_is_a_tag_only_step():
    rows = _rows(served={'io': dict(FILES['io'])})
    assert rows['io']['action'] == 'tag only' and rows['io']['upload'] == []


def test_other_versions_on_the_index_do_not_count():
    served = {'io': {'embeddenator_io-0.1.0.tar.gz': 'old', 'embeddenator_io-0.1.0-py3-none-any.whl': 'old'}}
    row = _rows(served=served)['io']
    assert not row['on_index'] and row['action'] == 'upload' and row['served'] == []


def test_other_content_under_the_same_version_blocks_it_and_what_depends_on_it():
    served = {'io': {**FILES['io'], 'embeddenator_io-0.2.0-py3-none-any.whl': 'other'}}
    rows = _rows(served=served)
    assert rows['io']['hashes'] == 'differ: embeddenator_io-0.2.0-py3-none-any.whl'
    assert rows['io']['action'] == 'blocked' and 'immutable' in rows['io']['blocking']
    assert rows['vsa']['blocking'] == 'waits for io, which would not publish' and rows['vsa']['upload'] == []
    assert rows['cli']['blocking'] == 'waits for vsa, which would not publish'
    assert rows['vsa']['would_upload'] == sorted(FILES['vsa'])


def test_a_failed_gate_blocks_what_is_left_to_do_but_not_what_is_published():
    gates = [*PASSED, Gate('audit', 'fail', '2 findings', 'reports/audit/audit.json')]
    rows = _rows(served={'io': dict(FILES['io'])}, tags=['embeddenator-io-v0.2.0'], gates=gates)
    assert rows['io']['action'] == 'already published' and rows['io']['blocking'] is None
    assert rows['vsa']['action'] == 'blocked' and rows['vsa']['blocking'] == 'gate audit: 2 findings'


def test_a_failed_checklist_blocks_its_package():
    rows = _rows(checklists={**CHECKLISTS, 'vsa': ('fail', '11/12 checks hold; failing: lint (flake8)')})
    assert rows['io']['action'] == 'upload'
    assert rows['vsa']['blocking'] == 'package checklist: 11/12 checks hold; failing: lint (flake8)'
    assert rows['cli']['action'] == 'blocked'


def test_nothing_built_is_said_so_and_nothing_is_compared():
    rows = _rows(built={}, served={'io': dict(FILES['io'])}, tags=['embeddenator-io-v0.2.0'])
    assert rows['io']['action'] == 'already published' and rows['io']['hashes'] == 'not compared (not built here)'
    assert rows['vsa']['action'] == 'not built' and rows['vsa']['upload'] == []


def test_built_files_reads_dist_and_ignores_other_versions_and_files(tmp_path):
    (tmp_path / 'embeddenator_io-0.2.0.tar.gz').write_bytes(b'sdist')
    (tmp_path / 'embeddenator_io-0.2.0-py3-none-any.whl').write_bytes(b'wheel')
    (tmp_path / 'embeddenator_io-0.1.0-py3-none-any.whl').write_bytes(b'old')
    (tmp_path / 'embeddenator_io-0.2.0.tar.gz.cdx.json').write_text('{}')
    found = plan.built_files(tmp_path, 'embeddenator-io', '0.2.0')
    assert sorted(found) == ['embeddenator_io-0.2.0-py3-none-any.whl', 'embeddenator_io-0.2.0.tar.gz']
    assert found['embeddenator_io-0.2.0.tar.gz'] == plan.sha256_file(tmp_path / 'embeddenator_io-0.2.0.tar.gz')
    assert plan.built_files(tmp_path / 'absent', 'embeddenator-io', '0.2.0') == {}


def test_the_console_table_names_each_package_and_what_blocks_it():
    rows = plan_rows([IO, VSA], FILES, {}, (), [Gate('tests', 'fail', '1 failed', 'x')], CHECKLISTS)
    text = plan.table(rows)
    assert text.splitlines()[0].split()[:2] == ['package', 'version']
    assert 'embeddenator-vsa' in text and 'gate tests: 1 failed' in text
    assert plan.summary(rows) == ('0 to upload (0 files), 0 to tag only, 0 already published, 0 not built, '
                                  '2 blocked')


@pytest.fixture
def workspace_root(monkeypatch):
    from tasks.core import config
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    config.settings.cache_clear()
    config.workspace.cache_clear()
    yield config.workspace()
    config.settings.cache_clear()
    config.workspace.cache_clear()


def test_the_plan_task_builds_nothing(workspace_root):
    from tasks.release.plan_task import task_publish_plan
    task = task_publish_plan()
    assert 'file_dep' not in task and 'task_dep' not in task and task['uptodate'] == [False]
    assert [Path(t).relative_to(workspace_root.root).as_posix() for t in task['targets']] == [
        'reports/publishing/plan.md', 'reports/publishing/plan.json']


def test_publish_dash_dash_plan_is_the_plan_alone(workspace_root):
    from tasks.release.publish import task_publish
    tasks = {t['name']: t for t in task_publish(plan=True)}
    assert set(tasks) == {None, 'plan'}
    assert 'file_dep' not in tasks['plan'] and 'task_dep' not in tasks['plan'] and 'targets' not in tasks['plan']


def test_a_publish_shows_its_plan_after_the_builds_and_before_any_upload(workspace_root):
    from tasks.release.publish import task_publish
    tasks = {t['name']: t for t in task_publish()}
    reports = [f for f in tasks['plan']['file_dep'] if f.endswith('.json')]
    assert sorted(Path(f).stem for f in reports) == sorted(workspace_root.components)
    assert tasks['plan']['task_dep'][0] == 'publish:preflight'
    # doit runs a subtask whose dependencies are ready first: only a dependency puts the plan before each upload
    for name in workspace_root.components:
        assert 'publish:plan' in tasks[name]['task_dep']


def test_an_index_that_is_down_is_one_line(workspace_root, monkeypatch):
    import dataclasses

    from doit.exceptions import TaskFailed

    from tasks.release import plan_task
    cfg = plan_task.settings()
    down = dataclasses.replace(cfg, raw=(*cfg.raw, ('index', 'corp'), ('index-upload-url', 'http://127.0.0.1:9/'),
                                         ('index-simple-url', 'http://127.0.0.1:9/simple/')))
    monkeypatch.setattr(plan_task, 'settings', lambda: down)
    monkeypatch.setenv('EMBEDDENATOR_INDEX_TOKEN', 'not-a-real-token')
    result = plan_task.write_plan()
    assert isinstance(result, TaskFailed)
    message = result.message
    assert '\n' not in message and 'publish plan: ' in message and 'unreachable' in message
    assert 'not-a-real-token' not in message
