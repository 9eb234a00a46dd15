"""Retrieval benchmark: build an index of 10,000 items and answer 1,000 queries, measured against the original
plan's baselines and against a numpy brute-force scan of the same data in the same run.

    python benchmarks/retrieval.py [--items 10000] [--queries 1000] [--repeat 3]

Writes reports/bench/retrieval.json (verdict, summary, every timing and ratio) and reports/bench/retrieval.md.
Timings are the best of `--repeat` runs (the machine is shared; the minimum is the least disturbed run). The
report also states the work the inverted index does (postings read, bytes moved) and the time per posting on
one core, which bounds what any exact method that reads the postings can reach on this machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import jinja2
import numpy as np

from embeddenator import io, obs, vsa
from embeddenator.retrieval import Index

PLAN_BUILD_MS = 100.0       # original plan: retrieval index over 10K items in under 100 ms
PLAN_QUERIES_MS = 50.0      # original plan: 1K (hierarchical) queries in under 50 ms
TARGET = 10.0               # the issue asks for at least 10x under both
K = 10
NUMPY_BLOCK = 1000          # codebook rows converted to float32 per BLAS call (40 MB at dim 10,000)

TEMPLATE = """# Retrieval benchmark

{{ items }} items and {{ queries }} queries (dim {{ dim }}, {{ nnz }} non-zeros per item, k = {{ k }}), SIMD path
`{{ simd }}`, best of {{ repeat }} runs. Verdict: **{{ verdict }}**: {{ summary }}

| stage | time (ms) | plan baseline (ms) | x under baseline | numpy brute force (ms) | x faster than numpy |
|---|---:|---:|---:|---:|---:|
{% for row in table %}
| {{ row | join(' | ') }} |
{% endfor %}

| detail | time (ms) |
|---|---:|
{% for name, value in details %}
| {{ name }} | {{ '%.2f' % value }} |
{% endfor %}

Work of the inverted index (exact: every posting of every query dimension is counted):

| quantity | value |
|---|---:|
{% for name, value in work_rows %}
| {{ name }} | {{ value }} |
{% endfor %}

