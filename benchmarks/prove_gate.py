"""Evidence that the benchmark gate does not flake: repeated gate runs on the kernel groups.

    python -m benchmarks.prove_gate [--runs 10] [--mechanism c-macro|harness] [--case ID] [--groups vsa-ops,simd]

(a) `--runs` gate runs on the unchanged tree: none may give a critical verdict.
(b) `--runs` gate runs with a 15% slowdown injected into one kernel: its case must be critical every time.

Two ways to inject the slowdown:
- `c-macro` (the default): a copy of the kernel sources is patched so that the top-k scan dispatcher (`krn_scan`)
  scans KRN_BENCH_SLOWDOWN_PERCENT% of its rows a second time (same scores, written again), and compiled with
  -DKRN_BENCH_SLOWDOWN_PERCENT=15: the C kernel itself does 15% more work. The measured case is the codebook top-k
  (simd/top_k-1k/<path>), whose call is mostly that scan; the tree's sources are never touched.
- `harness`: EMBEDDENATOR_BENCH_SLOWDOWN=<case>=0.15 makes the harness call that case 15% more times inside its
  measured region while dividing by the nominal count: 15% more real work per reported call, no recompiling.

Both builds are private (build/bench/proof/), compiled from the tree and imported through PYTHONPATH ahead of the
editable installs, so nothing rebuilt in place meanwhile changes what is measured. Each run is compared with a
first, uncounted run of the unchanged build (or, with --stored, with the baseline stored for this machine): the
question is whether the verdict repeats. Nothing is written to the baseline file. The figures are printed and
written to reports/bench/proof.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tasks.bench import bench, bench_gate, bench_store
from tasks.bench.bench import SLOWDOWN_ENV

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_ENV = 'EMBEDDENATOR_BENCH_SNAPSHOT'
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
    from tasks.core.kernels import compile_extension, directives, extension_target
    from tasks.core.config import workspace
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


def phase(args, groups: list[str], out: dict) -> int:
    """Inside one private build: (a) the reference and the unchanged runs, or (b) the injected runs."""
    from embeddenator import vsa
    if not vsa.__file__.startswith(os.environ[SNAPSHOT_ENV]):
        raise ProofError(f'kernels imported from {vsa.__file__}, not from {os.environ[SNAPSHOT_ENV]}')
    state = Path(args.state)
    if args.phase == 'unchanged':
        from tasks.bench.fingerprint import fingerprint, fingerprint_key
        base, source = reference(groups, out['marker'], fingerprint_key(fingerprint()), out['baselines'],
                                 args.stored)
        runs = [one_run(groups, out['marker'], base, '') for _ in range(args.runs)]
        bench_store.write_json(state, {'reference': base, 'source': source, 'runs': runs})
    else:
        base = json.loads(Path(args.reference).read_text(encoding='utf-8'))['reference']
        slowdown = f'{args.case}={args.fraction}' if args.mechanism == 'harness' else ''
        runs = [one_run(groups, out['marker'], base, slowdown) for _ in range(args.runs)]
        bench_store.write_json(state, {'runs': runs})
    return 0


def in_build(snap: Path, argv: list[str]) -> None:
    """Run this script's `argv` in a child process that imports the kernels from `snap`."""
    env = {**os.environ, SNAPSHOT_ENV: str(snap),
           'PYTHONPATH': os.pathsep.join(filter(None, [str(snap), str(ROOT), os.environ.get('PYTHONPATH')]))}
    proc = subprocess.run([sys.executable, '-m', 'benchmarks.prove_gate', *argv], env=env)
    if proc.returncode:
        raise ProofError(f'the proof phase {argv[argv.index("--phase") + 1]} failed (exit {proc.returncode})')


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--mechanism', choices=sorted(DEFAULT_CASE), default='c-macro')
    parser.add_argument('--case', help='the case that must turn critical (default: the one the mechanism slows)')
    parser.add_argument('--fraction', type=float, default=0.15)
    parser.add_argument('--groups', default='vsa-ops,simd')
    parser.add_argument('--stored', action='store_true',
                        help="compare with this machine's stored baseline instead of a first run of this tree")
    parser.add_argument('--phase', choices=('unchanged', 'injected'), help=argparse.SUPPRESS)
    parser.add_argument('--state', help=argparse.SUPPRESS)
    parser.add_argument('--reference', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.case = args.case or DEFAULT_CASE[args.mechanism]
    return args


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    os.chdir(ROOT)
    out, groups = bench.paths(), args.groups.split(',')
    from tasks.bench.suite import callgrind
    if callgrind.available():
        callgrind.build_marker(out['marker'])
    if args.phase:
        return phase(args, groups, out)
    started, work = time.monotonic(), out['marker'].parent / 'proof'
    clean = snapshot(work / 'clean')
    slow = clean
    if args.mechanism == 'c-macro':
        percent = round(100 * args.fraction)
        slow = snapshot(work / 'injected', patched_sources(work / 'stage'), (f'-D{MACRO}={percent}',))
    a_state, b_state = work / 'unchanged.json', work / 'injected.json'
    in_build(clean, [*argv, '--phase', 'unchanged', '--state', str(a_state)])
    a = json.loads(a_state.read_text(encoding='utf-8'))
    print(f"reference: {a['source']}", flush=True)
    print(summarise('(a) unchanged tree', a['runs'], None), flush=True)
    in_build(slow, [*argv, '--phase', 'injected', '--state', str(b_state), '--reference', str(a_state)])
    slowed = json.loads(b_state.read_text(encoding='utf-8'))['runs']
    how = (f'-D{MACRO}={round(100 * args.fraction)} (scan kernel)' if args.mechanism == 'c-macro'
           else f'{SLOWDOWN_ENV}={args.case}={args.fraction}')
    print(summarise(f'(b) {how}', slowed, args.case), flush=True)
    unchanged = a['runs']
    n_a = sum(1 for r in unchanged if r['critical'])
    n_b = sum(1 for r in slowed if args.case in r['critical'])
    proof = {'verdict': 'pass' if n_a == 0 and n_b == len(slowed) else 'fail',
             'summary': (f'(a) {n_a}/{len(unchanged)} unchanged runs critical; (b) {args.case} critical in '
                         f'{n_b}/{len(slowed)} runs with a {args.fraction:.0%} slowdown ({args.mechanism})'),
             'reference': a['source'], 'groups': groups, 'minutes': round((time.monotonic() - started) / 60, 1),
             'unchanged': unchanged,
             'injected': {'mechanism': args.mechanism, 'case': args.case, 'fraction': args.fraction, 'runs': slowed}}
    bench_store.write_json(out['results'].with_name('proof.json'), proof)
    print(f"{proof['verdict']}: {proof['summary']} ({proof['minutes']} min)")
    return 0 if proof['verdict'] == 'pass' else 1


def _main() -> int:
    from tasks.bench.suite.callgrind import CallgrindError
    try:
        return main()
    except (CallgrindError, ProofError, bench_store.BaselineError) as err:
        print(f'prove_gate: {err}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    raise SystemExit(_main())
