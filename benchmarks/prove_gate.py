"""Evidence that the benchmark gate does not flake: repeated same-run A/B gate runs on the kernel groups.

    python -m benchmarks.prove_gate [--runs 10] [--mechanism c-macro|harness] [--case ID] [--groups vsa-ops,simd]
                                    [--reference REV]

Each run is what `doit bench` does: the reference (by default HEAD, built privately from its commit the way the
gate builds the last release: tasks.bench.reference) and the current side measured together in one run.
(a) `--runs` runs with the current side built from the unchanged tree: none may give a critical verdict.
(b) `--runs` runs with a 15% slowdown injected into the current side's kernel: its case must be critical each time.

Two ways to inject the slowdown:
- `c-macro` (the default): a copy of the kernel sources is patched so that the top-k scan dispatcher (`krn_scan`)
  scans KRN_BENCH_SLOWDOWN_PERCENT% of its rows a second time (same scores, written again), and compiled with
  -DKRN_BENCH_SLOWDOWN_PERCENT=15: the C kernel itself does 15% more work. The measured case is the codebook top-k
  (simd/top_k-1k/<path>), whose call is mostly that scan; the tree's sources are never touched.
- `harness`: EMBEDDENATOR_BENCH_SLOWDOWN=<case>=0.15 makes the current side's harness call that case 15% more times
  inside its measured region while dividing by the nominal count: 15% more real work per reported call.

The current side's builds are private (build/bench/proof/), compiled from the tree and imported through PYTHONPATH
ahead of the editable installs, so nothing rebuilt in place meanwhile changes what is measured. No stored baseline
is read or written. The figures are printed and written to reports/bench/proof.json.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

from tasks.bench import bench, bench_gate, bench_store
from tasks.bench.bench import SLOWDOWN_ENV

ROOT = Path(__file__).resolve().parents[1]
MACRO = 'KRN_BENCH_SLOWDOWN_PERCENT'
SCAN_DISPATCHER = 'static inline void krn_scan(int path,'
DEFAULT_CASE = {'c-macro': 'simd/top_k-1k/avx2', 'harness': 'vsa-ops/bind/packed'}


class ProofError(Exception):
    """The proof cannot be set up; the message says what is missing."""


def metrics(results: dict) -> list[dict]:
    return [m for g in results['groups'] for m in g['metrics']]


def snapshot(folder: Path, sources: Path | None = None, cflags: tuple[str, ...] = ()) -> Path:
    """A private build of the tree's compiled components under `folder` (sources copied, extensions compiled).

    The proof imports the kernels from there (PYTHONPATH comes before the editable installs), so a rebuild of the
    in-place modules while it runs (another build, a sanitizer build) cannot change what it measures.
    `sources`: a folder holding a (patched) copy of the extension sources to compile instead of the tree's.
    """
    from tasks.core.config import workspace
    from tasks.core.kernels import compile_extension, directives, extension_target
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
            compile_extension(str(sources or ws.root), str(comp.root), ext, directives(comp),
                              str(folder / 'build'), str(target), extra_cflags=cflags)
    return snap


def patched_sources(stage: Path) -> Path:
    """A copy of the extensions' source folders in which the scan dispatcher rescans MACRO% of its rows."""
    from tasks.core.config import workspace
    ws = workspace()
    shutil.rmtree(stage, ignore_errors=True)
    for comp in ws.components.values():
        for ext in comp.extensions:
            for folder in {str(Path(s).parent) for s in ext.sources} | set(ext.include_dirs):
                shutil.copytree(ws.root / folder, stage / folder, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns('*.c', '*.html', '__pycache__'))
    for header in sorted(stage.rglob('*.h')):
        text = header.read_text(encoding='utf-8')
        if SCAN_DISPATCHER in text:
            break
    else:
        raise ProofError(f'no header defines `{SCAN_DISPATCHER} ...)`; use --mechanism harness')
    i = text.index(SCAN_DISPATCHER)
    j = text.index('\n}\n', i) + 3
    signature = text[i:text.index(')', i) + 1]
    injected = (f'\n/* Injected by benchmarks/prove_gate.py: rescan the first {MACRO}% of the rows (the same scores\n'
                f' * are written again), so the scan does that much more real work. */\n{signature} {{\n'
                '    krn_scan_measured(path, rows, stride, nw, r0, r1, queries, nq, scores, n);\n'
                f'    krn_scan_measured(path, rows, stride, nw, r0, r0 + (r1 - r0) * {MACRO} / 100, queries, nq,\n'
                '                      scores, n);\n}\n')
    text = text[:i] + text[i:j].replace('krn_scan(', 'krn_scan_measured(', 1) + injected + text[j:]
    header.write_text(text, encoding='utf-8')
    return stage


