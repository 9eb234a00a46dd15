"""The gate's classification, comparison and verdict (tasks.bench_gate), without running any benchmark."""
import pytest

from tasks.bench import bench_gate as g


def metric(id_, value, unit='instructions/call', rel_ci=None):
    return {'id': id_, 'group': id_.split('/')[0], 'label': id_, 'value': value, 'unit': unit, 'rel_ci': rel_ci}


@pytest.mark.parametrize('change, expected', [
    (0.15, 'critical'), (0.1001, 'critical'), (0.10, 'major'), (0.07, 'major'), (0.0501, 'major'),
    (0.05, 'minor'), (0.02, 'minor'), (0.005, 'unchanged'), (-0.005, 'unchanged'), (-0.2, 'faster'),
])
def test_classes_follow_the_release_plan_thresholds(change, expected):
    assert g.classify(change) == (expected, False)


def test_a_critical_change_whose_interval_reaches_below_the_line_is_demoted_and_marked():
    assert g.classify(0.15, ci=0.08) == ('major', True)
    assert g.classify(0.25, ci=0.10) == ('critical', False)
    assert g.classify(0.07, ci=0.08) == ('major', True)
    assert g.classify(0.07, ci=0.05) == ('major', False)
    assert g.classify(-0.2, ci=0.3) == ('faster', True) and g.classify(0.03, ci=0.01) == ('minor', False)


def test_compare_sets_each_metric_against_its_baseline():
    base = {'k/a': {'value': 100.0, 'unit': 'instructions/call'}, 'k/b': {'value': 100.0, 'unit': 'instructions/call'}}
    rows = {r.id: r for r in g.compare([metric('k/a', 115.0), metric('k/b', 80.0)], base)}
    assert rows['k/a'].cls == 'critical' and rows['k/a'].change == pytest.approx(0.15)
    assert rows['k/b'].cls == 'faster' and rows['k/b'].change == pytest.approx(-0.2)


def test_missing_metrics_other_units_and_no_baseline_are_new():
    base = {'k/a': {'value': 100.0, 'unit': 'time ratio to numpy'}}
    rows = g.compare([metric('k/a', 200.0), metric('k/z', 1.0)], base)
    assert [r.cls for r in rows] == ['new', 'new']
    assert [r.cls for r in g.compare([metric('k/a', 1.0)], None)] == ['new']


def test_wall_clock_intervals_combine_current_and_baseline():
    base = {'w/a': {'value': 1.0, 'unit': 'time ratio to numpy', 'rel_ci': 0.03}}
    [row] = g.compare([metric('w/a', 1.2, 'time ratio to numpy', rel_ci=0.04)], base)
    assert row.ci == pytest.approx(1.2 * 0.05)
    assert row.cls == 'critical'  # 20% - 6% still clears the 10% line
    [noisy] = g.compare([metric('w/a', 1.2, 'time ratio to numpy', rel_ci=0.2)], base)
    assert (noisy.cls, noisy.uncertain) == ('major', True)


def test_verdict_fails_on_critical_only_and_names_the_worst_and_both_commits():
    base = {f'k/{n}': {'value': 100.0, 'unit': 'instructions/call'} for n in 'abc'}
    rows = g.compare([metric('k/a', 107.0), metric('k/b', 103.0), metric('k/c', 100.0)], base)
    ok = g.verdict(rows, 'a' * 40, {'commit': 'b' * 40, 'how': 'HEAD~1'})
    assert ok['verdict'] == 'pass' and ok['needs_investigation'] == ['k/a'] and ok['changelog'] == ['k/b']
    assert f"{'a' * 12} against {'b' * 12}" in ok['summary'] and ok['reference']['how'] == 'HEAD~1'
    rows.append(g.compare([metric('k/c', 130.0)], base)[0])
    bad = g.verdict(rows)
    assert bad['verdict'] == 'fail' and bad['critical'] == ['k/c'] and 'k/c +30.0%' in bad['summary']


def ab(id_, value, reference, change=None, change_ci=None, unit='instructions/call'):
    if change is None and reference:
        change = value / reference - 1
    return {**metric(id_, value, unit), 'reference': reference, 'change': change, 'change_ci': change_ci}


def test_a_same_run_comparison_classifies_each_metric_by_its_own_change_and_interval():
    rows = {r.id: r for r in g.compare_ab([
        ab('k/a', 115.0, 100.0), ab('k/b', 100.0, 100.0), ab('k/new', 5.0, None),
        ab('w/a', 1.2, 1.0, change=0.2, change_ci=0.05, unit='time ratio to numpy'),
        ab('w/b', 1.2, 1.0, change=0.2, change_ci=0.15, unit='time ratio to numpy')])}
    assert rows['k/a'].cls == 'critical' and rows['k/a'].reference == 100.0
    assert rows['k/b'].cls == 'unchanged' and rows['k/new'].cls == 'new'
    assert rows['w/a'].cls == 'critical' and (rows['w/b'].cls, rows['w/b'].uncertain) == ('major', True)
