"""Changelogs, release notes and bumps on real temporary git repositories (a two-component toy workspace).

`io` owns components/io; `vsa` owns components/vsa and, through its manifest, pyx/. Every repository sets its
own identity and dates, so nothing depends on the machine's git configuration or clock.
"""
import os
import subprocess
import sys
from pathlib import Path

import git
import pytest

from tasks.release.bump import BumpError, manifest_edits, parse_levels
from tasks.release.changelog import DRAFT_MARK, Section, merge, render_changelog, sections, split, update_changelog
from tasks.release.history import (DEFAULT_TAG_PATTERN, HistoryError, commits, component_history, head_date,
                                   last_releases, open_repo, tag_name, tag_version)
from tasks.release.release_notes import notes_row, release_notes
from tasks.core.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]
PATTERN = DEFAULT_TAG_PATTERN


class Toy:
    """A toy workspace in its own repository; every commit one second after the previous one, from a fixed day."""

    def __init__(self, root: Path):
        self.root, self.clock = root, 1_780_000_000   # 2026-05-28
        self.repo = git.Repo.init(root, initial_branch='main')
        with self.repo.config_writer() as cfg:
            cfg.set_value('user', 'name', 'Toy Tester')
            cfg.set_value('user', 'email', 'toy@example.org')
            cfg.set_value('commit', 'gpgsign', 'false')
            cfg.set_value('tag', 'gpgsign', 'false')
        self.manifest('io', '0.1.0')
        self.manifest('vsa', '0.1.0', deps=['io'], tool='[tool.embeddenator]\npaths = ["pyx"]\n')

    def manifest(self, name, version, deps=(), tool=''):
        reqs = ', '.join(f'"embeddenator-{d}>=0.1.0,<0.2"' for d in deps)
        self.write(f'components/{name}/pyproject.toml',
                   f'[project]\nname = "embeddenator-{name}"\nversion = "{version}"\n'
                   f'dependencies = [{reqs}]\n{tool}')

    def set_version(self, name, version):
        path = self.root / 'components' / name / 'pyproject.toml'
        text = path.read_text()
        path.write_text(text.replace(f'version = "{self.ws().components[name].version}"', f'version = "{version}"'))

    def write(self, rel, text):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding='utf-8')

    def env(self, days=0):
        self.clock += 1 + days * 86400
        stamp = f'{self.clock} +0000'
        return {**os.environ, 'GIT_AUTHOR_DATE': stamp, 'GIT_COMMITTER_DATE': stamp}

    def commit(self, message, *files, days=0):
        for rel in files:
            self.write(rel, f'{rel} {self.clock}\n')
        self.repo.git.add('-A')
        self.repo.git.commit('-q', '--allow-empty', '-m', message, env=self.env(days))
        return self.repo.head.commit.hexsha

    def tag(self, name, version, days=0):
        self.repo.git.tag('-a', tag_name(PATTERN, name, version), '-m', 'release', env=self.env(days))

    def ws(self):
        return load_workspace(self.root)

    def changelog(self, name, url=None):
        """Write and return the component's CHANGELOG.md, as the task does."""
        ws = self.ws()
        text = update_changelog(ws, open_repo(self.root), ws.components[name], PATTERN, url)
        (ws.components[name].root / 'CHANGELOG.md').write_text(text, encoding='utf-8', newline='')
        return text


@pytest.fixture
def toy(tmp_path):
    t = Toy(tmp_path)
    t.commit('chore: workspace skeleton')
    return t


def test_first_release_without_a_tag_lists_everything_under_the_manifest_version(toy):
    toy.commit('feat(vsa): bundle', 'components/vsa/src/a.py')
    toy.commit('perf: popcount kernel', 'pyx/popcount.h')
    text = toy.changelog('vsa')
    assert text.startswith('# Changelog: embeddenator-vsa\n')
    assert '## [0.1.0] - 2026-05-28\n' in text and DRAFT_MARK in text
    assert '### Added\n\n- bundle (' in text          # the scope naming the component itself is left out
    assert '### Performance\n\n- popcount kernel (' in text
    assert 'skeleton' not in text                     # chore: internal, not listed
    assert text.endswith(')\n') and not text.endswith('\n\n')


def test_path_filtering_keeps_each_commit_in_its_own_components(toy):
    toy.commit('fix(io): checksum of empty payloads', 'components/io/src/io.py')
    toy.commit('feat(vsa): permute', 'components/vsa/src/p.py')
    toy.commit('docs: both', 'components/io/README.md', 'pyx/README.md')
    vsa, io = toy.changelog('vsa'), toy.changelog('io')
    assert 'checksum' not in vsa and 'permute' in vsa and 'both' in vsa
    assert 'checksum' in io and 'permute' not in io and 'both' in io


