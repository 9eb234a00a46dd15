"""Edges of the release rules that mutation testing found untested: the gate's class boundaries and its report
fields, commit messages in unusual shapes, version rules on short versions and requirement spellings."""
import pytest

from tasks.bench.bench_gate import NOISE_FLOOR, Row, change_ci, classify, compare, compare_ab, counts, verdict
from tasks.release.commits import Commit, entry, parse_message
from tasks.release.versions import VersionError, compatible_range, next_version, update_manifest


# ------------------------------------------------------------------------------------------- bench gate

def test_class_boundaries_are_exclusive():
    assert classify(NOISE_FLOOR) == ('unchanged', False)
    assert classify(-NOISE_FLOOR) == ('unchanged', False)
    assert classify(0.03, 0.03) == ('minor', True)              # an interval reaching exactly zero is noisy
    assert classify(0.1625, 0.0625) == ('major', True)          # change - ci == 10% exactly is not critical


def test_change_ci_with_one_side_exact():
    assert change_ci(None, None, 1.2) is None
    assert change_ci(None, 0.02, 1.5) == pytest.approx(0.03)
    assert change_ci(0.04, None, 1.0) == pytest.approx(0.04)


def test_a_metric_without_baseline_is_a_new_row_with_its_own_fields():
    metric = {'id': 'k.dot', 'group': 'kernels', 'label': 'dot', 'unit': 'instr', 'value': 12.0}
    assert compare([metric], None) == [Row('k.dot', 'kernels', 'dot', 'instr', 12.0, None, None, None, 'new')]


def test_a_compared_metric_keeps_its_fields():
    metric = {'id': 'k.dot', 'group': 'kernels', 'label': 'dot', 'unit': 'instr', 'value': 12.0}
    [row] = compare([metric], {'k.dot': {**metric, 'value': 10.0}})
    assert (row.group, row.current, row.reference, row.cls) == ('kernels', 12.0, 10.0, 'critical')


def test_an_a_b_metric_keeps_its_reference_and_interval():
    base = {'id': 'k.dot', 'group': 'kernels', 'label': 'dot', 'unit': 'ratio', 'value': 1.5}
    assert compare_ab([base]) == [Row('k.dot', 'kernels', 'dot', 'ratio', 1.5, None, None, None, 'new')]
    [row] = compare_ab([{**base, 'reference': 1.4, 'change': 0.03, 'change_ci': 0.04}])
    assert row == Row('k.dot', 'kernels', 'dot', 'ratio', 1.5, 1.4, 0.03, 0.04, 'minor', True)


def test_verdict_names_whichever_commit_it_knows():
    rows = [Row('a', 'g', 'l', 'u', 1.0, 1.0, 0.0, None, 'unchanged')]
    assert verdict(rows, 'c' * 40)['summary'].endswith(f"({'c' * 12} against ?)")
    assert verdict(rows, '', {'commit': 'r' * 40})['summary'].endswith(f"(current against {'r' * 12})")
    assert '(' not in verdict(rows)['summary']


def test_counts_add_up_per_class():
    rows = [Row(str(i), 'g', 'l', 'u', 1.0, 1.0, 0.0, None, cls) for i, cls in enumerate(
        ['minor', 'minor', 'minor', 'faster'])]
    assert counts(rows) == {'critical': 0, 'major': 0, 'minor': 3, 'unchanged': 0, 'faster': 1, 'new': 0}


