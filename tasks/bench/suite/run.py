"""Run the benchmark groups and return their metrics; what the numbers mean is in METHOD.

    python -m tasks.bench.suite.run [--groups vsa-ops,simd] [--out results.json]

is the same suite outside doit (the `bench` task adds the fingerprint, the commit, the baseline and the gate).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from tasks.bench.suite import callgrind, past_exact, walls
from tasks.bench.suite.cases import kernel_cases, slowdowns
from tasks.bench.suite.timing import interleaved, repeat

GROUPS = {
    'vsa-ops': 'VSA operations (bundle, bind, permute on sparse, packed and block-sparse vectors)',
    'simd': 'SIMD dot, cosine and codebook top-k, per available path',
    'hier-scale': 'Hierarchical scale: bundling with thinning, 10K, 100K and 1M items',
    'hier-query': 'Hierarchical query: 1K queries',
    'retrieval': 'Retrieval: index build and query, 10K items',
    'scan': 'Codebook scan against numpy and the measured read bandwidth',
    'approx': 'Approximate two-stage search against exact search, 10K items',
    'resonator': 'Resonator factorisation of a bound triple against numpy',
    'shards': 'Sharded search on a local Dask cluster against one in-process scan',
}
KERNEL_GROUPS = ('vsa-ops', 'simd')
COUNTED_PATHS = ('scalar', 'avx2')   # what valgrind can execute; AVX-512 is timed against AVX2

METHOD = """\
Kernel groups (vsa-ops, simd) are measured in instructions per call, counted by valgrind's callgrind between two \
markers around a loop of calls (Python call overhead included). Instruction counts do not depend on the load of \
the machine: repeated runs give identical counts, so these metrics decide the gate reproducibly. valgrind cannot \
execute AVX-512, so it counts the scalar and AVX2 paths; the AVX-512 path is timed against AVX2. Everything runs \
on one thread. Wall-clock groups are time ratios against a reference measured in the same run (the numpy \
equivalent of the same work, the read-bandwidth probe, or the AVX2 path), over several rounds in shuffled order; \
the metric is the median ratio with a 95% bootstrap interval (never narrower than +/-5%, the spread seen between \
separate runs); a change over 10% only counts as critical when its whole interval lies above 10% (otherwise it is \
reported as major and uncertain): separate runs of one timed kernel were seen to differ by up to 15% here."""


def log(msg: str) -> None:
    print(f'bench: {msg}', file=sys.stderr, flush=True)


def _set_path_fn(vsa):
    """The kernels' path switch, if they expose one (needed to time AVX-512 against AVX2 in one process)."""
    from importlib import import_module
    fn = getattr(vsa, 'set_simd_path', None)
    if fn is None:
        try:
            fn = getattr(import_module(vsa.__name__ + '._kernels'), 'set_simd_path', None)
        except ImportError:
            fn = None
    return fn


def counted_metrics(vsa, groups: list[str], marker: Path) -> list[dict]:
    """Instruction counts of the kernel groups, one valgrind process per counted path (run side by side)."""
    paths = [p for p in COUNTED_PATHS if p in vsa.available_paths()]
    # vsa-ops on the widest counted path only; the SIMD cases on every counted path
    jobs = {p: [g for g in groups if g == 'simd' or p == paths[-1]] for p in paths}
    jobs = {p: g for p, g in jobs.items() if g}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {p: pool.submit(callgrind.count, marker, ['--groups', ','.join(g)], p) for p, g in jobs.items()}
        per_call = {}
        for p, fut in futures.items():
            per_call.update(fut.result())
    out = []
    for id_, (value, label) in sorted(per_call.items()):
        out.append({'id': id_, 'group': id_.split('/', 1)[0], 'label': label, 'value': value,
                    'unit': 'instructions/call', 'rel_ci': None, 'method': 'callgrind'})
    return out


def timed_kernel_metrics(vsa, groups: list[str]) -> list[dict]:
    """Without valgrind: each kernel case timed against a fixed numpy workload (noisier; a different unit)."""
    import numpy as np
    calibration = partial(np.bitwise_count, np.arange(2 * 157 * 64, dtype=np.uint64))
    injected, out = slowdowns(), []
    for case in kernel_cases(vsa, set(groups)):
        calls = case.calls + round(case.calls * injected.get(case.id, 0.0))
        t = interleaved(repeat(case.fn, calls), calibration, rounds=9)
        out.append(walls.metric(case.id, case.label, t, 'time ratio to calibration',
                                ns_per_call=t.subject_ns / case.calls))
    return out


def run_groups(groups: list[str], marker: Path | None) -> dict:
    """{'groups': [...], 'ratios': {...}, 'seconds': s}: every requested group that can run here."""
    from embeddenator import vsa
    if hasattr(vsa, 'set_num_threads'):
        vsa.set_num_threads(1)  # two cores shared with other work: thread scaling would only add noise
    started, results, ratios = time.monotonic(), [], {}
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValueError(f'unknown benchmark group(s) {", ".join(unknown)}; choose from {", ".join(GROUPS)}')
    kernel = [g for g in KERNEL_GROUPS if g in groups]
    metrics: list[dict] = []
    notes: dict[str, list[str]] = {g: [] for g in groups}
    if kernel:
        log(f'counting instructions for {", ".join(kernel)} under callgrind')
        if marker is not None and callgrind.available():
            metrics += counted_metrics(vsa, kernel, marker)
        else:
            notes[kernel[0]].append('valgrind not found: kernel cases timed instead of counted')
            metrics += timed_kernel_metrics(vsa, kernel)
    if 'simd' in groups:
        set_path = _set_path_fn(vsa)
        if 'avx512' in vsa.available_paths() and set_path is not None:
            log('timing the AVX-512 path against AVX2')
            metrics += walls.avx512(vsa, set_path, slowdowns())
        else:
            notes['simd'].append('AVX-512 path not timed: not available on this CPU or no path switch')
    if 'hier-scale' in groups:
        log('timing hierarchical bundling at 10K, 100K and 1M items')
        metrics += walls.hier_scale(vsa)
    if 'hier-query' in groups:
        log('timing 1K hierarchical queries')
        metrics += walls.hier_query(vsa)
    if 'retrieval' in groups:
        log('timing retrieval index build and query')
        found, note = walls.retrieval()
        metrics += found
        if note:
            notes['retrieval'].append(note)
    if 'scan' in groups:
        log('timing the codebook scan against numpy and the read bandwidth')
        found, ratios = walls.scan(vsa)
        metrics += found
    for name, fn in (('approx', past_exact.approx), ('resonator', past_exact.resonator), ('shards', past_exact.shards)):
        if name in groups:
            log(f'timing {GROUPS[name].lower()}')
            found, note = fn()
            metrics += found
            notes[name] += [note] if note else []
    for g in groups:
        results.append({'name': g, 'title': GROUPS[g], 'notes': notes[g],
                        'metrics': [m for m in metrics if m['group'] == g]})
    return {'groups': results, 'ratios': ratios, 'method': METHOD,
            'seconds': round(time.monotonic() - started, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--groups', default=','.join(GROUPS))
    parser.add_argument('--marker', default='build/bench/cgmark.so')
    parser.add_argument('--out')
    args = parser.parse_args(argv)
    marker = Path(args.marker)
    if callgrind.available() and not marker.exists():
        callgrind.build_marker(marker)
    out = run_groups(args.groups.split(','), marker)
    text = json.dumps(out, indent=2)
    if args.out:
        Path(args.out).write_text(text + '\n', encoding='utf-8')
    else:
        print(text)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
