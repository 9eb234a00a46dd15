"""`bench` and `bench_baseline`: the benchmark suite, its stored per-machine baselines, and the regression gate.

`bench` runs tasks/bench/suite against the built kernels, writes reports/bench/results.json (metrics, machine
fingerprint, commit), compares with the baseline stored for this machine's fingerprint, classifies every change
(tasks.bench.bench_gate), and writes reports/bench/gate.json (read by `publish`), report.md and chart.svg. A critical
regression fails the task. A machine with no baseline, or a metric the baseline lacks, is recorded into the
baseline file and the report says so; a stored value is only ever replaced by `doit bench_baseline`.

How the numbers are made reproducible on a shared machine is in tasks/bench/suite/run.py (METHOD) and the report.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path


from tasks.bench import bench_gate, bench_report, bench_store
from tasks.core import reporting
from tasks.core.kernels import extension_targets
from tasks.core.config import settings, workspace
from tasks.bench.fingerprint import fingerprint, fingerprint_key
from tasks.core.files import source_files
from tasks.core.uptodate import lazy_config_changed

SLOWDOWN_ENV = 'EMBEDDENATOR_BENCH_SLOWDOWN'   # a test of the gate: see tasks/bench/suite/cases.py
ALL_GROUPS = 'vsa-ops,simd,hier-scale,hier-query,retrieval,scan,approx,resonator,shards'


def paths() -> dict[str, Path]:
    cfg = settings()
    out = cfg.path(cfg.reports, 'bench')
    return {'results': out / 'results.json', 'gate': out / 'gate.json', 'report': out / 'report.md',
            'chart': out / 'chart.svg', 'baselines': cfg.path(cfg.get('bench-baselines', 'benchmarks/baselines.json')),
            'marker': cfg.path(cfg.build, 'bench', 'cgmark.so')}


def groups() -> list[str]:
    return [g.strip() for g in settings().get('bench-groups', ALL_GROUPS).split(',') if g.strip()]


def commit_of(root: Path) -> tuple[str, bool]:
    """HEAD's SHA and whether the tree has uncommitted changes to tracked files ('unknown' outside git)."""
    try:
        import git
        repo = git.Repo(root)
        return repo.head.commit.hexsha, repo.is_dirty(untracked_files=False)
    except Exception:  # no git, no repository, no commit yet: the results still stand
        return 'unknown', False


def measure(root: Path, chosen: list[str], marker: Path) -> dict:
    """Run the suite; the results with fingerprint, commit and injected slowdowns."""
    from tasks.bench.suite import callgrind
    from tasks.bench.suite.run import run_groups
    if callgrind.available():
        callgrind.build_marker(marker)
    fp = fingerprint()
    sha, dirty = commit_of(root)
    suite = run_groups(chosen, marker if callgrind.available() else None)
    return {'format': 1, 'commit': sha, 'dirty': dirty,
            'created': dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
            'fingerprint_key': fingerprint_key(fp), 'fingerprint': fp,
            'slowdown': os.environ.get(SLOWDOWN_ENV, ''), **suite}


def gate(results: dict, baselines_path: Path) -> tuple[dict, list, dict | None]:
    """Compare `results` with the stored baseline; record a missing machine or missing metrics (never replace)."""
    store = bench_store.load(baselines_path)
    key = results['fingerprint_key']
    base = bench_store.baseline_for(store, key)
    rows = bench_gate.compare([m for g in results['groups'] for m in g['metrics']], base and base['metrics'])
    fresh = [r.id for r in rows if r.cls == 'new']
    if fresh and not results['slowdown']:
        bench_store.write_json(baselines_path, bench_store.record(store, key, results, keep_existing=True))
    verdict = bench_gate.verdict(rows, baseline_recorded=base is None, machine=key)
    if base is not None and fresh:
        verdict['summary'] += f'; {len(fresh)} new metric(s) recorded into the baseline'
    return verdict, rows, base


def write_reports(results: dict, verdict: dict, rows: list, base: dict | None, out: dict[str, Path]) -> None:
    bench_store.write_json(out['results'], results)
    bench_store.write_json(out['gate'], verdict)
    bench_report.chart(rows, out['chart'], f"{results['commit'][:12]} against the baseline of machine "
                                           f"{results['fingerprint_key']}")
    ctx = bench_report.context(results, verdict, rows, base, out['chart'].name)
    reporting.replace_file(out['report'], bench_report.render(ctx))


