"""Speed of the ternary VSA kernels against numpy, every ratio measured in the same run.

    python benchmarks/kernels.py [--rows 100000] [--quick]

Writes reports/bench/vsa.json (verdict, summary, one row per measurement) and reports/bench/vsa.md (a table).
Each time is the best of several repeats (the least disturbed by other processes on a shared machine); the
goals are the kernel issue's, at D = 10,000.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import jinja2
import numpy as np

from embeddenator import vsa
from embeddenator.vsa import _kernels
from tasks.core.files import replace_file

DIM = 10_000
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / 'reports' / 'bench' / 'vsa.md'

TEMPLATE = """\
# embeddenator-vsa kernel benchmark

{{ summary }}

Machine: {{ machine.cpu }}, {{ machine.cores }} cores, load average {{ machine.load }} at the start;
SIMD path `{{ machine.simd_path }}` (available: {{ machine.paths | join(', ') }});
scans use up to {{ machine.threads }} threads (one while other processes keep the cores busy; "1 core" rows force one);
D = {{ machine.dim }}, codebook {{ machine.rows }} rows ({{ '%.0f' | format(machine.codebook_mb) }} MB).
Times are the best of several repeats.

| measurement | ours | reference | reference time | ratio | goal | met |
|---|---|---|---|---|---|---|
{% for r in rows %}
| {{ r.label }} | {{ r.ours_text }} | {{ r.reference }} | {{ r.reference_text }} | {{ r.ratio_text }} | {{ r.goal }} | \
{{ '' if r.met is none else ('yes' if r.met else '**no**') }} |
{% endfor %}
"""


def best(fn, number: int, repeat: int) -> float:
    """Seconds per call of `fn`: the best of `repeat` timings of `number` calls."""
    return interleaved([fn], number, repeat)[0]


def interleaved(fns, number: int, repeat: int) -> list[float]:
    """Seconds per call of each of `fns`, timed in turns (so all see the same machine load), best of `repeat`."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            out.append((time.perf_counter() - t0) / number)
    return [min(t) for t in times]


def fmt(seconds: float) -> str:
    for unit, scale in (('s', 1.0), ('ms', 1e-3), ('us', 1e-6)):
        if seconds >= scale:
            return f'{seconds / scale:.3g} {unit}'
    return f'{seconds * 1e9:.3g} ns'


def row(ident, label, ours, reference, ref_time, ratio, goal, met, ratio_text=None):
    return {'id': ident, 'label': label, 'ours_s': ours, 'ours_text': fmt(ours) if ours is not None else '',
            'reference': reference, 'reference_s': ref_time,
            'reference_text': fmt(ref_time) if ref_time is not None else '',
            'ratio': ratio, 'ratio_text': ratio_text or (f'{ratio:.1f}x' if ratio is not None else ''),
            'goal': goal, 'met': met}


# numpy references ---------------------------------------------------------------------------------------------

def np_packed_dot(ap, an, bp, bn) -> int:
    """numpy's best packed dot: two bitwise_count reductions of the +1 and -1 products."""
    return int(np.bitwise_count((ap & bp) | (an & bn)).sum()) - int(np.bitwise_count((ap & bn) | (an & bp)).sum())


def np_sparse_cosine(ap, an, bp, bn) -> float:
    common = np.intersect1d
    d = (len(common(ap, bp, assume_unique=True)) + len(common(an, bn, assume_unique=True))
         - len(common(ap, bn, assume_unique=True)) - len(common(an, bp, assume_unique=True)))
    na, nb = len(ap) + len(an), len(bp) + len(bn)
    return d / np.sqrt(na * nb) if na and nb else 0.0


def np_top_k(grid, nw, half, qp, qn, k, chunk=4096):
    """numpy's chunked scan: exact dot products chunk by chunk, then the k best by score desc, id asc."""
    scores = np.empty(len(grid), np.int64)
    for r0 in range(0, len(grid), chunk):
        p, n = grid[r0:r0 + chunk, :nw], grid[r0:r0 + chunk, half:half + nw]
        scores[r0:r0 + chunk] = (np.bitwise_count((p & qp) | (n & qn)).sum(axis=1, dtype=np.int64)
                                 - np.bitwise_count((p & qn) | (n & qp)).sum(axis=1, dtype=np.int64))
    kth = scores[np.argpartition(-scores, k - 1)[k - 1]]            # the k-th best score
    above = np.flatnonzero(scores > kth)
    top = np.concatenate([above, np.flatnonzero(scores == kth)[:k - len(above)]])   # ties: lowest ids
    order = np.lexsort((top, -scores[top]))
    return top[order], scores[top[order]]


