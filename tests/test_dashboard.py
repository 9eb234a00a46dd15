"""The dashboard's view model and page from report files, without a browser: every gate's state (pass, fail,
not run) is shown, links point only at files that exist, the SVG pictures are drawn from the workspace model and
the publish records. `write_reports` is the fixture the browser tests render too."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tasks.report import model, shapes
from tasks.report.dashboard import render_html

COMPONENTS = [
    {'name': 'io', 'dist': 'embeddenator-io', 'version': '0.2.0', 'level': 0, 'deps': []},
    {'name': 'obs', 'dist': 'embeddenator-obs', 'version': '0.2.0', 'level': 0, 'deps': []},
    {'name': 'vsa', 'dist': 'embeddenator-vsa', 'version': '0.3.0', 'level': 1, 'deps': ['io', 'obs']},
    {'name': 'cli', 'dist': 'embeddenator-cli', 'version': '0.1.1', 'level': 2, 'deps': ['vsa']},
]
CHART = ('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60" '
         'viewBox="0 0 200 60"><rect x="10" y="10" width="120" height="20" fill="#e66101"/>'
         '<text x="140" y="25">+36.7%</text></svg>\n')


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding='utf-8')


def _stamp(second: float) -> str:
    whole = int(second)
    return f'2026-12-04T19:05:{whole:02d}.{int((second - whole) * 1000):03d}Z'


def write_reports(root: Path, failing: str | None = None) -> Path:
    """A workspace's reports folder as the stages leave it after a publish; `failing` names a gate that failed
    (and so the publish that stopped at the first package). Returns the reports folder."""
    reports = root / 'reports'

    def verdict(name):
        return 'fail' if name == failing else 'pass'
    _write(reports / 'tests' / 'summary.json', {
        'verdict': verdict('tests'), 'summary': '150 passed, 0 failed, 1 skipped in 2 suites (9.5 s)',
        'totals': {'passed': 150, 'failed': 0, 'skipped': 1, 'duration': 9.5},
        'suites': [{'name': 'io', 'passed': 59, 'failed': 0, 'skipped': 0, 'duration': 3.4, 'junit': 'io.xml'},
                   {'name': 'vsa', 'passed': 91, 'failed': 0, 'skipped': 1, 'duration': 6.1, 'junit': 'vsa.xml'}]})
    _write(reports / 'tests' / 'summary.md', '# tests\n')
    _write(reports / 'tests' / 'io.xml', '<testsuites/>')
    _write(reports / 'tests' / 'integration.json', {
        'verdict': verdict('integration'), 'summary': '1/1 areas pass',
        'areas': [{'module': 'test_cli', 'title': 'the CLI end to end', 'verdict': 'pass', 'passed': 20,
                   'failed': 0, 'skipped': 0, 'seconds': 9.35}]})
    _write(reports / 'audit' / 'audit.json', {
        'verdict': verdict('audit'), 'summary': '490 unsafe sites, 490 reviewed', 'failing': [],
        'inventory': {'verdict': 'pass', 'summary': '490 sites in 19 files', 'sites': 490, 'reviewed': 490,
                      'files': [{'file': 'pyx/_kernels.pyx'}], 'findings': []},
        'sanitizers': {'verdict': 'pass', 'summary': 'no ASan/UBSan report'},
        'memcheck': {'verdict': 'pass', 'summary': '0 error(s) and 0 definite leak(s)'}})
    _write(reports / 'audit' / 'audit.md', '# audit\n')
    _write(reports / 'bench' / 'gate.json', {
        'verdict': verdict('bench'), 'current': 'a' * 40, 'reference': {'commit': 'b' * 40},
        'summary': ('1 critical' if failing == 'bench' else '0 critical') + ', 1 major of 2 metrics',
        'counts': {'critical': int(failing == 'bench'), 'major': 1, 'unchanged': 1},
        'rows': [{'id': 'retrieval/query/10k', 'label': 'query, 10k', 'unit': 's', 'reference': 1.0,
                  'current': 1.367, 'change': 0.367, 'cls': 'critical' if failing == 'bench' else 'major',
                  'uncertain': False},
                 {'id': 'vsa/bind', 'label': 'bind', 'unit': 'instructions/call', 'reference': 39005.5,
                  'current': 39308.05, 'change': 0.0078, 'cls': 'unchanged', 'uncertain': False}]})
    _write(reports / 'bench' / 'chart.svg', CHART)
    _write(reports / 'bench' / 'report.md', '# bench\n')
    for comp in COMPONENTS:
        _write(reports / 'package' / f'{comp["name"]}.json', {'verdict': 'pass', 'summary': '29/29 checks hold'})
        _write(reports / 'package' / f'{comp["name"]}.md', '# checklist\n')
    _write(reports / 'release-notes.json', {'rows': [
        {'dist': 'embeddenator-vsa', 'old': '0.2.0', 'new': '0.3.0', 'status': 'release',
         'highlights': [['Added', [{'subject': 'AVX-512 popcount', 'text': 'AVX-512 popcount (abc1234)'}]],
                        ['Fixed', [{'subject': 'bind of empty vectors', 'text': '...'}]]]}]})
    _write(reports / 'release-notes.md', '# release notes\n')
    records = []
    for i, comp in enumerate(COMPONENTS):
        if failing:   # the gate stopped the run before any package: the report says each was not reached
            records.append({'component': comp['name'], 'version': comp['version'], 'status': 'not reached',
                            'error': None})
            continue
        t = 10.0 + 2 * i
        records.append({'component': comp['name'], 'version': comp['version'], 'status': 'published',
                        'built': _stamp(t - 9), 'uploaded': _stamp(t), 'served': _stamp(t + 0.2),
                        'verified': _stamp(t + 1.5), 'tag': f'{comp["dist"]}-v{comp["version"]}',
                        'tagged': _stamp(t + 1.6), 'error': None})
    _write(reports / 'publishing' / 'publish.json', {
        'dry_run': False, 'run': '20261204T190500-1', 'index': 'local index', 'generated': _stamp(30),
        'verdict': 'fail' if failing else 'pass', 'components': records,
        'summary': (f'0/{len(records)} components published and verified; gate {failing} failed' if failing
                    else f'{len(records)}/{len(records)} components published and verified')})
    _write(reports / 'publishing' / 'publish.md', '# publish\n')
    return reports


def _view(root: Path, failing: str | None = None) -> dict:
    reports = write_reports(root, failing)
    return model.view_model(reports, root, COMPONENTS, '2026-12-04T19:06:00Z')


def test_every_gate_passes_and_links_to_its_report(tmp_path):
    view = _view(tmp_path)
    assert view['verdict'] == 'pass'
    assert {g['name']: (g['status'], g['link']) for g in view['gates']} == {
        'tests': ('pass', 'tests/summary.md'), 'integration': ('pass', 'tests/integration.json'),
        'audit': ('pass', 'audit/audit.md'), 'bench': ('pass', 'bench/report.md'),
        'package': ('pass', 'package/io.md'), 'publish': ('pass', 'publishing/publish.md')}


def test_a_failed_gate_and_a_missing_one_are_shown_as_such(tmp_path):
    reports = write_reports(tmp_path, failing='bench')
    (reports / 'audit' / 'audit.json').unlink()
    (reports / 'audit' / 'audit.md').unlink()
    (reports / 'tests' / 'integration.json').write_text('{not json', encoding='utf-8')
    view = model.view_model(reports, tmp_path, COMPONENTS, 'now')
    gates = {g['name']: g for g in view['gates']}
    assert view['verdict'] == 'fail'
    assert gates['bench']['status'] == 'fail' and gates['publish']['status'] == 'fail'
    assert gates['audit']['status'] == 'not run' and gates['audit']['link'] is None
    assert gates['integration']['status'] == 'fail' and 'unreadable' in gates['integration']['summary']
    assert [p['status'] for p in view['audit']['parts']] == ['not run'] * 4
    html = render_html(view)
    assert 'data-gate="bench" data-status="fail"' in html and 'data-gate="audit" data-status="not run"' in html


def test_no_reports_at_all_is_a_page_of_not_run(tmp_path):
    view = model.view_model(tmp_path / 'reports', tmp_path, COMPONENTS, 'now')
    assert {g['status'] for g in view['gates']} == {'not run'} and view['verdict'] == 'not run'
    assert [r['status'] for r in view['publish']['records']] == ['not reached'] * len(COMPONENTS)
    html = render_html(view)
    assert 'no publish report yet' in html and 'chart not produced' in html and 'href="' not in html.split(
        '</nav>')[1]


def test_links_point_only_at_files_that_exist(tmp_path):
    reports = write_reports(tmp_path)
    html = render_html(model.view_model(reports, tmp_path, COMPONENTS, 'now'))
    hrefs = re.findall(r'href="([^"#][^"]*)"', html)
    assert hrefs and all((reports / h).is_file() for h in hrefs), hrefs
    assert 'tests/io.xml' in hrefs and 'tests/vsa.xml' not in hrefs   # the missing JUnit file is not linked


def test_the_page_fetches_nothing_and_has_no_script(tmp_path):
    html = render_html(_view(tmp_path))
    assert '<script' not in html and "default-src 'none'" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert '+36.7%' in html and '<?xml' not in html   # the bench chart inlined, without its prolog


def test_the_graph_has_a_column_per_level_and_an_edge_per_dependency():
    layout = shapes.graph_layout({c['name']: c['level'] for c in COMPONENTS},
                                 {c['name']: tuple(c['deps']) for c in COMPONENTS})
    x = {n['name']: n['x'] for n in layout['nodes']}
    assert x['io'] == x['obs'] < x['vsa'] < x['cli']
    assert sorted((e['src'], e['dst']) for e in layout['edges']) == [('cli', 'vsa'), ('vsa', 'io'), ('vsa', 'obs')]
    assert all(e['x1'] > e['x2'] for e in layout['edges'])   # a package points back at what it depends on
    assert layout['width'] >= max(n['x'] + n['w'] for n in layout['nodes'])


def test_the_timeline_puts_every_step_on_one_axis(tmp_path):
    timeline = _view(tmp_path)['publish']['timeline']
    assert timeline['has_times'] and timeline['steps'] == ['build', 'upload', 'index visible', 'verified', 'tagged']
    rows = {r['name']: r for r in timeline['rows']}
    assert [s['step'] for s in rows['io']['segments']] == timeline['steps']
    ends = [s['x'] + s['w'] for s in rows['io']['segments']]
    assert ends == sorted(ends)
    assert rows['io']['segments'][1]['x'] < rows['cli']['segments'][1]['x']   # cli uploads after io


def test_a_record_without_times_draws_no_bar():
    timeline = shapes.timeline([{'component': 'io', 'status': 'failed', 'uploaded': None}])
    assert not timeline['has_times'] and timeline['rows'][0]['segments'] == []


def test_packages_show_versions_and_highlights(tmp_path):
    view = _view(tmp_path)
    vsa = next(p for p in view['packages'] if p['name'] == 'vsa')
    assert (vsa['version'], vsa['previous'], vsa['checklist']) == ('0.3.0', '0.2.0', 'pass')
    assert vsa['highlights'] == [('Added', 'AVX-512 popcount'), ('Fixed', 'bind of empty vectors')]
    assert view['release_notes'] == 'release-notes.md'


def test_plan_and_sboms_are_linked_when_present_and_not_produced_otherwise(tmp_path):
    reports = write_reports(tmp_path)
    _write(tmp_path / 'dist' / 'io' / 'embeddenator_io-0.2.0.tar.gz.cdx.json', '{}')
    wanted = (('plan', 'reports/publishing/plan.md'), ('SBOMs', 'dist/*/*.cdx.json'))
    view = model.view_model(reports, tmp_path, COMPONENTS, 'now', wanted)
    assert [a['files'] for a in view['artefacts']] == [[], ['../dist/io/embeddenator_io-0.2.0.tar.gz.cdx.json']]
    assert 'not produced' in render_html(view)


def test_publish_renders_the_dashboard_when_it_ends_pass_or_fail():
    """The teardown of `publish:preflight`, the task every publish runs first: doit runs it when the run ends,
    also after a gate or a package failed, so the page shows the failure."""
    from tasks.release import publish
    preflight = next(t for t in publish.task_publish(dry_run=True) if t['name'] == 'preflight')
    assert preflight['teardown'] == [publish.render_dashboard]
