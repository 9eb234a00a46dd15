"""The suite's measuring machinery: interleaved timing, bootstrap intervals, callgrind dumps, injected slowdowns."""
import numpy as np
import pytest

from tasks.bench.suite import callgrind, numpy_ref, timing
from tasks.bench.suite.cases import Case, extra_calls, slowdowns
from tasks.bench.suite.timing import interleaved, median_ci


def test_median_ci_is_tight_for_steady_samples_and_wide_for_scattered_ones():
    med, tight = median_ci([1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0])
    assert med == pytest.approx(1.0) and tight < 0.03
    _, wide = median_ci([1.0, 1.5, 0.6, 1.2, 0.8, 1.4, 0.7])
    assert wide > 5 * tight


class _Clock:
    """A monotonic clock that moves only when a fake workload says it ran: timings without a loaded machine's noise."""

    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now

    def work(self, ns):
        def run():
            self.now += ns
        return run


def test_interleaved_ratio_finds_a_twice_as_long_subject(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(timing.time, 'perf_counter_ns', clock)
    t = interleaved(clock.work(4000), clock.work(2000), rounds=5)
    assert t.ratio == 2.0 and t.rel_ci == 0.0 and t.rounds == 5
    assert (t.subject_ns, t.reference_ns) == (4000, 2000)
    both = interleaved(clock.work(4000), clock.work(2000), rounds=3, other=clock.work(5000))
    assert set(both) == {'reference', 'other'} and both['other'].ratio == 0.8 and both['reference'].ratio == 2.0


def test_slowdowns_parse_and_turn_into_proportional_extra_calls():
    injected = slowdowns('vsa-ops/bind/packed=0.15, simd/dot/avx2=0.5')
    case = Case('vsa-ops/bind/packed', 'bind', int, calls=200)
    assert extra_calls(case, injected) == 30
    assert extra_calls(Case('other/x/y', 'x', int), injected) == 0
    assert slowdowns('') == {}
    with pytest.raises(ValueError, match='EMBEDDENATOR_BENCH_SLOWDOWN'):
        slowdowns('vsa-ops/bind/packed=fast')


def test_parse_dumps_maps_each_labelled_region_to_its_instruction_count(tmp_path):
    for n, (label, total) in enumerate([('vsa-ops/bind/packed', 1234), ('simd/dot/avx2', 99)], start=1):
        (tmp_path / f'cg.out.{n}').write_text(f'version: 1\ndesc: Trigger: Client Request: {label}\n'
                                              f'events: Ir\nsummary: {total}\ntotals: {total}\n', encoding='utf-8')
    (tmp_path / 'cg.out').write_text('desc: Trigger: Program termination\ntotals: 5\n', encoding='utf-8')
    assert callgrind.parse_dumps(tmp_path) == {'vsa-ops/bind/packed': 1234, 'simd/dot/avx2': 99}


def test_numpy_reference_dot_matches_dense_arithmetic():
    rng = np.random.default_rng(0)
    dense = rng.integers(-1, 2, (5, 128)).astype(np.int8)
    q = rng.integers(-1, 2, 128).astype(np.int8)

    def planes(a):
        return (np.packbits(a == 1, axis=-1, bitorder='little').view(np.uint64),
                np.packbits(a == -1, axis=-1, bitorder='little').view(np.uint64))
    pos, neg = planes(dense)
    qp, qn = planes(q)
    assert list(numpy_ref.scores(pos, neg, qp, qn)) == list(dense.astype(int) @ q.astype(int))
    best = numpy_ref.top_k(pos, neg, qp, qn, 2)
    assert list(best) == list(np.lexsort((np.arange(5), -(dense.astype(int) @ q.astype(int))))[:2])


def test_numpy_reference_bundle_is_a_thinned_majority():
    group = [(np.array([1, 2]), np.array([5])), (np.array([1]), np.array([2, 5])), (np.array([1, 7]), np.array([]))]
    group = [(p.astype(np.int64), n.astype(np.int64)) for p, n in group]
    pos, neg = numpy_ref.bundle(group, dim=10, keep=10)
    assert list(pos) == [1, 7] and list(neg) == [5]
    pos, neg = numpy_ref.bundle(group, dim=10, keep=2)
    assert list(pos) == [1] and list(neg) == [5]  # the two strongest coordinates survive thinning


def test_the_counted_worker_environment_has_the_same_size_whatever_is_injected(monkeypatch):
    monkeypatch.setenv('UNRELATED_VARIABLE', 'x' * 100)
    monkeypatch.delenv('EMBEDDENATOR_BENCH_SLOWDOWN', raising=False)
    plain = callgrind.worker_env('avx2')
    monkeypatch.setenv('EMBEDDENATOR_BENCH_SLOWDOWN', 'vsa-ops/bind/packed=0.15')
    slowed = callgrind.worker_env('avx2')
    assert 'UNRELATED_VARIABLE' not in plain and plain['OMP_NUM_THREADS'] == '1'
    assert sum(len(k) + len(v) for k, v in plain.items()) == sum(len(k) + len(v) for k, v in slowed.items())
    assert slowdowns(slowed['EMBEDDENATOR_BENCH_SLOWDOWN']) == {'vsa-ops/bind/packed': 0.15}