def np_bundle_many(dense):
    """Sum-and-sign on int8 (int16 accumulation: the faster of numpy's choices here)."""
    return np.sign(dense.sum(axis=0, dtype=np.int16))


# workloads ----------------------------------------------------------------------------------------------------

def random_codebook(rows: int, dim: int, seed: int = 0) -> vsa.PackedMatrix:
    """A PackedMatrix of random ternary rows (content does not change the scan's speed), built chunk by chunk."""
    nw, half, stride = vsa.row_layout(dim)
    words = vsa.aligned_words(rows * stride)
    grid = words.reshape(rows, stride)
    rng = np.random.default_rng(seed)
    pad = np.uint64((1 << (dim % 64)) - 1) if dim % 64 else np.uint64(2**64 - 1)
    for r0 in range(0, rows, 8192):
        r1 = min(r0 + 8192, rows)
        p = rng.integers(0, 2**64, size=(r1 - r0, nw), dtype=np.uint64) & rng.integers(
            0, 2**64, size=(r1 - r0, nw), dtype=np.uint64)
        n = rng.integers(0, 2**64, size=(r1 - r0, nw), dtype=np.uint64) & ~p
        p[:, nw - 1] &= pad
        n[:, nw - 1] &= pad
        grid[r0:r1, :nw], grid[r0:r1, half:half + nw] = p, n
    return vsa.PackedMatrix.from_buffer(dim, rows, words, check=False)


def bench_dot(quick: bool) -> list[dict]:
    a, b = vsa.random(seed=1).to_packed(), vsa.random(seed=2).to_packed()
    ap, an, bp, bn = a.pos_words, a.neg_words, b.pos_words, b.neg_words
    assert np_packed_dot(ap, an, bp, bn) == a.dot(b)
    n = 2_000 if quick else 10_000
    out = []
    default = _kernels.simd_path()
    for path in vsa.available_paths():
        _kernels.set_simd_path(path)
        ours, ref = interleaved([lambda: a.dot(b), lambda: np_packed_dot(ap, an, bp, bn)], n, 9)
        goal = path == default
        out.append(row(f'dot/packed/{path}', f'packed dot, D=10,000 ({path})', ours, 'numpy bitwise_count', ref,
                       ref / ours, '>= 25x' if goal else '', (ref / ours >= 25) if goal else None))
    _kernels.set_simd_path(default)
    return out


def bench_sparse_cosine(quick: bool) -> list[dict]:
    a, b = vsa.random(seed=3), vsa.random(seed=4)
    args = (a.pos, a.neg, b.pos, b.neg)
    assert abs(np_sparse_cosine(*args) - a.cosine(b)) < 1e-12
    n = 1_000 if quick else 5_000
    ours, ref = interleaved([lambda: a.cosine(b), lambda: np_sparse_cosine(*args)], n, 9)
    return [
        row('cosine/sparse/time', 'sparse cosine, 200 non-zeros: time per call', ours, '', None, None,
            '<= 0.5 us', ours <= 0.5e-6, ratio_text=''),
        row('cosine/sparse/ratio', 'sparse cosine, 200 non-zeros: vs numpy intersect1d', ours, 'numpy intersect1d',
            ref, ref / ours, '>= 20x', ref / ours >= 20),
    ]


def bench_bundle_many(quick: bool) -> list[dict]:
    vs = [vsa.random(seed=10 + i).to_packed() for i in range(1000)]
    dense = np.stack([v.to_dense() for v in vs])
    assert np.array_equal(np_bundle_many(dense), vsa.bundle_many(vs).to_dense())
    sparse = [v.to_sparse() for v in vs]
    ours, ref, ours_sparse = interleaved(
        [lambda: vsa.bundle_many(vs), lambda: np_bundle_many(dense), lambda: vsa.bundle_many(sparse)], 3, 7)
    return [
        row('bundle_many/packed', 'bundle_many of 1,000 packed vectors', ours, 'numpy sum+sign int8', ref,
            ref / ours, '>= 5x', ref / ours >= 5),
        row('bundle_many/sparse', 'bundle_many of 1,000 sparse vectors', ours_sparse, 'numpy sum+sign int8', ref,
            ref / ours_sparse, '', None),
    ]


