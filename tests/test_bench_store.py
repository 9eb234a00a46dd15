"""Per-machine baselines (tasks.bench.bench_store) and the machine fingerprint (tasks.bench.fingerprint)."""
import json

import pytest

from tasks.bench import bench_store as s
from tasks.bench.fingerprint import cpu_info, describe, fingerprint, fingerprint_key


def results(values, key_fp=None, commit='c1'):
    return {'fingerprint': key_fp or {'cpu_model': 'X'}, 'commit': commit, 'created': '2026-01-01T00:00:00Z',
            'groups': [{'name': 'k', 'metrics': [{'id': i, 'value': v, 'unit': 'instructions/call'}
                                                 for i, v in values.items()]}]}


def test_an_absent_file_is_an_empty_store_and_a_broken_one_names_the_fix(tmp_path):
    assert s.load(tmp_path / 'none.json')['machines'] == {}
    bad = tmp_path / 'b.json'
    bad.write_text('{', encoding='utf-8')
    with pytest.raises(s.BaselineError, match='b.json: not valid JSON'):
        s.load(bad)
    bad.write_text('{"format": 9}', encoding='utf-8')
    with pytest.raises(s.BaselineError, match='"format" must be 1'):
        s.load(bad)


def test_recording_on_its_own_adds_missing_metrics_but_never_replaces_a_value(tmp_path):
    store = s.record(s.load(tmp_path / 'x.json'), 'm1', results({'a': 10.0}))
    store = s.record(store, 'm1', results({'a': 99.0, 'b': 5.0}, commit='c2'), keep_existing=True)
    entry = s.baseline_for(store, 'm1')
    assert entry['metrics']['a']['value'] == 10.0 and entry['metrics']['b']['value'] == 5.0
    assert entry['commit'] == 'c1'


def test_an_explicit_replace_takes_the_new_values_and_keeps_other_machines(tmp_path):
    store = s.record(s.record(s.load(tmp_path / 'x.json'), 'm1', results({'a': 10.0})), 'm2', results({'a': 1.0}))
    store = s.record(store, 'm1', results({'a': 12.0}, commit='c3'))
    assert s.baseline_for(store, 'm1')['metrics']['a']['value'] == 12.0
    assert s.baseline_for(store, 'm1')['commit'] == 'c3'
    assert s.baseline_for(store, 'm2')['metrics']['a']['value'] == 1.0
    path = tmp_path / 'deep' / 'b.json'
    s.write_json(path, store)
    assert s.load(path) == json.loads(json.dumps(store)) and not list(path.parent.glob('*.partial'))


CPUINFO = """processor\t: 0
model name\t: Example CPU 9000
flags\t\t: sse2 avx2 popcnt avx512f
processor\t: 1
model name\t: Example CPU 9000
flags\t\t: sse2 avx2 popcnt avx512f
"""


def test_cpu_info_reads_model_and_sorted_flags():
    assert cpu_info(CPUINFO) == ('Example CPU 9000', ['avx2', 'avx512f', 'popcnt', 'sse2'])


def test_the_key_changes_with_any_field_that_decides_comparability(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text(CPUINFO, encoding='utf-8')
    fp = fingerprint(info)
    assert fp['cpu_model'] == 'Example CPU 9000' and fp['cores'] >= 1 and fp['numpy'] != 'absent'
    assert fingerprint_key(fp) == fingerprint_key(dict(fp))
    for field, value in [('cpu_flags', ['sse2']), ('numpy', '0.0'), ('compiler', 'cc 1'), ('cores', 64)]:
        assert fingerprint_key({**fp, field: value}) != fingerprint_key(fp), field
    assert 'popcnt+avx2+avx512f' in describe(fp)
