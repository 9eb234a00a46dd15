"""`bench` and `bench_baseline`: the benchmark suite, the same-run comparison with the last release, the gate.

`bench` chooses the reference (the last release of the measured components: tasks.bench.reference), builds its
kernels once in a private folder under build/, and measures reference and current in the same run
(tasks.bench.suite.ab). It classifies every change (tasks.bench.bench_gate) and writes reports/bench/results.json,
gate.json (read by `publish`), report.md and chart.svg, naming both commits. A critical regression fails the task.
A baseline stored for this machine (benchmarks/baselines.json) is compared too, as an extra that never decides;
`bench` never writes it: `bench_baseline` is the only task that does, when asked by name.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path


from doit.exceptions import TaskFailed
from doit.task import clean_targets

from tasks.bench import bench_gate, bench_report, bench_store
from tasks.bench import reference as bench_reference
from tasks.core import reporting
from tasks.bench.fingerprint import fingerprint, fingerprint_key
from tasks.core.config import settings, workspace
from tasks.core.files import remove_tree, source_files
from tasks.core.heartbeat import Heartbeat
from tasks.core.kernels import extension_inputs
from tasks.core.uptodate import lazy_config_changed

SLOWDOWN_ENV = 'EMBEDDENATOR_BENCH_SLOWDOWN'   # a test of the gate: see tasks/bench/suite/cases.py
ALL_GROUPS = 'vsa-ops,simd,hier-scale,hier-query,retrieval,scan,approx,resonator,shards'


def paths() -> dict[str, Path]:
    cfg = settings()
    out = cfg.path(cfg.reports, 'bench')
    return {'results': out / 'results.json', 'gate': out / 'gate.json', 'report': out / 'report.md',
            'chart': out / 'chart.svg', 'baselines': cfg.path(cfg.get('bench-baselines', 'benchmarks/baselines.json')),
            'marker': cfg.path(cfg.build, 'bench', 'cgmark.so'),
            'references': cfg.path(cfg.build, 'bench', 'reference')}


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


def measured_names() -> list[str]:
    return [c.name for c in measured_components(workspace())]


def choose_reference(root: Path) -> bench_reference.Reference:
    cfg = settings()
    return bench_reference.reference_commit(root, cfg.get(bench_reference.SETTING),
                                            cfg.get('tag-pattern', bench_reference.DEFAULT_TAG_PATTERN),
                                            measured_names())


def measure(root: Path, chosen: list[str], marker: Path, reference: bench_reference.Reference | None = None,
            snapshot: Path | None = None, current: Path | None = None) -> dict:
    """Run the suite on both sides; the results with fingerprint, both commits and any injected slowdown.

    `snapshot`: the reference's import root (None: measure the current tree alone). `current`: the current side's
    own import root (a private build, as the gate's proof uses), else the tree as installed.
    """
    from tasks.bench.suite import ab, callgrind
    if callgrind.available():
        callgrind.build_marker(marker)
    fp = fingerprint()
    sha, dirty = commit_of(root)
    slowdown = os.environ.get(SLOWDOWN_ENV, '')
    sides = [ab.Side('current', current, slowdown)]
    if snapshot is not None:
        sides.append(ab.Side('reference', snapshot, ''))
    progress = ab.Progress()
    with Heartbeat('bench', progress):
        suite = ab.compare(chosen, marker if callgrind.available() else None, sides, progress)
    return {'format': 2, 'commit': sha, 'dirty': dirty,
            'reference': reference.as_dict() if reference else {},
            'created': dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
            'fingerprint_key': fingerprint_key(fp), 'fingerprint': fp, 'slowdown': slowdown, **suite}


def metrics_of(results: dict) -> list[dict]:
    return [m for g in results['groups'] for m in g['metrics']]


def gate(results: dict, baselines_path: Path) -> tuple[dict, list, dict]:
    """The verdict of the A/B comparison, its rows, and the optional comparison with a stored baseline.

    The stored baseline (if this machine has one) is shown beside the verdict, never part of it, never written.
    """
    rows = bench_gate.compare_ab(metrics_of(results))
    verdict = bench_gate.verdict(rows, results['commit'], results.get('reference'))
    try:
        base = bench_store.baseline_for(bench_store.load(baselines_path), results['fingerprint_key'])
    except bench_store.BaselineError as err:
        return verdict, rows, {'error': str(err)}
    if base is None:
        return verdict, rows, {}
    stored = bench_gate.compare(metrics_of(results), base['metrics'])
    return verdict, rows, {'commit': base['commit'], 'recorded': base['recorded'], 'counts': bench_gate.counts(stored),
                           'rows': stored}


def write_reports(results: dict, verdict: dict, rows: list, stored: dict, out: dict[str, Path]) -> None:
    bench_store.write_json(out['results'], results)
    bench_store.write_json(out['gate'], verdict)
    ref = results.get('reference') or {}
    bench_report.chart(rows, out['chart'], f"current {results['commit'][:12]} against reference "
                                           f"{ref.get('commit', '?')[:12]}")
    ctx = bench_report.context(results, verdict, rows, stored, out['chart'].name)
    reporting.replace_file(out['report'], bench_report.render(ctx))


def run_bench(root: str, chosen: list[str]):
    """The `bench` action: choose and build the reference, measure both, gate, report; TaskFailed on a regression."""
    from tasks.bench.suite.ab import ABError
    from tasks.bench.suite.callgrind import CallgrindError
    out, root = paths(), Path(root)
    try:
        ref = choose_reference(root)
        snapshot = bench_reference.build_reference(root, ref, out['references'], measured_names())
        print(f"bench: current {commit_of(root)[0][:12]} against reference {ref.commit[:12]} ({ref.how})",
              file=sys.stderr, flush=True)
        results = measure(root, chosen, out['marker'], ref, snapshot)
        verdict, rows, stored = gate(results, out['baselines'])
    except (bench_reference.ReferenceError, ABError, CallgrindError, ValueError) as err:
        return TaskFailed(f'bench: {err}')
    write_reports(results, verdict, rows, stored, out)
    print(f"bench: {verdict['verdict']}: {verdict['summary']} ({results['seconds']} s; see {out['report']})",
          file=sys.stderr)
    if verdict['verdict'] != 'pass':
        return TaskFailed(f"bench: critical regression in {', '.join(verdict['critical'])} against the reference "
                          f"{ref.commit[:12]}; publish is blocked (see {out['report']})")
    return True


def replace_baseline():
    """The `bench_baseline` action: store the latest results as this machine's baseline."""
    out = paths()
    if not out['results'].exists():
        return TaskFailed(f"bench_baseline: {out['results']} does not exist; run `doit bench` first")
    results = json.loads(out['results'].read_text(encoding='utf-8'))
    if results.get('slowdown'):
        return TaskFailed(f"bench_baseline: {out['results']} was measured with {SLOWDOWN_ENV}="
                          f"{results['slowdown']}; run `doit bench` without it first")
    try:
        store = bench_store.load(out['baselines'])
    except bench_store.BaselineError as err:
        return TaskFailed(f'bench_baseline: {err}')
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
    """Non-file inputs of a bench run: the machine, the reference commit (asking git and the compilers costs
    time: only when bench is checked)."""
    try:
        ref = choose_reference(settings().root).commit
    except bench_reference.ReferenceError as err:
        ref = str(err)   # the action reports it
    return {'fingerprint': fingerprint_key(fingerprint()), 'groups': groups(), 'reference': ref,
            'slowdown': os.environ.get(SLOWDOWN_ENV, '')}


def task_bench():
    """compare the kernels with the last release in one run; the regression gate (reports/bench/)"""
    ws, out = workspace(), paths()
    comps = measured_components(ws)
    code = [f for c in comps for f in source_files([c.root / 'src']) if f.suffix == '.py']
    plugin = [Path(__file__), Path(bench_gate.__file__), Path(bench_store.__file__), Path(bench_report.__file__),
              Path(bench_reference.__file__)]
    deps = [*extension_inputs(comps), *code, *suite_files(ws.root), *plugin,
            reporting.TEMPLATES / bench_report.TEMPLATE]
    if out['baselines'].exists():
        deps.append(out['baselines'])
    return {
        'actions': [(run_bench, [str(ws.root), groups()])],
        'file_dep': sorted(str(p) for p in deps),
        'targets': [str(out[k]) for k in ('results', 'gate', 'report', 'chart')],
        'uptodate': [lazy_config_changed(_bench_config)],
        # the reference builds and the region marker are this task's alone: `doit clean` removes them too
        'clean': [clean_targets, (remove_tree, [str(out['marker'].parent)])],
    }


def task_bench_baseline():
    """store the latest bench results as this machine's optional baseline (benchmarks/baselines.json; commit it)"""
    out = paths()
    return {
        'actions': [replace_baseline],
        'file_dep': [str(out['results'])],
        'uptodate': [False],  # asked for by name only, and then always done
    }
