"""Conventional-commit parsing and the pattern -> section table."""
import pytest

from tasks.release.commits import BREAKING, ORDER, OTHER, SECTIONS, Commit, group, parse_message, section


def commit(message: str, sha: str = 'a' * 40) -> Commit:
    return Commit(sha=sha, date='2026-01-01', message=parse_message(message))


def test_header_type_scope_and_subject():
    msg = parse_message('feat(vsa): bundle many vectors at once\n\nA body\nover two lines.\n')
    assert (msg.type, msg.scope, msg.subject, msg.breaking) == ('feat', 'vsa', 'bundle many vectors at once', False)
    assert msg.body == 'A body\nover two lines.'


def test_type_is_case_insensitive_and_scope_optional():
    msg = parse_message('Fix: reject empty engrams')
    assert (msg.type, msg.scope) == ('fix', None)
    assert section(msg) == 'Fixed'


def test_bang_marks_a_breaking_change():
    msg = parse_message('refactor(io)!: header v2')
    assert msg.breaking and section(msg) == BREAKING


@pytest.mark.parametrize('token', ['BREAKING CHANGE', 'BREAKING-CHANGE'])
def test_breaking_footer_marks_a_breaking_change_and_keeps_its_text(token):
    msg = parse_message(f'feat: new reader\n\nbody text\n\n{token}: the v1 reader is gone;\n  use open_engram.\n'
                        'Refs: #12\n')
    assert msg.breaking and section(msg) == BREAKING
    assert msg.breaking_note == 'the v1 reader is gone; use open_engram.'
    assert 'Refs' not in msg.breaking_note
    assert msg.body.startswith('body text') and 'BREAKING' not in msg.body


def test_non_conventional_and_unicode_messages_go_to_other():
    for text in ['Update stuff', 'fix typo in README', 'feat : space before colon', 'Ünïcode ✓ 漢字 message']:
        msg = parse_message(text)
        assert msg.type is None and msg.subject == text
        assert section(msg) == OTHER


def test_unicode_in_a_conventional_subject_is_kept():
    msg = parse_message('fix(fs): noms de fichiers accentués — ok ✓')
    assert msg.subject == 'noms de fichiers accentués — ok ✓' and section(msg) == 'Fixed'


@pytest.mark.parametrize('header, expected', [
    ('feat: a', 'Added'), ('fix: a', 'Fixed'), ('perf(vsa): a', 'Performance'),
    ('fix(security): a', 'Security'), ('security: a', 'Security'),
    ('refactor: deprecate the v1 reader', 'Deprecated'), ('refactor(io): drop the v1 reader', 'Removed'),
    ('refactor: split module', 'Changed'), ('docs: a', 'Changed'), ('build: a', 'Changed'),
    ('Revert "feat: a"', 'Changed'), ('wip: a', OTHER),
    ('test: a', None), ('ci: a', None), ('chore(release): a', None), ('style: a', None),
])
def test_the_table_sorts_each_kind(header, expected):
    assert section(parse_message(header)) == expected


def test_table_ends_with_a_catch_all():
    pattern, name = SECTIONS[-1]
    assert name == OTHER and pattern.search('anything at all')


def test_group_orders_sections_and_keeps_commit_order_and_drops_only_internal_types():
    commits = [commit('fix: b', '1' * 40), commit('oops'), commit('feat: a'), commit('fix: c', '2' * 40),
               commit('test: internal'), commit('perf!: faster but different')]
    grouped = group(commits)
    assert list(grouped) == [BREAKING, 'Added', 'Fixed', OTHER]
    assert [c.message.subject for c in grouped['Fixed']] == ['b', 'c']
    assert list(grouped) == [s for s in ORDER if s in grouped]


def test_short_sha():
    assert commit('feat: a', 'abcdef0123' + '0' * 30).short == 'abcdef0'
