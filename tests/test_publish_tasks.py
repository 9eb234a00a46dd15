"""The publish task graph: one subtask per component, each after the publish of everything it depends on."""
from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core import config
from tasks.release.publish import release_paths, task_publish

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workspace_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    config.settings.cache_clear()
    config.workspace.cache_clear()
    yield config.workspace()
    config.settings.cache_clear()
    config.workspace.cache_clear()


@pytest.mark.parametrize('dry_run', [False, True])
def test_each_component_waits_for_its_dependencies(workspace_root, dry_run):
    ws = workspace_root
    tasks = {t['name']: t for t in task_publish(dry_run=dry_run)}
    assert tasks[None]['doc'] and set(ws.components) | {None, 'preflight', 'plan', 'report'} == set(tasks)
    assert tasks['preflight']['actions'][0][1] == [dry_run] and 'task_dep' not in tasks['preflight']
    for name, comp in ws.components.items():
        task = tasks[name]
        assert task['task_dep'][0] == 'publish:preflight'   # before the gates: doit runs task_dep in order
        deps = {d for d in task['task_dep'][1:] if d.startswith('publish:') and d != 'publish:plan'}
        assert deps == {f'publish:{d}' for d in comp.deps}
        assert any(f.endswith(f'package/{name}.json') for f in task['file_dep'])
        (action, args), = task['actions']
        assert args[:2] == [name, dry_run]
        assert task['uptodate'] == [False]
    assert set(tasks['report']['task_dep']) == {f'publish:{n}' for n in ws.components}
    out = 'publishing/dry-run/' if dry_run else 'publishing/publish'
    assert any(out in t for t in tasks['report']['targets'])


def test_only_changes_to_released_files_block_a_release(workspace_root):
    vsa = next(c for c in workspace_root.components.values() if c.extensions)
    own = vsa.root.relative_to(workspace_root.root).as_posix()
    shared = next(p for p in vsa.paths if p != own)             # vsa's kernels live outside its folder
    inside = [f'{own}/src/x.py', f'{shared}/kernel.h', f'{own}/pyproject.toml']
    outside = [f'{own}/CHANGELOG.md', 'benchmarks/baselines.json', 'README.md', f'{own}x/file']
    assert release_paths(inside + outside) == inside


def _gate_ran(path):
    Path(path).write_text('ran\n')


@pytest.mark.parametrize('target', ['publish', 'publish:vsa'])
def test_a_missing_token_stops_publish_before_any_gate_runs(workspace_root, monkeypatch, tmp_path, target):
    import dataclasses
    import sys
    import types

    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    from tasks.release import publish, registry
    marker = tmp_path / 'gate-ran'
    dodo = types.ModuleType('dodo')
    # publish's graph is the plugin's whatever dodo file is loaded: every gate and apidocs must exist
    for gate in ('test', 'integration', 'audit', 'bench'):
        setattr(dodo, f'task_{gate}', lambda: {'actions': [(_gate_ran, [marker])], 'uptodate': [False]})
    dodo.task_apidocs = lambda: ({'name': n, 'actions': [(_gate_ran, [marker])]} for n in workspace_root.components)
    dodo.task_publish = task_publish
    dodo.DOIT_CONFIG = {'backend': 'json', 'dep_file': str(tmp_path / '.doit.json'), 'verbosity': 2}
    monkeypatch.setitem(sys.modules, 'dodo', dodo)
    cfg = config.settings()
    corp = dataclasses.replace(cfg, raw=(*cfg.raw, ('index', 'corp'), ('index-upload-url', 'http://127.0.0.1:9/'),
                                         ('index-simple-url', 'http://127.0.0.1:9/simple/')))
    monkeypatch.setattr(publish, 'settings', lambda: corp)
    monkeypatch.setattr(registry, '_keyring_token', lambda url, user: None)
    monkeypatch.delenv('EMBEDDENATOR_INDEX_TOKEN', raising=False)
    status = DoitMain(ModuleTaskLoader(vars(dodo))).run(['--output-file', str(tmp_path / 'out.txt'), target])
    out = (tmp_path / 'out.txt').read_text()
    assert status != 0 and not marker.exists(), out
    assert 'publish preflight: index corp: no token to upload with; export EMBEDDENATOR_INDEX_TOKEN' in out
