import threading

import pytest

from embeddenator.obs import ObsError, Registry


def test_counter_counts_per_label_set():
    reg = Registry()
    reg.counter('q_total', strategy='scan').inc()
    reg.counter('q_total', strategy='scan').inc(2)
    reg.counter('q_total', strategy='inverted').inc()
    assert reg.counter('q_total', strategy='scan').value == 3
    assert reg.counter('q_total', strategy='inverted').value == 1


def test_counter_refuses_to_go_down():
    with pytest.raises(ObsError, match='only goes up'):
        Registry().counter('c_total').inc(-1)


def test_gauge_sets_and_moves():
    g = Registry().gauge('items')
    g.set(10)
    g.inc(5)
    g.dec(3)
    assert g.value == 12


def test_histogram_buckets_are_cumulative_and_inclusive():
    h = Registry().histogram('size', buckets=[1, 10])
    for v in (0.5, 1, 5, 10, 11):
        h.observe(v)
    assert h.cumulative() == [('1.0', 2), ('10.0', 4), ('+Inf', 5)]
    assert (h.count, h.sum, h.min, h.max) == (5, 27.5, 0.5, 11)


def test_timer_records_elapsed_nanoseconds_into_histogram():
    reg = Registry()
    with reg.timer('op_seconds', op='x') as t:
        sum(range(1000))
    h = reg.histogram('op_seconds', op='x')
    assert t.ns > 0 and h.count == 1 and h.sum == pytest.approx(t.seconds)


def test_info_replaces_its_value():
    reg = Registry()
    reg.info('vsa_simd', path='scalar')
    assert reg.info('vsa_simd', path='avx2', width=256).value == {'path': 'avx2', 'width': '256'}


@pytest.mark.parametrize('name', ['1abc', 'a-b', '', 'a b'])
def test_bad_metric_names_are_refused(name):
    with pytest.raises(ObsError, match='invalid'):
        Registry().counter(name)


def test_a_name_keeps_its_kind_and_labels():
    reg = Registry()
    reg.counter('x_total', a='1')
    with pytest.raises(ObsError, match='is a counter'):
        reg.gauge('x_total', a='1')
    with pytest.raises(ObsError, match='same label names'):
        reg.counter('x_total', b='1')


def test_counters_are_thread_safe():
    c = Registry().counter('t_total')

    def work():
        for _ in range(20_000):
            c.inc()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.value == 80_000


def test_reset_forgets_everything():
    reg = Registry()
    reg.counter('a_total').inc()
    reg.reset()
    assert list(reg.families()) == []
