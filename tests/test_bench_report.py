"""The bench report (tasks.bench_report) rendered from synthetic results: tables, ratios, chart, method."""
import xml.etree.ElementTree as ET

from tasks.bench import bench_gate, bench_report

FP = {'cpu_model': 'Example CPU', 'cpu_flags': ['avx2'], 'cores': 2, 'python': 'CPython 3.11', 'numpy': '2',
      'cython': '3', 'compiler': 'gcc 12', 'valgrind': 'valgrind-3.19.0'}


def results():
    kernel = [{'id': 'vsa-ops/bind/packed', 'group': 'vsa-ops', 'label': 'bind, packed', 'value': 1300.0,
               'unit': 'instructions/call', 'rel_ci': None},
              {'id': 'vsa-ops/bundle/packed', 'group': 'vsa-ops', 'label': 'bundle, packed', 'value': 900.0,
               'unit': 'instructions/call', 'rel_ci': None}]
    scan = [{'id': 'scan/top_k/vs-numpy', 'group': 'scan', 'label': 'top-10 vs numpy', 'value': 0.25,
             'unit': 'time ratio to numpy', 'rel_ci': 0.04}]
    return {'commit': 'a' * 40, 'dirty': False, 'reference': {'commit': 'b' * 40, 'how': 'HEAD~1 (no tag)'},
            'created': '2026-01-01T00:00:00Z', 'fingerprint_key': 'k1',
            'fingerprint': FP, 'seconds': 12.5, 'method': 'Counted under callgrind.',
            'groups': [{'name': 'vsa-ops', 'title': 'VSA operations', 'notes': [], 'metrics': kernel},
                       {'name': 'scan', 'title': 'Codebook scan', 'notes': ['a note'], 'metrics': scan}],
            'ratios': {'bandwidth_gb_per_s': 20.0, 'scan_gb_per_s': 10.0, 'scan_vs_numpy': 0.25,
                       'scan_fraction_of_bandwidth': 0.5}}


REFERENCE = {'vsa-ops/bind/packed': 1000.0, 'vsa-ops/bundle/packed': 1000.0, 'scan/top_k/vs-numpy': 0.25}


def render(tmp_path, stored=None):
    res = results()
    for m in (m for g in res['groups'] for m in g['metrics']):
        m.update(reference=REFERENCE[m['id']], change=m['value'] / REFERENCE[m['id']] - 1,
                 change_ci=m['rel_ci'] and 0.05)
    rows = bench_gate.compare_ab([m for g in res['groups'] for m in g['metrics']])
    gate = bench_gate.verdict(rows, res['commit'], res['reference'])
    bench_report.chart(rows, tmp_path / 'chart.svg', 'title')
    return bench_report.render(bench_report.context(res, gate, rows, stored, 'chart.svg')), gate


def test_the_report_shows_the_verdict_what_got_slower_and_a_table_per_group(tmp_path):
    text, gate = render(tmp_path)
    assert gate['verdict'] == 'fail'
    assert text.startswith('# Benchmark report\n\n**Gate: FAIL**')
    slower = text.split('## What got slower')[1].split('##')[0]
    assert 'bind, packed' in slower and '+30.0%' in slower and '**critical**' in slower
    assert 'bundle, packed' not in slower  # faster: listed for the changelog instead
    assert '| bind, packed | 1,000 | 1,300 | +30.0% | **critical** |' in text
    assert f"Reference: `{'b' * 12}` (HEAD~1 (no tag))" in text and f"Current: `{'a' * 12}`" in text
    assert '## Codebook scan' in text and '- a note' in text and '![current against reference](chart.svg)' in text
    assert '(50% of the bandwidth limit)' in text and '20.0 GB/s' in text
    assert 'Counted under callgrind.' in text and '{{' not in text


def test_the_chart_is_an_svg_with_one_bar_per_compared_metric(tmp_path):
    render(tmp_path)
    root = ET.parse(tmp_path / 'chart.svg').getroot()
    assert root.tag.endswith('svg')
    text = (tmp_path / 'chart.svg').read_text(encoding='utf-8')
    assert text.count('vsa-ops/bind/packed') >= 1 and not list(tmp_path.glob('*.partial'))


def test_a_stored_baseline_shows_as_an_extra_section_only_when_there_is_one(tmp_path):
    text, _ = render(tmp_path)
    assert 'stored baseline' not in text
    base = {'vsa-ops/bind/packed': {'value': 1000.0, 'unit': 'instructions/call'}}
    res = results()
    stored_rows = bench_gate.compare([m for g in res['groups'] for m in g['metrics']], base)
    stored = {'commit': 'c' * 40, 'recorded': '2025-12-01', 'counts': bench_gate.counts(stored_rows),
              'rows': stored_rows}
    text, gate = render(tmp_path, stored)
    extra = text.split("## Against this machine's stored baseline")[1]
    assert 'not part of the verdict' in extra and 'bind, packed (`vsa-ops/bind/packed`): +30.0%' in extra
