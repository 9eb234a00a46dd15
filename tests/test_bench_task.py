"""The `bench` task's wiring: the verdict comes from the same-run comparison; a stored baseline is only an extra."""
import json

import pytest

from tasks.bench import bench, bench_store


def results(values, key='m1', slowdown=''):
    """Synthetic A/B results: {id: (current, reference)}."""
    return {'commit': 'c' * 40, 'created': '2026-01-01T00:00:00Z', 'fingerprint_key': key,
            'fingerprint': {'cpu_model': 'X'}, 'slowdown': slowdown,
            'reference': {'commit': 'r' * 40, 'how': 'HEAD~1'},
            'groups': [{'name': 'k', 'metrics': [{'id': i, 'group': 'k', 'label': i, 'value': v, 'reference': r,
                                                  'change': v / r - 1 if r else None, 'change_ci': None,
                                                  'unit': 'instructions/call', 'rel_ci': None}
                                                 for i, (v, r) in values.items()]}]}


def test_without_a_stored_baseline_the_verdict_is_a_real_comparison_and_nothing_is_written(tmp_path):
    path = tmp_path / 'baselines.json'
    verdict, rows, stored = bench.gate(results({'k/a': (100.0, 100.0), 'k/b': (120.0, 100.0)}), path)
    assert verdict['verdict'] == 'fail' and verdict['critical'] == ['k/b'] and stored == {}
    assert verdict['reference'] == {'commit': 'r' * 40, 'how': 'HEAD~1'} and verdict['current'] == 'c' * 40
    assert not path.exists()


def test_a_stored_baseline_is_compared_as_an_extra_and_never_decides_or_changes(tmp_path):
    path = tmp_path / 'baselines.json'
    bench_store.write_json(path, bench_store.record(bench_store.load(path), 'm1', results({'k/a': (50.0, 50.0)})))
    before = path.read_bytes()
    verdict, rows, stored = bench.gate(results({'k/a': (100.0, 100.0), 'k/z': (1.0, 1.0)}), path)
    assert verdict['verdict'] == 'pass'
    assert stored['counts']['critical'] == 1 and stored['counts']['new'] == 1
    assert path.read_bytes() == before
    path.write_text('{', encoding='utf-8')
    verdict, rows, stored = bench.gate(results({'k/a': (100.0, 100.0)}), path)
    assert verdict['verdict'] == 'pass' and 'not valid JSON' in stored['error']


@pytest.fixture
def workspace_root(tmp_path, monkeypatch):
    """Run the task creators against this repository, with reports and baselines under tmp_path."""
    out = {'results': tmp_path / 'r.json', 'gate': tmp_path / 'g.json', 'report': tmp_path / 'r.md',
           'chart': tmp_path / 'c.svg', 'baselines': tmp_path / 'b.json', 'marker': tmp_path / 'm.so',
           'references': tmp_path / 'refs'}
    monkeypatch.setattr(bench, 'paths', lambda: out)
    return out


def test_bench_baseline_replaces_this_machines_entry_from_the_latest_results(workspace_root):
    from doit.exceptions import TaskFailed
    out = workspace_root
    failed = bench.replace_baseline()
    assert isinstance(failed, TaskFailed) and 'run `doit bench` first' in str(failed)
    out['results'].write_text(json.dumps(results({'k/a': (90.0, 100.0)})), encoding='utf-8')
    assert bench.replace_baseline() is True
    assert bench_store.load(out['baselines'])['machines']['m1']['metrics']['k/a']['value'] == 90.0
    out['results'].write_text(json.dumps(results({'k/a': (50.0, 100.0)}, slowdown='k/a=0.5')), encoding='utf-8')
    assert isinstance(bench.replace_baseline(), TaskFailed)


def test_the_task_reads_kernels_suite_and_baseline_and_declares_every_report(workspace_root):
    out = workspace_root
    out['baselines'].write_text('{"format": 1, "machines": {}}', encoding='utf-8')
    task = bench.task_bench()
    deps = task['file_dep']
    assert str(out['baselines']) in deps
    assert any(d.endswith('kernels.json') for d in deps) and any('tasks/bench/suite/ab.py' in d for d in deps)
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
