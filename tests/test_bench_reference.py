"""The bench gate's reference (tasks.bench_reference): which commit is the last release, and its cached build."""
import subprocess

import pytest

from tasks.bench import reference as br

PATTERN = 'embeddenator-{name}-v{version}'


def git(root, *args):
    return subprocess.run(['git', *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def commit(root, name):
    (root / name).write_text(name, encoding='utf-8')
    git(root, 'add', name)
    git(root, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', f'feat: {name}')
    return git(root, 'rev-parse', 'HEAD')


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, 'init', '-q', '-b', 'main')
    return tmp_path


def test_the_newest_release_tag_of_a_measured_component_that_head_contains_wins(repo):
    old = commit(repo, 'a')
    git(repo, 'tag', 'embeddenator-vsa-v0.1.0')
    new = commit(repo, 'b')
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'tag', '-a', '-m', 'release', 'embeddenator-io-v0.2.0')
    commit(repo, 'c')
    git(repo, 'tag', 'embeddenator-cli-v9.0.0')       # not a measured component
    git(repo, 'checkout', '-q', '-b', 'side', old)
    commit(repo, 'd')
    git(repo, 'tag', 'embeddenator-vsa-v0.3.0')       # not contained in main's HEAD
    git(repo, 'checkout', '-q', 'main')
    ref = br.reference_commit(repo, None, PATTERN, ['vsa', 'io'])
    assert ref.commit == new and 'embeddenator-io-v0.2.0' in ref.how


def test_annotated_release_tags_alone_are_read(repo):
    # what publish leaves: every release tag annotated (a tag object has no committer date of its own)
    release = commit(repo, 'a')
    for tag in ('embeddenator-io-v0.2.0', 'embeddenator-vsa-v0.2.0'):
        git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'tag', '-a', '-m', 'release', tag)
    commit(repo, 'b')
    assert [(t, c) for t, c, _ in br.release_tags(repo, PATTERN, ['vsa', 'io'])] == [
        ('embeddenator-io-v0.2.0', release), ('embeddenator-vsa-v0.2.0', release)]
    assert br.reference_commit(repo, None, PATTERN, ['vsa', 'io']).commit == release


def test_without_a_tag_a_branch_is_compared_with_its_merge_base_and_the_default_branch_with_head_1(repo):
    first = commit(repo, 'a')
    second = commit(repo, 'b')
    ref = br.reference_commit(repo, None, PATTERN, ['vsa'])
    assert ref.commit == first and 'HEAD~1' in ref.how
    git(repo, 'checkout', '-q', '-b', 'topic')
    commit(repo, 'c')
    commit(repo, 'd')
    ref = br.reference_commit(repo, None, PATTERN, ['vsa'])
    assert ref.commit == second and 'merge-base of HEAD with main' in ref.how


def test_the_setting_names_any_revision_and_a_wrong_one_is_one_clear_error(repo):
    first = commit(repo, 'a')
    commit(repo, 'b')
    assert br.reference_commit(repo, first[:8], PATTERN, ['vsa']).commit == first
    with pytest.raises(br.ReferenceError, match='bench-reference = nosuch: no such commit'):
        br.reference_commit(repo, 'nosuch', PATTERN, ['vsa'])


def test_a_single_commit_is_its_own_reference_and_says_so(repo):
    only = commit(repo, 'a')
    ref = br.reference_commit(repo, None, PATTERN, ['vsa'])
    assert ref.commit == only and 'HEAD itself' in ref.how


def test_the_reference_build_is_cached_by_commit_and_compiler_and_leaves_no_worktree(repo, tmp_path, monkeypatch):
    sha = commit(repo, 'a')
    calls = []

    def fake_compile(cmd, *args, **kwargs):
        calls.append(cmd)
        snapshot = cmd[cmd.index('tasks.bench.reference') + 2]
        subprocess.run(['mkdir', '-p', snapshot], check=True)
        return subprocess.CompletedProcess(cmd, 0, '', '')
    monkeypatch.setattr(br, 'run_with_heartbeat', fake_compile)
    ref = br.Reference(sha, 'test')
    first = br.build_reference(repo, ref, tmp_path / 'cache', ['vsa'])
    again = br.build_reference(repo, ref, tmp_path / 'cache', ['vsa'])
    assert first == again and len(calls) == 1 and first.name == 'snapshot'
    assert first.parent.name.startswith(sha[:12]) and not (first.parent / 'worktree').exists()
    assert 'worktree' not in git(repo, 'worktree', 'list')
