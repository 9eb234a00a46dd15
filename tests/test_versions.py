"""SemVer with the 0.x rule, sibling ranges, the bump plan and tomlkit manifest edits."""
import pytest
import tomlkit

from tasks.release.commits import parse_message
from tasks.release.versions import (VersionError, commit_level, compatible_range, effective_level, next_version,
                                    plan_bumps, update_manifest)


def level(*messages):
    return commit_level(parse_message(m) for m in messages)


def test_commit_level_takes_the_strongest():
    assert level('fix: a', 'feat: b') == 'minor'
    assert level('perf: a', 'docs: b') == 'patch'
    assert level('fix(security): a') == 'patch'
    assert level('feat: a', 'fix!: b') == 'major'
    assert level('feat: a\n\nBREAKING CHANGE: gone') == 'major'


def test_nothing_new_calls_for_no_release():
    assert level('docs: a', 'test: b', 'chore: c', 'not conventional') is None
    assert level() is None


@pytest.mark.parametrize('version, lvl, expected', [
    ('0.2.0', 'major', '0.3.0'),   # the 0.x rule: breaking bumps the minor
    ('0.2.5', 'minor', '0.3.0'),
    ('0.2.5', 'patch', '0.2.6'),
    ('1.4.2', 'major', '2.0.0'),
    ('1.4.2', 'minor', '1.5.0'),
    ('1.4.2', 'patch', '1.4.3'),
])
def test_next_version_with_the_0x_rule(version, lvl, expected):
    assert next_version(version, effective_level(lvl, version)) == expected


def test_short_and_suffixed_versions():
    assert next_version('1.2', 'patch') == '1.2.1'
    assert next_version('0.3.0rc1', 'patch') == '0.3.1'


def test_bad_level_and_bad_version_say_what_to_write():
    with pytest.raises(VersionError, match='major, minor, patch'):
        next_version('0.2.0', 'huge')
    with pytest.raises(VersionError, match='PEP 440'):
        next_version('zero', 'patch')


def test_compatible_range_stops_before_the_next_breaking_release():
    assert compatible_range('0.2.1') == '>=0.2.1,<0.3'
    assert compatible_range('1.4.0') == '>=1.4.0,<2'


ORDER = ['obs', 'vsa', 'fs', 'cli']
DEPS = {'obs': [], 'vsa': ['obs'], 'fs': ['vsa'], 'cli': ['fs', 'obs']}
RELEASED = {n: '0.2.0' for n in ORDER}


def test_a_patch_cascades_to_every_released_dependent():
    plan = plan_bumps(ORDER, DEPS, RELEASED, RELEASED, {'vsa': 'patch'})
    assert plan == {'vsa': '0.2.1', 'fs': '0.2.1', 'cli': '0.2.1'}


def test_a_dependent_already_ahead_of_its_release_is_not_bumped_again():
    current = {**RELEASED, 'fs': '0.3.0'}
    plan = plan_bumps(ORDER, DEPS, current, RELEASED, {'obs': 'minor'})
    assert plan == {'obs': '0.3.0', 'vsa': '0.2.1', 'cli': '0.2.1'}


def test_planning_is_idempotent_from_the_last_release():
    first = plan_bumps(ORDER, DEPS, RELEASED, RELEASED, {'vsa': 'major'})
    assert first['vsa'] == '0.3.0'
    current = {**RELEASED, **first}
    assert plan_bumps(ORDER, DEPS, current, RELEASED, {'vsa': 'major'}) == {}


def test_unreleased_components_bump_from_their_manifest_and_do_not_cascade():
    unreleased = {n: None for n in ORDER}
    assert plan_bumps(ORDER, DEPS, RELEASED, unreleased, {'vsa': 'minor'}) == {'vsa': '0.3.0'}
    assert plan_bumps(ORDER, DEPS, RELEASED, unreleased, {}) == {}


MANIFEST = '''[project]
name = "embeddenator-cli"
# the version the next release will carry
version = "0.2.0"   # kept comment
dependencies = [
    "embeddenator-vsa>=0.2.0,<0.3",  # kernels
    "Embeddenator_FS[extra]>=0.2.0,<0.3; python_version >= '3.11'",
    "numpy>=1.26",
]

[tool.embeddenator]
paths = ["pyx"]
'''


def test_update_manifest_keeps_formatting_and_comments():
    new = update_manifest(MANIFEST, '0.2.1', {'embeddenator-vsa': '0.2.1', 'embeddenator-fs': '0.3.0'})
    assert new.replace('0.2.1', '0.2.0', 2).replace('>=0.3.0,<0.4', '>=0.2.0,<0.3') == MANIFEST
    data = tomlkit.parse(new)
    assert data['project']['version'] == '0.2.1'
    assert list(data['project']['dependencies']) == [
        'embeddenator-vsa>=0.2.1,<0.3', "Embeddenator_FS[extra]>=0.3.0,<0.4; python_version >= '3.11'",
        'numpy>=1.26']


def test_update_manifest_without_changes_is_byte_identical():
    assert update_manifest(MANIFEST, None, {'embeddenator-vsa': '0.2.0'}) == MANIFEST
    assert update_manifest(MANIFEST, '0.2.0', {}) == MANIFEST


def test_the_commit_type_decides_the_level_not_the_changelog_heading(monkeypatch):
    """Renaming a changelog heading is presentation: the versions it produces stay the same."""
    from tasks.release import commits
    renamed = tuple((pattern, {'Added': 'New features', 'Fixed': 'Bug fixes'}.get(name, name))
                    for pattern, name in commits.SECTIONS)
    monkeypatch.setattr(commits, 'SECTIONS', renamed)
    monkeypatch.setattr(commits, 'BREAKING', 'Incompatible')
    levels = [level(m) for m in ('feat: a', 'fix: a', 'perf: a', 'feat!: a')]
    assert levels == ['minor', 'patch', 'patch', 'major']
    assert (level('security: a'), level('docs(security): a'), level('docs: a'), level('not conventional')) == (
        'patch', 'patch', None, None)
