import json

from prometheus_client.parser import text_string_to_metric_families

from embeddenator import obs
from embeddenator.obs import Registry, snapshot, to_json, to_prometheus


def _filled():
    reg = Registry()
    reg.counter('retrieval_queries_total', 'queries answered', strategy='scan').inc(3)
    reg.gauge('retrieval_items', 'rows in the index').set(42)
    reg.histogram('retrieval_query_seconds', 'query time', buckets=[0.001, 0.01], strategy='scan').observe(0.005)
    reg.info('vsa_simd', 'kernel path', path='avx2')
    return reg


def test_snapshot_is_json_serialisable_and_complete():
    snap = json.loads(to_json(_filled()))['metrics']
    assert snap['retrieval_queries_total']['series'] == [{'labels': {'strategy': 'scan'}, 'value': 3}]
    assert snap['retrieval_items']['kind'] == 'gauge'
    hist = snap['retrieval_query_seconds']['series'][0]
    assert hist['count'] == 1 and hist['buckets'] == {'0.001': 0, '0.01': 1, '+Inf': 1}
    assert snap['vsa_simd']['series'][0]['value'] == {'path': 'avx2'}


def test_prometheus_text_parses_back_to_the_same_values():
    families = {f.name: f for f in text_string_to_metric_families(to_prometheus(_filled()))}
    queries = families['retrieval_queries'].samples
    assert [(s.name, s.labels, s.value) for s in queries if s.name.endswith('_total')] == \
        [('retrieval_queries_total', {'strategy': 'scan'}, 3.0)]
    assert families['retrieval_items'].samples[0].value == 42
    count = [s for s in families['retrieval_query_seconds'].samples if s.name.endswith('_count')]
    assert count[0].value == 1
    assert families['vsa_simd_info'].samples[0].labels == {'path': 'avx2'}


def test_module_helpers_use_the_default_registry():
    obs.counter('obs_selftest_total').inc()
    assert snapshot()['obs_selftest_total']['series'][0]['value'] >= 1
    assert 'obs_selftest_total' in to_prometheus()
