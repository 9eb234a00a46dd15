"""The same-run A/B comparison: the current tree against a reference build (the last release), measured together.

- Kernel groups (vsa-ops, simd): callgrind counts the instructions per call of each side, one run per side and
  SIMD path (counts repeat exactly, so one run decides). Both sides' workers get environments of the same size.
- Wall-clock groups: one long-lived probe worker per side (tasks.bench.suite.worker); round after round, each probe
  is timed once on each side, the two sides in shuffled order, so a burst of load hits both alike. A probe's change
  is the median over rounds of current time / reference time, with a bootstrap 95% interval, never narrower than
  CI_FLOOR (two processes running the same code were seen to differ by a few per cent); the gate calls it
  critical only when the whole interval lies above 10% (tasks.bench.bench_gate).

The reference side imports the reference's private build first (PYTHONPATH); the workers check that they did.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tasks.bench.suite import callgrind
from tasks.bench.suite.timing import median_ci

ROOT = Path(__file__).resolve().parents[3]
KERNEL_GROUPS = ('vsa-ops', 'simd')
COUNTED_PATHS = ('scalar', 'avx2')   # what valgrind can execute; AVX-512 is timed against AVX2
CI_FLOOR = 0.05
# The same-process reference (numpy, the read probe, AVX2) only gives the value shown beside the change, not the
# change itself: it is timed in the first rounds only, which halves the cost of the rest.
SAME_PROCESS_ROUNDS = 3
SNAPSHOT_ENV = 'EMBEDDENATOR_BENCH_SNAPSHOT'


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

METHOD = """\
The current tree is compared with a reference (the last release, built privately from its commit) in the same run. \
Kernel groups (vsa-ops, simd) are measured in instructions per call, counted by valgrind's callgrind between two \
markers around a loop of calls (Python call overhead included), one run per side and SIMD path: instruction counts \
do not depend on the load of the machine, repeated runs give identical counts, so these metrics decide the gate \
reproducibly. valgrind cannot execute AVX-512, so it counts the scalar and AVX2 paths; the AVX-512 path is timed \
against AVX2. Everything runs on one thread. Wall-clock groups run in one worker process per side; round after \
round each probe is timed once on each side, in shuffled order, so a burst of load hits both alike. The change is \
the median over rounds of current time / reference time with a 95% bootstrap interval (never narrower than +/-5%, \
the spread seen between two processes running the same code); a change over 10% only counts as critical when its \
whole interval lies above 10% (otherwise it is reported as major and uncertain). The value shown for a \
wall-clock metric is its time ratio to a same-process reference (the numpy equivalent of the same work, the \
read-bandwidth probe, or the AVX2 path)."""


class ABError(Exception):
    """A side could not be measured; the message names the side and what failed."""


@dataclass(frozen=True)
class Side:
    """One side of the comparison: 'current' (the tree as built in place) or 'reference' (a private build)."""
    name: str
    snapshot: Path | None = None    # import root of a private build, ahead of the editable installs
    slowdown: str = ''              # EMBEDDENATOR_BENCH_SLOWDOWN for this side only (a test of the gate)

    def env(self) -> dict[str, str]:
        """What this side's workers add to the environment: the private build first on the path."""
        if self.snapshot is None:
            return {}
        path = os.pathsep.join(filter(None, [str(self.snapshot), str(ROOT), os.environ.get('PYTHONPATH')]))
        return {'PYTHONPATH': path, SNAPSHOT_ENV: str(self.snapshot)}


@dataclass
class Progress:
    """What the comparison is doing now, for the heartbeat."""
    doing: str = 'starting'
    log: list = field(default_factory=list)

    def __call__(self) -> str:
        return self.doing