def test_breaking_changes_come_first_with_their_footer(toy):
    toy.commit('feat(vsa): new dot', 'components/vsa/a.py')
    toy.commit('refactor(vsa)!: packed layout v2', 'components/vsa/b.py')
    toy.commit('fix: cosine of zero vectors\n\nBREAKING CHANGE: cosine now returns 0.0, not NaN',
               'components/vsa/c.py')
    text = toy.changelog('vsa')
    breaking = text.index('### Breaking changes')
    assert breaking < text.index('### Added')
    assert '- packed layout v2 (' in text[breaking:text.index('### Added')]
    assert '- cosine of zero vectors (' in text and '  cosine now returns 0.0, not NaN\n' in text


def test_non_conventional_and_unicode_messages_go_under_other(toy):
    toy.commit('Ünïcode ✓ 漢字: not conventional at all', 'components/io/u.py')
    toy.commit('quick fix', 'components/io/v.py')
    text = toy.changelog('io')
    other = text[text.index('### Other'):]
    assert '- Ünïcode ✓ 漢字: not conventional at all (' in other and '- quick fix (' in other


def test_merge_commits_are_skipped_and_their_branch_commits_kept(toy):
    toy.repo.git.checkout('-q', '-b', 'topic')
    toy.commit('feat(io): from the branch', 'components/io/b.py')
    toy.repo.git.checkout('-q', 'main')
    toy.commit('fix(io): on main', 'components/io/m.py')
    toy.repo.git.merge('--no-ff', '-q', '-m', 'Merge branch topic', 'topic', env=toy.env())
    text = toy.changelog('io')
    assert 'from the branch' in text and 'on main' in text and 'Merge' not in text


def test_release_then_unreleased_then_next_version(toy):
    toy.commit('feat(io): reader', 'components/io/r.py')
    toy.tag('io', '0.1.0', days=2)                   # tagged two days after the commit
    released = toy.changelog('io')
    assert '## [0.1.0] - 2026-05-30\n' in released and DRAFT_MARK not in released
    toy.commit('fix(io): reader leak', 'components/io/r.py', days=5)
    unreleased = toy.changelog('io')
    assert unreleased.index('## [Unreleased]') < unreleased.index('## [0.1.0]')
    assert 'reader leak' in unreleased.split('## [0.1.0]')[0]
    assert 'reader leak' not in unreleased.split('## [0.1.0]')[1]
    toy.set_version('io', '0.1.1')
    toy.commit('chore(io): release 0.1.1')
    prepared = toy.changelog('io')
    assert '[Unreleased]' not in prepared and '## [0.1.1] - 2026-06-04\n' in prepared
    toy.tag('io', '0.1.1', days=1)
    final = toy.changelog('io')
    assert '## [0.1.1] - 2026-06-05\n' in final and DRAFT_MARK not in final


def test_update_mode_keeps_hand_edits_byte_for_byte(toy):
    toy.commit('feat(io): reader', 'components/io/r.py')
    toy.tag('io', '0.1.0')
    text = toy.changelog('io')
    head, chunks = split(text)
    edited_head = head.replace('All notable', 'Hand-written intro.\r\nAll notable')
    edited = edited_head + chunks[0].replace('- reader (', '- reader, with a hand note ✎ (') + 'trailing  \n'
    (toy.root / 'components/io/CHANGELOG.md').write_text(edited, encoding='utf-8', newline='')
    toy.commit('feat(io): writer', 'components/io/w.py')
    toy.set_version('io', '0.2.0')
    toy.commit('chore(io): release 0.2.0')
    toy.tag('io', '0.2.0')
    new = toy.changelog('io')
    assert new.startswith(edited_head)                        # the top is kept, \r\n included
    assert new.endswith(edited[len(edited_head):])            # so is the edited 0.1.0 section
    assert new.index('## [0.2.0]') < new.index('## [0.1.0]')
    assert toy.changelog('io') == new                         # a re-run changes nothing


def test_split_ignores_headings_inside_code_fences_and_is_lossless():
    text = '# T\n\nintro\n\n## [0.2.0]\n\n```md\n## not a heading\n```\n\n## [0.1.0] - 2026-01-01\n- a\n'
    head, chunks = split(text)
    assert head == '# T\n\nintro\n\n' and len(chunks) == 2 and '## not a heading' in chunks[0]
    assert head + ''.join(chunks) == text


def test_rerun_on_the_same_state_is_byte_stable(toy):
    toy.commit('feat(vsa): a', 'components/vsa/a.py')
    first = toy.changelog('vsa')
    assert toy.changelog('vsa') == first


def test_regenerating_the_changelog_is_not_itself_a_change(toy):
    toy.commit('feat(io): a', 'components/io/a.py')
    toy.tag('io', '0.1.0')
    toy.changelog('io')
    toy.commit('docs(io): changelog')                         # commits only the CHANGELOG.md just written
    assert '[Unreleased]' not in toy.changelog('io')