def test_verdict_names_the_worst_change_and_lists_every_class():
    def row(i, change, cls):
        return Row(i, 'g', 'l', 'u', 1.0 + change, 1.0, change, None, cls)
    rows = [row('a', 0.07, 'major'), row('b', 0.2, 'critical'), row('c', 0.09, 'major'), row('d', -0.2, 'faster'),
            row('e', 0.02, 'minor')]
    data = verdict(rows, 'c' * 40, {'commit': 'r' * 40, 'how': 'HEAD~1'})
    assert data['summary'] == ('1 critical, 2 major, 1 minor, 1 faster, 0 unchanged, 0 new of 5 metrics '
                               f"({'c' * 12} against {'r' * 12}); worst: b +20.0%")
    assert (data['verdict'], data['current'], data['critical'], data['needs_investigation'], data['changelog']) == (
        'fail', 'c' * 40, ['b'], ['a', 'c'], ['d', 'e'])
    assert data['counts']['major'] == 2 and [r['id'] for r in data['rows']] == ['a', 'b', 'c', 'd', 'e']
    majors = verdict([row('a', 0.07, 'major'), row('c', 0.09, 'major')])
    assert majors['summary'].endswith('worst: c +9.0%') and majors['verdict'] == 'pass'
    assert majors['current'] == '' and majors['reference'] == {}     # no commits named: empty values


# ---------------------------------------------------------------------------------------------- commits

def test_a_body_right_under_the_header_and_windows_line_ends():
    msg = parse_message('\nfix(io): short read\r\nthe reader stops early\r\n\r\nBREAKING CHANGE: readers raise\r\n')
    assert (msg.type, msg.scope, msg.subject, msg.body) == ('fix', 'io', 'short read', 'the reader stops early')
    assert (msg.breaking, msg.breaking_note) == (True, 'readers raise')


def test_a_message_that_is_not_conventional_keeps_its_body_and_breaking_note():
    msg = parse_message('Update things\n\nmore words  \nBREAKING CHANGE: gone\n')
    assert (msg.type, msg.subject, msg.body, msg.breaking, msg.breaking_note) == (
        None, 'Update things', 'more words  ', True, 'gone')


def test_letters_at_either_end_of_a_message_are_kept():
    msg = parse_message('feat(vsa): support AVX\n\nfaster on AVX')
    assert (msg.subject, msg.body) == ('support AVX', 'faster on AVX')
    assert parse_message('fix: x\n\nline ends in two spaces  ').body == 'line ends in two spaces  '


def test_entry_fields_and_the_link():
    commit = Commit('0123456789abcdef', '2026-01-02', parse_message('feat(io): mmap reads\n\nBREAKING CHANGE: x'))
    e = entry(commit, 'vsa', 'https://h/r')
    assert (e.text, e.subject, e.scope, e.sha, e.note) == (
        '**io:** mmap reads ([0123456](https://h/r/commit/0123456789abcdef))', 'mmap reads', 'io', '0123456789abcdef',
        'x')
    own = entry(commit, 'io', None)
    assert (own.text, own.scope) == ('mmap reads (0123456)', None)


# ---------------------------------------------------------------------------------------------- versions

def test_short_versions_fill_the_missing_parts_with_zero():
    assert next_version('1', 'patch') == '1.0.1'
    assert compatible_range('0') == '>=0,<0.1'


def test_update_manifest_rewrites_only_what_differs_and_keeps_extras_and_markers():
    text = ('[project]\nname = "embeddenator-b"\nversion = "0.2.0"\ndependencies = [\n'
            '    "embeddenator-io[fast,mmap] >=0.1 ; python_version >= \'3.11\'",\n'
            '    "embeddenator-obs <0.3, >=0.2.0",\n]\n')
    out = update_manifest(text, None, {'embeddenator-io': '0.2.0', 'embeddenator-obs': '0.2.0'})
    assert '"embeddenator-io[fast,mmap]>=0.2.0,<0.3; python_version >= \'3.11\'"' in out
    assert '"embeddenator-obs <0.3, >=0.2.0"' in out             # already the range: left as written


def test_update_manifest_without_dependencies_sets_the_version():
    out = update_manifest('[project]\nname = "embeddenator-b"\nversion = "0.2.0"\n', '0.3.0', {'embeddenator-io': '1'})
    assert 'version = "0.3.0"' in out and 'dependencies' not in out


def test_update_manifest_without_a_project_table_says_what_to_add():
    with pytest.raises(VersionError, match=r'^manifest has no \[project\] table; add one with name, version and '
                                           r'dependencies$'):
        update_manifest('[tool.x]\n', '1.0', {})