def counted(marker: Path, groups: list[str], sides: list[Side], paths: list[str], progress: Progress) -> dict:
    """{side name: {metric id: (instructions per call, label)}}: one callgrind run per side and SIMD path."""
    jobs = {(s.name, p): (s, [g for g in groups if g == 'simd' or p == paths[-1]]) for s in sides for p in paths}
    progress.doing = f'counting instructions ({", ".join(groups)}) under callgrind, {len(jobs)} runs'
    out: dict[str, dict] = {s.name: {} for s in sides}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(callgrind.count, marker, ['--groups', ','.join(g)], key[1], side.env(),
                                    slowdown=side.slowdown)
                   for key, (side, g) in jobs.items() if g}
        for (name, _path), fut in futures.items():
            try:
                out[name].update(fut.result())
            except callgrind.CallgrindError as err:
                raise ABError(f'{name} side: {err}') from None
    return out


def counted_metrics(per_side: dict) -> list[dict]:
    cur, ref = per_side['current'], per_side.get('reference', {})
    out = []
    for id_, (value, label) in sorted(cur.items()):
        base = ref.get(id_, (None, None))[0]
        out.append({'id': id_, 'group': id_.split('/', 1)[0], 'label': label, 'unit': 'instructions/call',
                    'method': 'callgrind', 'value': value, 'rel_ci': None, 'reference': base,
                    'change': value / base - 1.0 if base else None, 'change_ci': None})
    return out


class Worker:
    """A probe worker process of one side, spoken to over JSON lines."""

    def __init__(self, side: Side, groups: list[str], timed_kernels: bool):
        self.side = side
        env = {**os.environ, **side.env(), 'EMBEDDENATOR_BENCH_SLOWDOWN': side.slowdown, 'OMP_NUM_THREADS': '1'}
        cmd = [sys.executable, '-m', 'tasks.bench.suite.worker', '--groups', ','.join(groups)]
        self.proc = subprocess.Popen(cmd + (['--timed-kernels'] if timed_kernels else []), cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise ABError(f'{self.side.name} side: the probe worker exited ({code}); its error is above')
        return json.loads(line)

    def time(self, probe_id: str, reference: bool = True) -> dict:
        self.proc.stdin.write(json.dumps({'time': probe_id, 'reference': reference}) + '\n')
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"quit": true}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def interleave(workers: dict[str, Worker], progress: Progress, seed: int = 0) -> tuple[list[dict], dict]:
    """Every probe of the current side, `rounds` times, each round on both sides in shuffled order.

    Returns (probe specs, {side: {probe id: [round timings]}}); a probe the reference lacks is timed on its own.
    """
    specs = workers['current'].hello['probes']
    have = {name: {p['id'] for p in w.hello['probes']} for name, w in workers.items()}
    rng = np.random.default_rng(seed)
    times: dict[str, dict[str, list]] = {name: {p['id']: [] for p in specs} for name in workers}
    for r in range(max((p['rounds'] for p in specs), default=0)):
        for p in (p for p in specs if p['rounds'] > r):
            sides = [n for n in rng.permutation(list(workers)) if p['id'] in have[n]]
            for name in sides:
                progress.doing = f"timing {p['id']}, round {r + 1} of {p['rounds']} ({name})"
                got = workers[name].time(p['id'], r < SAME_PROCESS_ROUNDS)
                if 'error' not in got:
                    times[name][p['id']].append(got)
                elif name == 'current':
                    raise ABError(f"{p['id']} fails on the current tree: {got['error']}")
                else:   # the reference cannot run it (an older API): measured on the current side alone
                    have[name].discard(p['id'])
                    times[name][p['id']] = []
    return specs, times