def run_bench(root: str, chosen: list[str]):
    """The `bench` action: measure, gate, report; fails (False) on a critical regression or a broken setup."""
    from tasks.bench.suite.callgrind import CallgrindError
    out = paths()
    try:
        results = measure(Path(root), chosen, out['marker'])
        verdict, rows, base = gate(results, out['baselines'])
    except (bench_store.BaselineError, CallgrindError, ValueError) as err:
        print(f'bench: {err}', file=sys.stderr)
        return False
    write_reports(results, verdict, rows, base, out)
    print(f"bench: {verdict['verdict']}: {verdict['summary']} ({results['seconds']} s; see {out['report']})",
          file=sys.stderr)
    if verdict['verdict'] != 'pass':
        print(f"bench: critical regression in {', '.join(verdict['critical'])}; publish is blocked",
              file=sys.stderr)
        return False
    return True


def replace_baseline():
    """The `bench_baseline` action: store the latest results as this machine's baseline."""
    out = paths()
    results = json.loads(out['results'].read_text(encoding='utf-8'))
    if results.get('slowdown'):
        print(f"bench_baseline: {out['results']} was measured with {SLOWDOWN_ENV}={results['slowdown']}; "
              f'run `doit bench` without it first', file=sys.stderr)
        return False
    try:
        store = bench_store.load(out['baselines'])
    except bench_store.BaselineError as err:
        print(f'bench_baseline: {err}', file=sys.stderr)
        return False
    bench_store.write_json(out['baselines'], bench_store.record(store, results['fingerprint_key'], results))
    print(f"bench_baseline: {out['baselines']} now holds commit {results['commit'][:12]} for machine "
          f"{results['fingerprint_key']}; commit it", file=sys.stderr)
    return True


def measured_components(ws) -> list:
    """The components the suite imports (setting `bench-components`, default all) and everything they depend on."""
    from doit.exceptions import InvalidDodoFile
    names = (settings().get('bench-components') or '').replace(',', ' ').split() or list(ws.components)
    unknown = sorted(set(names) - set(ws.components))
    if unknown:
        raise InvalidDodoFile(f'setup.cfg [embeddenator] bench-components: unknown component(s) {", ".join(unknown)};'
                              f' use names from {", ".join(ws.components)}')
    chosen = set(names).union(*(ws.closure(n) for n in names))
    return [c for n, c in ws.components.items() if n in chosen]


def suite_files(root: Path) -> list[Path]:
    return [p for p in source_files([Path(__file__).resolve().parent / 'suite']) if p.suffix in ('.py', '.c')]


def _bench_config() -> dict:
    """Non-file inputs of a bench run: the machine (asking the compilers costs time: only when bench is checked)."""
    return {'fingerprint': fingerprint_key(fingerprint()), 'groups': groups(),
            'slowdown': os.environ.get(SLOWDOWN_ENV, '')}


def task_bench():
    """run the benchmark suite and the regression gate (reports/bench/: results, gate, report, chart)"""
    ws, out = workspace(), paths()
    comps = measured_components(ws)
    code = [f for c in comps for f in source_files([c.root / 'src']) if f.suffix == '.py']
    plugin = [Path(__file__), Path(bench_gate.__file__), Path(bench_store.__file__), Path(bench_report.__file__)]
    deps = [*extension_targets(comps), *code, *suite_files(ws.root), *plugin,
            reporting.TEMPLATES / bench_report.TEMPLATE]
    if out['baselines'].exists():
        deps.append(out['baselines'])
    return {
        'actions': [(run_bench, [str(ws.root), groups()])],
        'file_dep': sorted(str(p) for p in deps),
        'targets': [str(out[k]) for k in ('results', 'gate', 'report', 'chart')],
        'uptodate': [lazy_config_changed(_bench_config)],
        'clean': True,
    }


def task_bench_baseline():
    """store the latest bench results as this machine's baseline (benchmarks/baselines.json; commit it)"""
    out = paths()
    return {
        'actions': [replace_baseline],
        'file_dep': [str(out['results'])],
        'uptodate': [False],  # asked for by name only, and then always done
    }
