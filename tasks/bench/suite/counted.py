"""The worker that runs inside callgrind: each case's calls between two region markers.

    valgrind --tool=callgrind --instr-atstart=no ... python -m tasks.bench.suite.counted --marker M --out F

It writes {case id: {calls, label}} to F; callgrind's dumps, one per region, hold the instruction counts.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
from pathlib import Path

from tasks.bench.suite.cases import extra_calls, kernel_cases, slowdowns


def measure(cases, marker, injected: dict[str, float]) -> dict[str, int]:
    calls = {}
    for case in cases:
        case.fn()
        case.fn()  # warm: first-call allocations and lazy imports stay outside the region
        total = case.calls + extra_calls(case, injected)
        gc.collect()
        gc.disable()
        marker.cgm_begin()
        for _ in range(total):
            case.fn()
        marker.cgm_end(case.id.encode())
        gc.enable()
        calls[case.id] = {'calls': case.calls, 'label': case.label}
    return calls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--marker', required=True, help='the compiled cgmark library')
    parser.add_argument('--out', required=True, help='where to write {case id: {calls, label}}')
    parser.add_argument('--groups', default='vsa-ops,simd')
    args = parser.parse_args(argv)
    from embeddenator import vsa
    expected = os.environ.get('EMBEDDENATOR_BENCH_SNAPSHOT')
    if expected and not os.path.realpath(vsa.__file__).startswith(os.path.realpath(expected)):
        raise SystemExit(f'counted: kernels imported from {vsa.__file__}, not from {expected}')

    marker = ctypes.CDLL(args.marker)
    marker.cgm_end.argtypes = [ctypes.c_char_p]
    cases = kernel_cases(vsa, set(args.groups.split(',')))
    calls = measure(cases, marker, slowdowns())
    Path(args.out).write_text(json.dumps(calls), encoding='utf-8')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
