"""The probe worker: one process per side of the A/B comparison, timing one round of one probe on request.

    python -m tasks.bench.suite.worker --groups hier-scale,scan [--timed-kernels]

It imports `embeddenator` from wherever its sys.path says (the reference side gets the reference's private build
first on PYTHONPATH; EMBEDDENATOR_BENCH_SNAPSHOT, when set, must be where the kernels come from), builds the
probes of the requested groups (tasks.bench.suite.walls), then answers JSON lines on stdin:

    {"time": "<probe id>", "reference": true}  ->  {"subject_ns": .., "reference_ns": ..}
                                one round: subject and same-process reference in shuffled order (or subject alone)
    (a probe whose code raises answers {"error": "<type>: <message>"})
    {"quit": true}          ->  exits

Its first line of output lists the probes ({"probes": [...], "notes": {...}, "vsa": "<module file>"}). Anything
else the code under test prints goes to stderr, so stdout carries the protocol alone.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

import numpy as np

SNAPSHOT_ENV = 'EMBEDDENATOR_BENCH_SNAPSHOT'


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


def build_probes(vsa, groups: list[str], timed_kernels: bool) -> tuple[list, dict[str, list[str]]]:
    """The probes of `groups` that can run here, and a note per group for what could not."""
    from tasks.bench.suite import past_exact, walls
    from tasks.bench.suite.cases import slowdowns
    injected, probes = slowdowns(), []
    notes: dict[str, list[str]] = {g: [] for g in groups}
    kernel = {g for g in groups if g in ('vsa-ops', 'simd')}
    if timed_kernels and kernel:
        probes += walls.timed_kernels(vsa, kernel, injected)
    if 'simd' in groups:
        set_path = _set_path_fn(vsa)
        if 'avx512' in vsa.available_paths() and set_path is not None:
            probes += walls.avx512(vsa, set_path, injected)
        else:
            notes['simd'].append('AVX-512 path not timed: not available on this CPU or no path switch')
    builders = {'hier-scale': walls.hier_scale, 'hier-query': walls.hier_query, 'retrieval': walls.retrieval,
                'scan': walls.scan, 'approx': past_exact.approx, 'resonator': past_exact.resonator,
                'shards': past_exact.shards}
    for group in groups:
        if group in builders:
            try:
                probes += builders[group](vsa)
            except ImportError as err:
                notes[group].append(f'skipped: {err}')
            except Exception as err:  # an older release without this API: the other side measures it alone
                notes[group].append(f'skipped: {type(err).__name__}: {err}')
    return probes, notes


def time_round(probe, rng, reference: bool = True) -> dict:
    """One round: the subject (and the same-process reference) once each, in shuffled order, collector off."""
    sides = {'subject': probe.subject, **({'reference': probe.reference} if reference else {})}
    out = {}
    gc.collect()
    gc.disable()  # a collection inside one side of a round would skew that round only
    try:
        for name in rng.permutation(list(sides)):
            start = time.perf_counter_ns()
            sides[name]()
            out[f'{name}_ns'] = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return out


def serve(probes: list, commands, reply) -> None:
    by_id = {p.id: p for p in probes}
    warm: set[str] = set()
    rng = np.random.default_rng(0)
    for line in commands:
        msg = json.loads(line)
        if msg.get('quit'):
            return
        probe = by_id[msg['time']]
        try:
            if probe.id not in warm:   # first calls pay for allocations and lazy imports: never timed
                probe.subject()
                probe.reference()
                warm.add(probe.id)
            reply(time_round(probe, rng, msg.get('reference', True)))
        except Exception as err:   # the code under test failed: say so, keep serving the other probes
            reply({'error': f'{type(err).__name__}: {err}'})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--groups', required=True)
    parser.add_argument('--timed-kernels', action='store_true', help='time the kernel cases (no valgrind here)')
    args = parser.parse_args(argv)
    protocol = os.fdopen(os.dup(1), 'w', buffering=1, encoding='utf-8')
    os.dup2(2, 1)  # the code under test prints to stderr; stdout is the protocol's
    sys.stdout = sys.stderr
    from embeddenator import vsa
    expected = os.environ.get(SNAPSHOT_ENV)
    if expected and not os.path.realpath(vsa.__file__).startswith(os.path.realpath(expected)):
        print(f'worker: kernels imported from {vsa.__file__}, not from {expected}', file=sys.stderr)
        return 2
    if hasattr(vsa, 'set_num_threads'):
        vsa.set_num_threads(1)  # two cores shared with other work: thread scaling would only add noise
    probes, notes = build_probes(vsa, args.groups.split(','), args.timed_kernels)

    def reply(data):
        protocol.write(json.dumps(data) + '\n')

    reply({'probes': [p.spec() for p in probes], 'notes': notes, 'vsa': vsa.__file__})
    serve(probes, sys.stdin, reply)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
