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
    assert tasks[None]['doc'] and set(ws.components) | {None, 'report'} == set(tasks)
    for name, comp in ws.components.items():
        task = tasks[name]
        deps = {d for d in task['task_dep'] if d.startswith('publish:')}
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