def test_an_empty_range_gives_no_commits_and_no_unreleased_section(toy):
    toy.commit('feat(io): a', 'components/io/a.py')
    toy.tag('io', '0.1.0')
    toy.commit('feat(vsa): only vsa', 'components/vsa/a.py')
    ws = toy.ws()
    repo = open_repo(toy.root)
    head = repo.head.commit.hexsha
    assert commits(repo, ['components/io'], head, head) == []
    history = component_history(ws, repo, ws.components['io'], PATTERN)
    assert history.pending == ()
    found = sections(ws.components['io'], history, head_date(repo), PATTERN, None)
    assert [s.title for s in found] == ['0.1.0']


def test_untagged_version_without_commits_still_gets_its_section():
    comp = load_workspace(ROOT).components['io']
    found = [Section('9.9.9', '2026-01-01', True, 'embeddenator-io-v9.9.9')]
    text = render_changelog(merge(None, found, comp.dist))
    assert '## [9.9.9] - 2026-01-01\n' in text and 'Nothing to list' in text


def test_short_shas_link_to_the_repository_when_configured(toy):
    sha = toy.commit('fix(io): a', 'components/io/a.py')
    text = toy.changelog('io', url='https://example.org/r')
    assert f'([{sha[:7]}](https://example.org/r/commit/{sha}))' in text


def test_last_releases_and_tag_names(toy):
    toy.commit('feat(io): a', 'components/io/a.py')
    for version in ('0.1.0', '0.10.0', '0.9.0'):
        toy.tag('io', version)
    toy.repo.git.tag('embeddenator-io-vbogus')                # not a version: ignored
    last = last_releases(toy.ws(), open_repo(toy.root))
    assert last['vsa'] is None
    assert (last['io'].version, last['io'].tag) == ('0.10.0', 'embeddenator-io-v0.10.0')
    assert tag_version(PATTERN, 'io', 'embeddenator-vsa-v0.1.0') is None
    assert tag_version('{name}@{version}', 'io', 'io@1.2.3') == '1.2.3'
    for bad in ('v{version}', '{name}-{version}-{other}'):
        with pytest.raises(HistoryError, match='tag-pattern'):
            tag_name(bad, 'io', '1.0.0')


def test_release_notes_flag_a_version_below_what_the_commits_call_for(toy):
    toy.commit('feat(io): a', 'components/io/a.py')
    toy.tag('io', '0.1.0')
    toy.commit('feat(io)!: new format', 'components/io/b.py')
    toy.set_version('io', '0.1.1')                            # a patch, but a breaking change needs 0.2.0
    ws, repo = toy.ws(), open_repo(toy.root)
    rows = [notes_row(c, component_history(ws, repo, c, PATTERN), None) for c in ws.components.values()]
    notes = release_notes(rows, repo.head.commit.hexsha, head_date(repo))
    io = next(r for r in rows if r.name == 'io')
    assert (io.old, io.new, io.level) == ('0.1.0', '0.1.1', 'major') and '0.2.0' in io.problem
    assert notes.verdict == 'fail' and 'doit bump' in notes.summary


def test_bump_levels_and_manifest_edits_cascade_to_dependents(toy):
    assert parse_levels(['io=patch', 'vsa:minor,io=minor'], ['io', 'vsa']) == {'io': 'minor', 'vsa': 'minor'}
    with pytest.raises(BumpError, match='cli=patch'):
        parse_levels(['cli=patch'], ['io', 'vsa'])
    edits = manifest_edits(toy.ws(), {'io': '0.1.1', 'vsa': '0.1.1'})
    assert 'version = "0.1.1"' in edits['io']
    assert '"embeddenator-io>=0.1.1,<0.2"' in edits['vsa'] and 'version = "0.1.1"' in edits['vsa']


DODO = 'from tasks import DOIT_CONFIG  # noqa: F401\nfrom tasks.release.changelog import task_changelog  # noqa: F401\n'


def doit(root):
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    proc = subprocess.run([sys.executable, '-m', 'doit', 'changelog'], cwd=root, env=env, text=True,
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line.startswith(('.  ', '-- '))]


def test_doit_changelog_runs_again_only_when_head_or_tags_change(toy):
    toy.write('dodo.py', DODO)
    toy.commit('feat(io): a', 'components/io/a.py')
    assert all(line.startswith('.  ') for line in doit(toy.root))
    assert all(line.startswith('-- ') for line in doit(toy.root))
    toy.tag('io', '0.1.0')
    assert all(line.startswith('.  ') for line in doit(toy.root))
    assert (toy.root / 'reports' / 'release-notes.md').is_file()
