"""Resonator network benchmark: recovery over random trials, and one factorisation against the numpy oracle.

    OPENBLAS_NUM_THREADS=1 python benchmarks/resonator.py [--trials 1000] [--timed 30] [--rows 100] [--dim 10000]

Three bipolar codebooks of `--rows` vectors at `--dim`; each trial binds one random row of each and factorises the
product (at most 30 sweeps). Timing: the same `--timed` products factorised by the compiled resonator and by the
plain numpy oracle (components/retrieval/tests/resonator_oracle.py) in float32 (BLAS) and in int64 (numpy's
integer matmul), interleaved in one run; both must agree step for step. Writes reports/bench/resonator.json/.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from embeddenator import io, vsa
from embeddenator.retrieval import Resonator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'components' / 'retrieval' / 'tests'))
import resonator_oracle  # noqa: E402  (the oracle lives with the tests)

GOAL_RECOVERED, GOAL_SPEEDUP, LIMIT = 0.99, 10.0, 30


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--trials', type=int, default=1000)
    parser.add_argument('--timed', type=int, default=30)
    parser.add_argument('--rows', type=int, default=100)
    parser.add_argument('--dim', type=int, default=10_000)
    parser.add_argument('--out', type=Path, default=ROOT / 'reports' / 'bench')
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    dense = [rng.choice(np.array([-1, 1], np.int8), (args.rows, args.dim)) for _ in range(3)]
    resonator = Resonator([vsa.PackedMatrix.from_dense(d) for d in dense])
    trials = rng.integers(0, args.rows, (args.trials, 3))
    sweeps, ok, compiled_s = [], 0, 0.0
    for idx in trials:
        x = vsa.PackedVec.from_dense(dense[0][idx[0]] * dense[1][idx[1]] * dense[2][idx[2]])
        start = time.perf_counter()
        found = resonator.factorize(x, LIMIT)
        compiled_s += time.perf_counter() - start
        ok += found.converged and found.indices == tuple(int(i) for i in idx)
        sweeps.append(found.iterations)
    f32, i64 = [d.astype(np.float32) for d in dense], [d.astype(np.int64) for d in dense]
    t = {'compiled': 0.0, 'numpy_f32': 0.0, 'numpy_i64': 0.0}
    agree = True
    for idx in trials[:args.timed]:
        xd = dense[0][idx[0]] * dense[1][idx[1]] * dense[2][idx[2]]
        runs = {'compiled': lambda: resonator.factorize(vsa.PackedVec.from_dense(xd), LIMIT),
                'numpy_f32': lambda: resonator_oracle.factorize(xd.astype(np.float32), f32, LIMIT),
                'numpy_i64': lambda: resonator_oracle.factorize(xd.astype(np.int64), i64, LIMIT)}
        out = {}
        for name in sorted(runs, key=lambda _: rng.random()):       # shuffled: a burst of load hits all alike
            start = time.perf_counter()
            out[name] = runs[name]()
            t[name] += time.perf_counter() - start
        c = out['compiled']
        agree &= (c.indices, c.iterations, c.converged) == out['numpy_f32'] == out['numpy_i64']
    ms = {k: v / args.timed * 1e3 for k, v in t.items()}
    recovered = ok / args.trials
    speed = {'vs_numpy_f32': ms['numpy_f32'] / ms['compiled'], 'vs_numpy_i64': ms['numpy_i64'] / ms['compiled']}
    misses = [m for m, bad in ((f'recovered {recovered:.3f} < {GOAL_RECOVERED}', recovered < GOAL_RECOVERED),
                               (f'{speed["vs_numpy_f32"]:.1f}x numpy float32 < {GOAL_SPEEDUP:g}x',
                                speed['vs_numpy_f32'] < GOAL_SPEEDUP), ('not step for step', not agree)) if bad]
    summary = (f'{recovered:.1%} of {args.trials} trials recovered within {LIMIT} sweeps (mean '
               f'{np.mean(sweeps):.1f}, 99th percentile {np.percentile(sweeps, 99):.0f}); one factorisation '
               f'{ms["compiled"]:.2f} ms compiled, {speed["vs_numpy_f32"]:.1f}x numpy float32 BLAS '
               f'({ms["numpy_f32"]:.1f} ms), {speed["vs_numpy_i64"]:.1f}x numpy int64 ({ms["numpy_i64"]:.1f} ms)'
               + (f'; short of: {"; ".join(misses)}' if misses else ''))
    data = {'verdict': 'fail' if misses else 'pass', 'summary': summary, 'rows': args.rows, 'dim': args.dim,
            'trials': args.trials, 'timed': args.timed, 'recovered': recovered, 'ms': ms, 'speedup': speed,
            'agree': agree, 'sweeps_histogram': np.bincount(sweeps, minlength=LIMIT + 1).tolist(),
            'simd': vsa.simd_path(), 'loadavg': os.getloadavg(),
            'blas_threads': os.environ.get('OPENBLAS_NUM_THREADS', 'default')}
    args.out.mkdir(parents=True, exist_ok=True)
    io.atomic_write(args.out / 'resonator.json', [json.dumps(data, indent=2).encode() + b'\n'])
    text = (f'# Resonator network\n\n3 codebooks of {args.rows} bipolar vectors, dim {args.dim}, SIMD '
            f'`{data["simd"]}`, BLAS threads {data["blas_threads"]}, load average {data["loadavg"][0]:.1f}.\n\n'
            f'Verdict: **{data["verdict"]}**: {summary}\n')
    io.atomic_write(args.out / 'resonator.md', [text.encode()])
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