def wall_metric(spec: dict, cur: list[dict], ref: list[dict], seed: int = 0) -> dict:
    """The metric of one probe: current's ratio to its in-process reference, and the paired change to the other side."""
    def ratio(rounds):
        return median_ci([t['subject_ns'] / t['reference_ns'] for t in rounds if 'reference_ns' in t], seed)
    value, rel_ci = ratio(cur)
    subject_ns = float(np.median([t['subject_ns'] for t in cur]))
    what, amount = spec['work']
    metric = {'id': spec['id'], 'group': spec['id'].split('/', 1)[0], 'label': spec['label'], 'unit': spec['unit'],
              'method': 'wall-clock', 'rounds': len(cur), 'value': value, 'rel_ci': max(rel_ci, CI_FLOOR),
              'reference': None, 'change': None, 'change_ci': None,
              'detail': {'subject_ms': subject_ns / 1e6,
                         'reference_ms': float(np.median([t['reference_ns'] for t in cur if 'reference_ns' in t]))
                         / 1e6,
                         f'{what}_per_s': amount / (subject_ns / 1e9), **spec.get('detail', {})}}
    if ref:
        paired = [c['subject_ns'] / r['subject_ns'] for c, r in zip(cur, ref)]
        change, rel = median_ci(paired, seed)
        metric.update(reference=ratio(ref)[0], change=change - 1.0, change_ci=max(change * rel, CI_FLOOR))
        metric['detail']['reference_side_ms'] = float(np.median([t['subject_ns'] for t in ref])) / 1e6
    return metric


def walls(groups: list[str], sides: list[Side], timed_kernels: bool, progress: Progress):
    """Metrics of the wall-clock groups (and the timed kernels without valgrind), notes per group, scan rates."""
    from tasks.bench.suite.walls import scan_ratios
    progress.doing = f'starting the probe workers ({", ".join(groups)})'
    workers: dict[str, Worker] = {}
    try:
        for side in sides:
            workers[side.name] = Worker(side, groups, timed_kernels)
        specs, times = interleave(workers, progress)
    finally:
        for w in workers.values():
            w.close()
    cur, ref = times['current'], times.get('reference', {})
    metrics = [wall_metric(s, cur[s['id']], ref.get(s['id'], [])) for s in specs]
    medians = {s['id']: {'work': s['work'], 'ratio': m['value'],
                         'subject_ns': float(np.median([t['subject_ns'] for t in cur[s['id']]])),
                         'reference_ns': float(np.median([t['reference_ns'] for t in cur[s['id']]
                                                          if 'reference_ns' in t]))}
               for s, m in zip(specs, metrics)}
    notes = workers['current'].hello['notes']
    ref_vsa = workers['reference'].hello['vsa'] if 'reference' in workers else None
    return metrics, notes, scan_ratios(medians.get('scan/top_k/vs-bandwidth'), medians.get('scan/top_k/vs-numpy')), \
        ref_vsa


def compare(groups: list[str], marker: Path | None, sides: list[Side], progress: Progress | None = None) -> dict:
    """Measure every requested group on every side; {'groups': [...], 'ratios': {...}, 'seconds': s}."""
    from embeddenator import vsa
    progress = progress or Progress()
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValueError(f'unknown benchmark group(s) {", ".join(unknown)}; choose from {", ".join(GROUPS)}')
    started = time.monotonic()
    kernel = [g for g in KERNEL_GROUPS if g in groups]
    can_count = bool(kernel) and marker is not None and callgrind.available()
    metrics: list[dict] = []
    if can_count:
        paths = [p for p in COUNTED_PATHS if p in vsa.available_paths()]
        metrics += counted_metrics(counted(marker, kernel, sides, paths, progress))
    timed = [g for g in groups if g not in KERNEL_GROUPS or g == 'simd' or not can_count]
    found, notes, ratios, _ref_vsa = walls(timed, sides, bool(kernel) and not can_count, progress) \
        if timed else ([], {}, {}, None)
    metrics += found
    if kernel and not can_count:
        notes.setdefault(kernel[0], []).append('valgrind not found: kernel cases timed instead of counted')
    results = [{'name': g, 'title': GROUPS[g], 'notes': notes.get(g, []),
                'metrics': [m for m in metrics if m['group'] == g]} for g in groups]
    return {'groups': results, 'ratios': ratios, 'method': METHOD, 'seconds': round(time.monotonic() - started, 1)}
