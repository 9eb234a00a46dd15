"""The `bench` task's wiring and its baseline handling (tasks.bench.bench), with synthetic results, not the suite."""
import json

import pytest

from tasks.bench import bench, bench_store


def results(values, key='m1', slowdown=''):
    return {'commit': 'c' * 40, 'created': '2026-01-01T00:00:00Z', 'fingerprint_key': key,
            'fingerprint': {'cpu_model': 'X'}, 'slowdown': slowdown,
            'groups': [{'name': 'k', 'metrics': [{'id': i, 'group': 'k', 'label': i, 'value': v,
                                                  'unit': 'instructions/call', 'rel_ci': None}
                                                 for i, v in values.items()]}]}


def test_a_machine_without_baseline_records_one_and_passes(tmp_path):
    path = tmp_path / 'baselines.json'
    verdict, rows, base = bench.gate(results({'k/a': 100.0}), path)
    assert verdict['verdict'] == 'pass' and verdict['baseline_recorded'] and base is None
    assert bench_store.load(path)['machines']['m1']['metrics']['k/a']['value'] == 100.0


def test_a_stored_baseline_is_compared_never_replaced_and_new_metrics_are_added(tmp_path):
    path = tmp_path / 'baselines.json'
    bench.gate(results({'k/a': 100.0}), path)
    verdict, rows, base = bench.gate(results({'k/a': 120.0, 'k/b': 5.0}), path)
    assert verdict['verdict'] == 'fail' and verdict['critical'] == ['k/a']
    assert 'new metric(s) recorded' in verdict['summary']
    stored = bench_store.load(path)['machines']['m1']['metrics']
    assert stored['k/a']['value'] == 100.0 and stored['k/b']['value'] == 5.0


def test_a_run_with_an_injected_slowdown_never_writes_the_baseline(tmp_path):
    path = tmp_path / 'baselines.json'
    bench.gate(results({'k/a': 100.0}, slowdown='k/a=0.15'), path)
    assert not path.exists()


@pytest.fixture
def workspace_root(tmp_path, monkeypatch):
    """Run the task creators against this repository, with reports and baselines under tmp_path."""
    out = {'results': tmp_path / 'r.json', 'gate': tmp_path / 'g.json', 'report': tmp_path / 'r.md',
           'chart': tmp_path / 'c.svg', 'baselines': tmp_path / 'b.json', 'marker': tmp_path / 'm.so'}
    monkeypatch.setattr(bench, 'paths', lambda: out)
    return out


def test_bench_baseline_replaces_this_machines_entry_from_the_latest_results(workspace_root):
    out = workspace_root
    bench.gate(results({'k/a': 100.0}), out['baselines'])
    out['results'].write_text(json.dumps(results({'k/a': 90.0})), encoding='utf-8')
    assert bench.replace_baseline() is True
    assert bench_store.load(out['baselines'])['machines']['m1']['metrics']['k/a']['value'] == 90.0
    out['results'].write_text(json.dumps(results({'k/a': 50.0}, slowdown='k/a=0.5')), encoding='utf-8')
    assert bench.replace_baseline() is False


def test_the_task_reads_kernels_suite_and_baseline_and_declares_every_report(workspace_root):
    out = workspace_root
    out['baselines'].write_text('{"format": 1, "machines": {}}', encoding='utf-8')
    task = bench.task_bench()
    deps = task['file_dep']
    assert str(out['baselines']) in deps
    assert any(d.endswith('.so') for d in deps) and any('tasks/bench/suite/cases.py' in d for d in deps)
    assert any(d.endswith('bench-report.md.j2') for d in deps)
    assert sorted(task['targets']) == sorted(str(out[k]) for k in ('results', 'gate', 'report', 'chart'))
    assert bench.task_bench_baseline()['file_dep'] == [str(out['results'])]


class _Settings:
    def __init__(self, value):
        self.value = value

    def get(self, key, default=None):
        return self.value if key == 'bench-components' else default


def test_bench_reads_the_measured_components_and_their_dependencies(monkeypatch):
    from doit.exceptions import InvalidDodoFile
    from tasks.core.config import workspace
    ws = workspace()
    leaf = next(n for n, c in ws.components.items() if c.deps)
    monkeypatch.setattr(bench, 'settings', lambda: _Settings(leaf))
    assert {c.name for c in bench.measured_components(ws)} == {leaf, *ws.closure(leaf)}
    monkeypatch.setattr(bench, 'settings', lambda: _Settings(''))
    assert [c.name for c in bench.measured_components(ws)] == list(ws.components)
    monkeypatch.setattr(bench, 'settings', lambda: _Settings('nosuch'))
    with pytest.raises(InvalidDodoFile, match='bench-components: unknown component'):
        bench.measured_components(ws)