Results identical to the numpy brute force (ids and scores, ties by id): {{ identical }}.
"""


def best_ms(fn, repeat: int):
    """(best wall time in ms, last result) over `repeat` runs."""
    best, out = float('inf'), None
    for _ in range(repeat):
        start = time.perf_counter_ns()
        out = fn()
        best = min(best, (time.perf_counter_ns() - start) / 1e6)
    return best, out


def make_data(n_items: int, n_queries: int):
    items = [vsa.random(seed=i) for i in range(n_items)]
    rng = np.random.default_rng(0)
    # half the queries are an item bundled with noise (its item should come first), half unrelated vectors
    queries = [items[int(j)].bundle(vsa.random(seed=n_items + i)) if i % 2 == 0 else vsa.random(seed=n_items + i)
               for i, j in enumerate(rng.integers(0, n_items, n_queries))]
    return items, queries


def build(items):
    index = Index.from_vectors(items)
    index.refresh()
    return index


def numpy_brute_force(dense: np.ndarray, queries_f32: np.ndarray, k: int):
    """Scores of every query against every item by float32 BLAS matmul, then exact top-k (score desc, id asc)."""
    scores = np.empty((len(queries_f32), len(dense)), np.float32)
    for r0 in range(0, len(dense), NUMPY_BLOCK):
        block = dense[r0:r0 + NUMPY_BLOCK].astype(np.float32)
        scores[:, r0:r0 + len(block)] = queries_f32 @ block.T
    ids = np.arange(len(dense))
    out_ids = np.empty((len(scores), k), np.int64)
    out_scores = np.empty((len(scores), k), np.int64)
    for q, row in enumerate(scores.astype(np.int64)):
        kth = np.partition(row, len(row) - k)[len(row) - k]
        cand = np.flatnonzero(row >= kth)
        order = np.lexsort((ids[cand], -row[cand]))[:k]
        out_ids[q], out_scores[q] = cand[order], row[cand[order]]
    return out_ids, out_scores


def run(n_items: int, n_queries: int, repeat: int) -> dict:
    items, queries = make_data(n_items, n_queries)
    t = {}
    t['build_ms'], index = best_ms(lambda: build(items), repeat)
    t['add_ms'], _ = best_ms(lambda: Index.from_vectors(items), repeat)
    t['queries_ms'], got = best_ms(lambda: index.query_batch(queries, K), repeat)
    t['scan_ms'], scan = best_ms(lambda: index.query_batch(queries, K, 'scan'), repeat)
    t['inverted_ms'], inverted = best_ms(lambda: index.query_batch(queries, K, 'inverted'), repeat)
    t['single_query_us'] = best_ms(lambda: [index.query(q, K) for q in queries[:100]], repeat)[0] * 10
    threads = vsa.get_num_threads()
    vsa.set_num_threads(1)
    try:
        t['inverted_one_core_ms'] = best_ms(lambda: index.query_batch(queries, K, 'inverted'), repeat)[0]
    finally:
        vsa.set_num_threads(threads)
    dense = np.stack([v.to_dense() for v in items])                      # numpy's data, prepared untimed
    queries_f32 = np.stack([q.to_dense() for q in queries]).astype(np.float32)
    t['numpy_ms'], brute = best_ms(lambda: numpy_brute_force(dense, queries_f32, K), 1)
    identical = all(np.array_equal(a[0], brute[0]) and np.array_equal(a[1], brute[1])
                    for a in (got, scan, inverted))
    related = got[0][0::2, 0]
    found = float(np.mean(related == [int(j) for j in np.random.default_rng(0).integers(0, n_items, n_queries)][0::2]))
    return {'timings': t, 'identical': identical, 'related_query_top1': found, 'work': work(index, queries, t),
            'strategies': {s: obs.counter('retrieval_queries_total', strategy=s).value for s in ('scan', 'inverted')}}


def work(index: Index, queries, t: dict) -> dict:
    """What the inverted index reads for these queries, and the time per posting it implies."""
    post = index._post
    per_dim = np.diff(post.plus_indptr) + np.diff(post.minus_indptr)     # postings read per query dimension
    touched = int(sum(per_dim[q.pos].sum() + per_dim[q.neg].sum() for q in queries))
    row_bytes = 2 if post.n <= 1 << 16 else 4                          # uint16 row numbers up to 65,536 rows
    one_core_ns = t['inverted_one_core_ms'] * 1e6 / max(touched, 1)
    return {'postings_in_index': len(post), 'postings_read': touched, 'posting_bytes_read': touched * row_bytes,
            'counter_bytes_per_query': 2 * post.n, 'codebook_bytes': int(index._n * index._stride * 8),
            'ns_per_posting_one_core': one_core_ns,
            # at that rate, on every core, with no other cost: what reading the postings alone takes
            'postings_floor_ms': one_core_ns * touched / 1e6 / max(1, os.cpu_count() or 1)}


def verdict(t: dict, identical: bool) -> tuple[dict, str, str]:
    r = {'build_vs_plan': PLAN_BUILD_MS / t['build_ms'], 'queries_vs_plan': PLAN_QUERIES_MS / t['queries_ms'],
         'total_vs_plan': (PLAN_BUILD_MS + PLAN_QUERIES_MS) / (t['build_ms'] + t['queries_ms']),
         'queries_vs_numpy': t['numpy_ms'] / t['queries_ms'],
         'total_vs_numpy': t['numpy_ms'] / (t['build_ms'] + t['queries_ms'])}
    misses = [name for name, ok in (
        (f'build {r["build_vs_plan"]:.2f}x under the plan (target {TARGET:g}x)', r['build_vs_plan'] >= TARGET),
        (f'queries {r["queries_vs_plan"]:.2f}x under the plan (target {TARGET:g}x)', r['queries_vs_plan'] >= TARGET),
        (f'{r["total_vs_numpy"]:.2f}x faster than numpy brute force', r['total_vs_numpy'] > 1),
        ('results identical to brute force', identical)) if not ok]
    summary = (f'build {t["build_ms"]:.0f} ms + {t["queries_ms"]:.0f} ms for the queries: '
               f'{r["total_vs_plan"]:.2f}x the plan baseline, {r["total_vs_numpy"]:.1f}x faster than numpy brute '
               f'force' + (f'; short of: {"; ".join(misses)}' if misses else ''))
    return r, ('fail' if misses else 'pass'), summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--items', type=int, default=10_000)
    parser.add_argument('--queries', type=int, default=1_000)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--out', type=Path, default=Path(__file__).resolve().parent.parent / 'reports' / 'bench')
    args = parser.parse_args(argv)
    result = run(args.items, args.queries, args.repeat)
    ratios, outcome, summary = verdict(result['timings'], result['identical'])
    data = {'verdict': outcome, 'summary': summary, 'items': args.items, 'queries': args.queries,
            'dim': vsa.DEFAULT_DIM, 'nnz': vsa.DEFAULT_NNZ, 'k': K, 'repeat': args.repeat,
            'simd': vsa.simd_path(), 'plan_build_ms': PLAN_BUILD_MS, 'plan_queries_ms': PLAN_QUERIES_MS,
            'target_ratio': TARGET, 'ratios': ratios, 'machine': {'cpus': os.cpu_count(),
                                                                  'loadavg': os.getloadavg(),
                                                                  'python': platform.python_version(),
                                                                  'numpy': np.__version__}, **result}
    args.out.mkdir(parents=True, exist_ok=True)
    io.atomic_write(args.out / 'retrieval.json', [json.dumps(data, indent=2, sort_keys=True).encode() + b'\n'])
    t = result['timings']
    table = [(f'index build ({args.items} items, packed rows + postings)', f'{t["build_ms"]:.1f}',
              f'{PLAN_BUILD_MS:.0f}', f'{ratios["build_vs_plan"]:.2f}', '', ''),
             (f'{args.queries} queries, auto strategy', f'{t["queries_ms"]:.1f}', f'{PLAN_QUERIES_MS:.0f}',
              f'{ratios["queries_vs_plan"]:.2f}', f'{t["numpy_ms"]:.1f}', f'{ratios["queries_vs_numpy"]:.2f}'),
             ('build + queries', f'{t["build_ms"] + t["queries_ms"]:.1f}', f'{PLAN_BUILD_MS + PLAN_QUERIES_MS:.0f}',
              f'{ratios["total_vs_plan"]:.2f}', f'{t["numpy_ms"]:.1f}', f'{ratios["total_vs_numpy"]:.2f}')]
    details = [(f'add {args.items} vectors (packed rows only)', t['add_ms']),
               ('queries, scan strategy only', t['scan_ms']), ('queries, inverted strategy only', t['inverted_ms']),
               ('queries, inverted strategy only, one core', t['inverted_one_core_ms']),
               ('one query at a time, mean (us)', t['single_query_us'])]
    w = result['work']
    work_rows = [('postings in the index (non-zeros of all items)', f'{w["postings_in_index"]:,}'),
                 (f'postings read by the {args.queries} queries', f'{w["postings_read"]:,}'),
                 ('bytes of row numbers read', f'{w["posting_bytes_read"] / 1e6:.1f} MB'),
                 ('counters per query (zeroed, counted, scanned for the top k)', f'{w["counter_bytes_per_query"]:,} B'),
                 ('time per posting, one core', f'{w["ns_per_posting_one_core"]:.2f} ns'),
                 (f'postings alone at that rate on {os.cpu_count()} cores', f'{w["postings_floor_ms"]:.1f} ms'),
                 (f'the target ({PLAN_QUERIES_MS / TARGET:g} ms) would need per posting, per core',
                  f'{PLAN_QUERIES_MS / TARGET * 1e6 * (os.cpu_count() or 1) / max(w["postings_read"], 1):.3f} ns')]
    markdown = jinja2.Template(TEMPLATE, trim_blocks=True, lstrip_blocks=True).render(
        **data, table=table, details=details, work_rows=work_rows)
    io.atomic_write(args.out / 'retrieval.md', [markdown.encode()])
    print(markdown)
    return 0


if __name__ == '__main__':
    sys.exit(main())
