"""Evidence that the benchmark gate does not flake: repeated gate runs on the kernel groups.

    python -m benchmarks.prove_gate [--runs 10] [--inject vsa-ops/bind/packed] [--groups vsa-ops,simd]

(a) `--runs` gate runs on the unchanged tree: none may give a critical verdict.
(b) `--runs` gate runs with a 15% slowdown injected into one kernel case: that case must be critical every time.

The injection is EMBEDDENATOR_BENCH_SLOWDOWN=<case>=0.15: the harness makes 15% more calls of that kernel inside
its measured region while still dividing by the nominal number of calls, so the case does 15% more real kernel
work per reported call. It needs no recompilation; it is not a change inside the C kernel itself.

The kernels are first compiled from the tree into a private snapshot (build/bench/proof/snapshot) and imported
from there, so nothing rebuilt in place meanwhile changes what is measured. Each run is compared with a first, uncounted run of the same tree (or, with --stored, with the baseline stored for
this machine in benchmarks/baselines.json): the question is whether the gate's verdict repeats, not whether the
tree changed since the baseline. Nothing is written to the baseline file. The figures go to
reports/bench/proof.json and are printed.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

from tasks import bench, bench_gate, bench_store
from tasks.bench import SLOWDOWN_ENV

ROOT = Path(__file__).resolve().parents[1]


def metrics(results: dict) -> list[dict]:
    return [m for g in results['groups'] for m in g['metrics']]


SNAPSHOT_ENV = 'EMBEDDENATOR_BENCH_SNAPSHOT'


def snapshot(folder: Path) -> Path:
    """A private build of the tree's compiled components under `folder` (sources copied, extensions compiled).

    The proof imports the kernels from there (PYTHONPATH comes before the editable installs), so a rebuild of the
    in-place modules while it runs (another build, a sanitizer build) cannot change what it measures.
    """
    from tasks.build import compile_extension, directives, extension_target
    from tasks.config import workspace
    ws, snap = workspace(), folder / 'snapshot'
    shutil.rmtree(snap, ignore_errors=True)
    for comp in ws.components.values():
        if not comp.extensions:
            continue
        src = comp.root / 'src'
        shutil.copytree(src, snap, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns('*.egg-info', '__pycache__', '*.so', '*.partial'))
        for ext in comp.extensions:
            target = snap / extension_target(comp, ext).relative_to(src)
            compile_extension(str(ws.root), str(comp.root), ext, directives(comp), str(folder / 'build'),
                              str(target))
    return snap


def kernels_digest() -> str:
    """A digest of the compiled extensions: a run whose kernels were rebuilt is not on an unchanged tree."""
    from embeddenator import vsa
    digest = hashlib.sha256()
    for target in sorted(Path(vsa.__file__).parent.glob('*.so')):
        digest.update(target.read_bytes())
    return digest.hexdigest()[:16]


def one_run(groups: list[str], marker: Path, base: dict, slowdown: str) -> dict:
    """One gate run; the classes, the verdict and the largest changes."""
    before = kernels_digest()
    os.environ[SLOWDOWN_ENV] = slowdown
    try:
        results = bench.measure(ROOT, groups, marker)
    finally:
        os.environ.pop(SLOWDOWN_ENV, None)
    rows = bench_gate.compare(metrics(results), base)
    gate = bench_gate.verdict(rows)
    return {'verdict': gate['verdict'], 'counts': gate['counts'], 'critical': gate['critical'],
            'seconds': results['seconds'], 'kernels': before if before == kernels_digest() else 'rebuilt during run',
            'changes': {r.id: (r.change, r.ci, r.cls) for r in rows}}


def reference(groups: list[str], marker: Path, key: str, baselines: Path, stored: bool) -> tuple[dict, str]:
    entry = bench_store.baseline_for(bench_store.load(baselines), key) if stored else None
    if entry is not None:
        return entry['metrics'], f'stored baseline of commit {entry["commit"][:12]}'
    results = bench.measure(ROOT, groups, marker)
    return bench_store.metrics_of(results), f'a first, uncounted run of kernels {kernels_digest()}'


def summarise(label: str, runs: list[dict], case: str | None) -> str:
    crit = sum(1 for r in runs if r['critical'])
    lines = [f'{label}: {len(runs)} runs, {crit} with a critical verdict']
    if case:
        hits = sum(1 for r in runs if case in r['critical'])
        changes = [r['changes'][case][0] for r in runs]
        lines.append(f'  {case} critical in {hits}/{len(runs)} runs; change {min(changes):+.2%} .. {max(changes):+.2%}')
    worst = {}
    for r in runs:
        for id_, (change, _ci, _cls) in r['changes'].items():
            if change is not None and id_ != case:
                worst[id_] = max(worst.get(id_, 0.0), abs(change))
    for id_, value in sorted(worst.items(), key=lambda kv: -kv[1])[:5]:
        lines.append(f'  largest |change| of {id_}: {value:.2%}')
    lines.append(f"  seconds per run: {min(r['seconds'] for r in runs)} .. {max(r['seconds'] for r in runs)}")
    builds = sorted({r['kernels'] for r in runs})
    lines.append(f"  compiled kernels: {', '.join(builds)}" + (' (CHANGED between runs)' if len(builds) > 1 else ''))
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--inject', default='vsa-ops/bind/packed', help='the case slowed down in part (b)')
    parser.add_argument('--fraction', type=float, default=0.15)
    parser.add_argument('--groups', default='vsa-ops,simd')
    parser.add_argument('--stored', action='store_true',
                        help="compare with this machine's stored baseline instead of a first run of this tree")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    out, groups = bench.paths(), args.groups.split(',')
    if not os.environ.get(SNAPSHOT_ENV):
        snap = snapshot(out['marker'].parent / 'proof')
        env = {**os.environ, SNAPSHOT_ENV: str(snap),
               'PYTHONPATH': os.pathsep.join(filter(None, [str(snap), str(ROOT), os.environ.get('PYTHONPATH')]))}
        os.execve(sys.executable, [sys.executable, '-m', 'benchmarks.prove_gate', *(argv or sys.argv[1:])], env)
    from embeddenator import vsa
    if not vsa.__file__.startswith(os.environ[SNAPSHOT_ENV]):
        raise RuntimeError(f'kernels imported from {vsa.__file__}, not from the snapshot')
    print(f'kernels: {Path(vsa.__file__).parent}', file=sys.stderr)
    from benchmarks.suite import callgrind
    from tasks.fingerprint import fingerprint, fingerprint_key
    if callgrind.available():
        callgrind.build_marker(out['marker'])
    started = time.monotonic()
    base, source = reference(groups, out['marker'], fingerprint_key(fingerprint()), out['baselines'],
                             args.stored)
    print(f'reference: {source}', file=sys.stderr)
    unchanged = [one_run(groups, out['marker'], base, '') for _ in range(args.runs)]
    print(summarise('(a) unchanged tree', unchanged, None), flush=True)
    inject = f'{args.inject}={args.fraction}'
    slowed = [one_run(groups, out['marker'], base, inject) for _ in range(args.runs)]
    print(summarise(f'(b) {SLOWDOWN_ENV}={inject}', slowed, args.inject), flush=True)
    ok_a = not any(r['critical'] for r in unchanged)
    ok_b = all(args.inject in r['critical'] for r in slowed)
    proof = {'verdict': 'pass' if ok_a and ok_b else 'fail',
             'summary': (f"(a) {sum(1 for r in unchanged if r['critical'])}/{args.runs} unchanged runs critical; "
                         f"(b) {args.inject} critical in {sum(1 for r in slowed if args.inject in r['critical'])}/"
                         f"{args.runs} runs with a {args.fraction:.0%} slowdown"),
             'reference': source, 'groups': groups, 'minutes': round((time.monotonic() - started) / 60, 1),
             'unchanged': unchanged, 'injected': {'case': args.inject, 'fraction': args.fraction, 'runs': slowed}}
    bench_store.write_json(out['results'].with_name('proof.json'), proof)
    print(f"{proof['verdict']}: {proof['summary']} ({proof['minutes']} min)")
    return 0 if proof['verdict'] == 'pass' else 1


def _main() -> int:
    from benchmarks.suite.callgrind import CallgrindError
    try:
        return main()
    except (CallgrindError, bench_store.BaselineError) as err:
        print(f'prove_gate: {err}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    raise SystemExit(_main())