def bench_top_k(rows: int, quick: bool) -> tuple[list[dict], dict]:
    m = random_codebook(rows, DIM)
    nw, half, stride = vsa.row_layout(DIM)
    grid = m.words.reshape(rows, stride)
    queries = [vsa.random(seed=100 + i).to_packed() for i in range(16)]
    q = queries[0]
    want = np_top_k(grid, nw, half, q.pos_words, q.neg_words, 10)
    got = m.top_k(q, 10)
    assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])
    repeat = 3 if quick else 9
    stream, ours, batch = interleaved(
        [lambda: _kernels.read_words(m.words), lambda: m.top_k(q, 10), lambda: m.top_k_batch(queries, 10)],
        1, repeat)
    ref = best(lambda: np_top_k(grid, nw, half, q.pos_words, q.neg_words, 10), 1, 3)
    threads = vsa.get_num_threads()
    vsa.set_num_threads(1)
    stream_one, one_core, batch_one = interleaved(
        [lambda: _kernels.read_words(m.words), lambda: m.top_k(q, 10), lambda: m.top_k_batch(queries, 10)], 1,
        max(3, repeat // 2))
    vsa.set_num_threads(threads)
    nbytes = m.words.nbytes
    label = f'top_k k=10 over {rows:,} rows'
    out = [
        row('bandwidth/read', f'read bandwidth, up to {threads} cores ({nbytes / stream / 1e9:.1f} GB/s)', stream, '',
            None, None, '', None, ratio_text=''),
        row('bandwidth/read-1', f'read bandwidth, 1 core ({nbytes / stream_one / 1e9:.1f} GB/s)', stream_one, '',
            None, None, '', None, ratio_text=''),
        row('top_k/vs-numpy', label, ours, 'numpy chunked scan', ref, ref / ours, '>= 6x', ref / ours >= 6),
        row('top_k/vs-bandwidth', f'{label} vs streaming its bytes', ours, 'read at bandwidth', stream,
            ours / stream, '<= 1.5x the read time', ours / stream <= 1.5, ratio_text=f'{ours / stream:.2f}x the time'),
        row('top_k/one-core', f'{label}, 1 core', one_core, 'read at bandwidth, 1 core', stream_one,
            one_core / stream_one, '', None, ratio_text=f'{one_core / stream_one:.2f}x the time'),
        row('top_k/batch16', 'top_k_batch of 16 queries vs one query', batch, 'one top_k', ours, batch / ours,
            '<= 4x the time', batch / ours <= 4, ratio_text=f'{batch / ours:.2f}x the time'),
        row('top_k/batch16-one-core', 'top_k_batch of 16 queries vs one query, 1 core', batch_one,
            'one top_k, 1 core', one_core, batch_one / one_core, '', None,
            ratio_text=f'{batch_one / one_core:.2f}x the time'),
    ]
    return out, {'codebook_mb': nbytes / 1e6, 'threads': threads}


def machine_info(rows: int) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    return {'cpu': cpu, 'cores': os.cpu_count(), 'load': round(load, 2), 'simd_path': vsa.simd_path(),
            'paths': list(vsa.available_paths()), 'dim': DIM, 'rows': rows, 'python': sys.version.split()[0],
            'numpy': np.__version__}


def run(rows: int, quick: bool) -> dict:
    machine = machine_info(rows)
    results = bench_dot(quick) + bench_sparse_cosine(quick) + bench_bundle_many(quick)
    top, extra = bench_top_k(rows, quick)
    machine.update(extra)
    results += top
    goals = [r for r in results if r['met'] is not None]
    missed = [r['id'] for r in goals if not r['met']]
    summary = (f'{len(goals) - len(missed)} of {len(goals)} speed goals met'
               + (f'; missed: {", ".join(missed)}' if missed else ''))
    return {'verdict': 'fail' if missed else 'pass', 'summary': summary, 'machine': machine, 'rows': results}


def write(report: dict, out: Path = OUT) -> None:
    import json
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    replace_file(out.with_suffix('.json'), json.dumps(report, indent=2) + '\n')
    replace_file(out, env.from_string(TEMPLATE).render(**report))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows', type=int, default=100_000, help='codebook rows for top_k (default 100,000)')
    parser.add_argument('--quick', action='store_true', help='fewer repeats (a smoke run, not a measurement)')
    parser.add_argument('--out', type=Path, default=OUT, help='Markdown report path (the JSON goes beside it)')
    args = parser.parse_args(argv)
    report = run(args.rows, args.quick)
    write(report, args.out)
    print(f'{args.out}: {report["summary"]}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
