"""Sharded search benchmark: one process against a LocalCluster of 2 worker processes on the same shards.

    python benchmarks/shards.py [--rows 1000000] [--shards 8] [--queries 16] [--repeat 3] [--folder build/shards]

Writes `--rows` random vectors (dim 10,000, 200 non-zeros; 2,560 bytes a row, 2.56 GB for a million) as
memory-mapped shards, one shard at a time, then times a batch of `--queries` top-10 queries: in this process
(`scheduler=None`: the shards one after another, the kernels on every core) and on a LocalCluster of 2 worker
processes (one kernel thread each), checking both give the one exact answer. The machine's read bandwidth is
measured in the same run (one core OR-reducing the mapped shards, as the bench suite's probe does), so the
scans can be read as a fraction of it. Writes reports/bench/shards.json and .md; `--keep` keeps the shards.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from embeddenator import io, vsa
from embeddenator.retrieval.shards import ShardedIndex, write_shards

ROOT = Path(__file__).resolve().parent.parent


def best_s(fn, repeat: int):
    best, out = float('inf'), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def parts(rows: int, shards: int):
    bounds = np.linspace(0, rows, shards + 1).astype(int)
    for r0, r1 in zip(bounds[:-1], bounds[1:]):
        yield vsa.PackedMatrix.from_vectors([vsa.random(seed=i) for i in range(r0, r1)])


def read_bandwidth(folder: Path, repeat: int) -> float:
    """Bytes per second of one core OR-reducing every mapped shard (page cache warm)."""
    books = [io.read_packed(p).words for p in sorted(folder.glob('shard-*.edn'))]
    seconds, _ = best_s(lambda: [np.bitwise_or.reduce(w) for w in books], repeat)
    return sum(w.nbytes for w in books) / seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=1_000_000)
    parser.add_argument('--shards', type=int, default=8)
    parser.add_argument('--queries', type=int, default=16)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--folder', type=Path, default=ROOT / 'build' / 'bench-shards')
    parser.add_argument('--keep', action='store_true')
    parser.add_argument('--out', type=Path, default=ROOT / 'reports' / 'bench')
    args = parser.parse_args(argv)
    start = time.perf_counter()
    write_shards(args.folder, parts(args.rows, args.shards))
    write_s = time.perf_counter() - start
    nbytes = sum(p.stat().st_size for p in args.folder.glob('shard-*.edn'))
    queries = [vsa.random(seed=10**8 + i) for i in range(args.queries)]
    try:
        bandwidth = read_bandwidth(args.folder, args.repeat)
        with ShardedIndex(args.folder, scheduler=None) as index:
            index.query_batch(queries[:1], 10)                  # open and verify every shard once
            single_s, single = best_s(lambda: index.query_batch(queries, 10), args.repeat)
        with ShardedIndex(args.folder, scheduler='local') as index:
            index.query_batch(queries[:1], 10)
            cluster_s, cluster = best_s(lambda: index.query_batch(queries, 10), args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(args.folder, ignore_errors=True)
    identical = all(np.array_equal(a, b) for a, b in zip(single, cluster))
    data = {'rows': args.rows, 'shards': args.shards, 'queries': args.queries, 'bytes': nbytes,
            'write_s': write_s, 'read_bandwidth_gbs': bandwidth / 1e9, 'identical': identical,
            'single': {'s': single_s, 'queries_per_s': args.queries / single_s, 'gbs': nbytes / single_s / 1e9},
            'cluster': {'s': cluster_s, 'queries_per_s': args.queries / cluster_s, 'gbs': nbytes / cluster_s / 1e9},
            'simd': vsa.simd_path(), 'threads': vsa.get_num_threads(), 'loadavg': os.getloadavg()}
    s, c = data['single'], data['cluster']
    text = (f'# Sharded search\n\n{args.rows:,} rows in {args.shards} memory-mapped shards ({nbytes / 1e9:.2f} GB), '
            f'batches of {args.queries} top-10 queries, best of {args.repeat}, SIMD `{data["simd"]}`, load average '
            f'{data["loadavg"][0]:.1f}. Read bandwidth (one core, page cache): {bandwidth / 1e9:.1f} GB/s.\n\n'
            '| where | batch (s) | queries/s | codebook GB/s |\n|---|---:|---:|---:|\n'
            f'| one process ({data["threads"]} kernel threads) | {s["s"]:.3f} | {s["queries_per_s"]:.1f} '
            f'| {s["gbs"]:.1f} |\n'
            f'| LocalCluster, 2 worker processes | {c["s"]:.3f} | {c["queries_per_s"]:.1f} | {c["gbs"]:.1f} |\n\n'
            f'Identical ids and scores: {identical}. Writing the shards took {write_s:.0f} s.\n')
    args.out.mkdir(parents=True, exist_ok=True)
    io.atomic_write(args.out / 'shards.json', [json.dumps(data, indent=2).encode() + b'\n'])
    io.atomic_write(args.out / 'shards.md', [text.encode()])
    print(text)
    return 0 if identical else 1


if __name__ == '__main__':
    sys.exit(main())
