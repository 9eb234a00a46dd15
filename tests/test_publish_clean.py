"""After `doit publish`, only changelogs may differ from the commit, and `doit clean` leaves nothing generated but
doit's state and the local index's storage; `doit clean publish` removes that too (the issue's done-when)."""
from __future__ import annotations

import subprocess

import pytest

from test_publish_e2e import _copy_workspace, _doit, _git

pytestmark = pytest.mark.slow


def _status(root, *args) -> list[str]:
    out = subprocess.run(['git', 'status', '--porcelain', *args], cwd=root, capture_output=True, text=True,
                         check=True).stdout
    return sorted(out.splitlines())


def test_publish_then_clean_leaves_only_doits_state_and_the_index(tmp_path):
    root = _copy_workspace(tmp_path / 'ws')
    _git(root, 'init', '-q')
    _git(root, 'add', '.')
    _git(root, 'commit', '-q', '-m', 'feat: the workspace')
    _doit(root, 'changelog')
    _git(root, 'add', '.')
    _git(root, 'commit', '-q', '--allow-empty', '-m', 'docs: changelogs')
    _doit(root, 'publish')
    changed = [line for line in _status(root) if not line.startswith('!!')]
    assert all(line.endswith('CHANGELOG.md') for line in changed), changed
    assert any(line.startswith('!! dist/') for line in _status(root, '--ignored'))
    _doit(root, 'clean')
    assert [line for line in _status(root, '--ignored') if line.startswith('!!')] == ['!! .doit.json', '!! .registry/']
    _doit(root, 'clean', 'publish')
    assert [line for line in _status(root, '--ignored') if line.startswith('!!')] == ['!! .doit.json']
