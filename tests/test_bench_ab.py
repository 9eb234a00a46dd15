"""The same-run A/B comparison's arithmetic and the probe worker's protocol (benchmarks.suite.ab, .worker)."""
import json

import pytest

from tasks.bench.suite import ab, worker
from tasks.bench.suite.walls import Probe


def rounds(subject, reference):
    return [{'subject_ns': s, 'reference_ns': r} for s, r in zip(subject, reference)]


SPEC = {'id': 'scan/top_k/vs-numpy', 'label': 'scan', 'unit': 'time ratio to numpy', 'rounds': 5,
        'work': ('bytes', 1e6)}


def test_a_wall_change_is_the_median_of_paired_rounds_with_a_floor_on_its_interval():
    cur = rounds([115, 230, 117, 114, 116], [100, 200, 100, 100, 100])
    ref = rounds([100, 200, 101, 99, 100], [100, 200, 100, 100, 100])
    m = ab.wall_metric(SPEC, cur, ref)
    assert m['change'] == pytest.approx(0.15, abs=0.01) and m['change_ci'] >= ab.CI_FLOOR
    assert m['value'] == pytest.approx(1.15, abs=0.01) and m['reference'] == pytest.approx(1.0, abs=0.01)
    alone = ab.wall_metric(SPEC, cur, [])
    assert alone['change'] is None and alone['reference'] is None


def test_counted_metrics_set_each_case_against_the_reference_and_mark_new_ones():
    per_side = {'current': {'k/a': (115.0, 'a'), 'k/new': (3.0, 'n')}, 'reference': {'k/a': (100.0, 'a')}}
    rows = {m['id']: m for m in ab.counted_metrics(per_side)}
    assert rows['k/a']['change'] == pytest.approx(0.15) and rows['k/a']['reference'] == 100.0
    assert rows['k/new']['change'] is None


def test_the_reference_side_imports_its_private_build_first(tmp_path):
    env = ab.Side('reference', tmp_path).env()
    assert env['PYTHONPATH'].split(':')[0] == str(tmp_path) and env[ab.SNAPSHOT_ENV] == str(tmp_path)
    assert ab.Side('current').env() == {}


def test_the_worker_times_one_round_per_request_after_an_untimed_warm_up():
    calls = []
    probe = Probe('g/x/y', 'x', 'time ratio to numpy', lambda: calls.append('s'), lambda: calls.append('r'))
    replies = []
    worker.serve([probe], [json.dumps({'time': 'g/x/y'}), json.dumps({'time': 'g/x/y'}), '{"quit": true}'],
                 replies.append)
    assert len(replies) == 2 and set(replies[0]) == {'subject_ns', 'reference_ns'}
    assert sorted(calls) == ['r'] * 3 + ['s'] * 3   # one warm-up call each, then one per round


def _raise():
    raise AttributeError("'Index' object has no attribute 'query_batch'")


def test_a_probe_whose_code_raises_answers_an_error_and_the_worker_keeps_serving():
    replies = []
    bad = Probe('g/bad/x', 'x', 'time ratio to numpy', _raise, int)
    good = Probe('g/good/x', 'x', 'time ratio to numpy', int, int)
    worker.serve([bad, good], [json.dumps({'time': 'g/bad/x'}), json.dumps({'time': 'g/good/x'})], replies.append)
    assert 'AttributeError' in replies[0]['error'] and 'subject_ns' in replies[1]


class _FakeWorker:
    def __init__(self, ids, failing=()):
        self.hello = {'probes': [{'id': i, 'rounds': 2} for i in ids]}
        self.failing = set(failing)

    def time(self, probe_id, reference=True):
        if probe_id in self.failing:
            return {'error': 'AttributeError: older API'}
        return {'subject_ns': 10, 'reference_ns': 10}


def test_a_probe_the_reference_cannot_run_is_measured_on_the_current_side_alone():
    workers = {'current': _FakeWorker(['g/a/x', 'g/b/x']), 'reference': _FakeWorker(['g/a/x', 'g/b/x'], ['g/b/x'])}
    _specs, times = ab.interleave(workers, ab.Progress())
    assert len(times['current']['g/b/x']) == 2 and times['reference']['g/b/x'] == []
    assert len(times['reference']['g/a/x']) == 2
    broken = {'current': _FakeWorker(['g/a/x'], ['g/a/x'])}
    with pytest.raises(ab.ABError, match='g/a/x fails on the current tree'):
        ab.interleave(broken, ab.Progress())