def kernels_digest(snap: Path) -> str:
    """A digest of a private build's compiled extensions: they must not change between runs."""
    digest = hashlib.sha256()
    for target in sorted(snap.rglob('*.so')):
        digest.update(target.read_bytes())
    return digest.hexdigest()[:16]


def one_run(groups: list[str], marker: Path, ref, ref_snap: Path, current: Path, slowdown: str) -> dict:
    """One same-run gate run, as `doit bench` makes it; the classes, the verdict and the changes."""
    before = kernels_digest(current)
    os.environ[SLOWDOWN_ENV] = slowdown
    try:
        results = bench.measure(ROOT, groups, marker, ref, ref_snap, current)
    finally:
        os.environ.pop(SLOWDOWN_ENV, None)
    rows = bench_gate.compare_ab(metrics(results))
    gate = bench_gate.verdict(rows, results['commit'], results['reference'])
    print(f"  {gate['verdict']}: {gate['summary']} ({results['seconds']} s)", flush=True)
    return {'verdict': gate['verdict'], 'counts': gate['counts'], 'critical': gate['critical'],
            'seconds': results['seconds'],
            'kernels': before if before == kernels_digest(current) else 'rebuilt during run',
            'changes': {r.id: (r.change, r.ci, r.cls) for r in rows}}


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


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--mechanism', choices=sorted(DEFAULT_CASE), default='c-macro')
    parser.add_argument('--case', help='the case that must turn critical (default: the one the mechanism slows)')
    parser.add_argument('--fraction', type=float, default=0.15)
    parser.add_argument('--groups', default='vsa-ops,simd')
    parser.add_argument('--reference', default='HEAD',
                        help='the commit measured as the reference in every run (default HEAD: the unchanged tree)')
    args = parser.parse_args(argv)
    args.case = args.case or DEFAULT_CASE[args.mechanism]
    return args


def main(argv=None) -> int:
    from tasks.bench import reference as bench_reference
    args = parse(list(sys.argv[1:] if argv is None else argv))
    os.chdir(ROOT)
    out, groups = bench.paths(), args.groups.split(',')
    started, work = time.monotonic(), out['marker'].parent / 'proof'
    sha = bench_reference.git(ROOT, 'rev-parse', '--verify', f'{args.reference}^{{commit}}')
    ref = bench_reference.Reference(sha, f'--reference {args.reference}')
    ref_snap = bench_reference.build_reference(ROOT, ref, out['references'], bench.measured_names())
    clean = snapshot(work / 'clean')
    slow = clean
    if args.mechanism == 'c-macro':
        percent = round(100 * args.fraction)
        slow = snapshot(work / 'injected', patched_sources(work / 'stage'), (f'-D{MACRO}={percent}',))
    print(f'reference: {sha[:12]} ({ref.how}), built in {ref_snap}', flush=True)
    print('(a) the unchanged tree against the reference', flush=True)
    unchanged = [one_run(groups, out['marker'], ref, ref_snap, clean, '') for _ in range(args.runs)]
    print(summarise('(a) unchanged tree', unchanged, None), flush=True)
    harness = f'{args.case}={args.fraction}' if args.mechanism == 'harness' else ''
    how = (f'-D{MACRO}={round(100 * args.fraction)} (scan kernel)' if args.mechanism == 'c-macro'
           else f'{SLOWDOWN_ENV}={harness}')
    print(f'(b) {how} against the reference', flush=True)
    slowed = [one_run(groups, out['marker'], ref, ref_snap, slow, harness) for _ in range(args.runs)]
    print(summarise(f'(b) {how}', slowed, args.case), flush=True)
    n_a = sum(1 for r in unchanged if r['critical'])
    n_b = sum(1 for r in slowed if args.case in r['critical'])
    proof = {'verdict': 'pass' if n_a == 0 and n_b == len(slowed) else 'fail',
             'summary': (f'(a) {n_a}/{len(unchanged)} unchanged runs critical; (b) {args.case} critical in '
                         f'{n_b}/{len(slowed)} runs with a {args.fraction:.0%} slowdown ({args.mechanism})'),
             'reference': ref.as_dict(), 'groups': groups, 'minutes': round((time.monotonic() - started) / 60, 1),
             'unchanged': unchanged,
             'injected': {'mechanism': args.mechanism, 'case': args.case, 'fraction': args.fraction, 'runs': slowed}}
    bench_store.write_json(out['results'].with_name('proof.json'), proof)
    print(f"{proof['verdict']}: {proof['summary']} ({proof['minutes']} min)")
    return 0 if proof['verdict'] == 'pass' else 1


def _main() -> int:
    from tasks.bench.reference import ReferenceError
    from tasks.bench.suite.ab import ABError
    from tasks.bench.suite.callgrind import CallgrindError
    try:
        return main()
    except (ABError, CallgrindError, ProofError, ReferenceError) as err:
        print(f'prove_gate: {err}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    raise SystemExit(_main())
