"""Wall-clock measurement that survives a shared, loaded machine.

One timing on these machines moves by 10-30%, so no metric here is a single time. Each metric is the ratio of the
subject's time to a reference workload's time, measured in the same run, round by round, in an order shuffled each
round (so a burst of load hits both sides alike); the metric is the median of the per-round ratios, and its 95%
confidence interval comes from a bootstrap of that median. The gate only calls a wall-clock change critical when
the whole interval lies above the critical line (see tasks.bench.bench_gate), so noise widens the interval instead of
failing the gate.
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

BOOTSTRAP = 2000


@dataclass(frozen=True)
class Timing:
    ratio: float          # median over rounds of subject time / reference time
    rel_ci: float         # half-width of the ratio's 95% bootstrap interval, relative to the ratio
    subject_ns: float     # median subject time
    reference_ns: float   # median reference time
    rounds: int


def median_ci(samples, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Median of `samples` and the relative half-width of its bootstrap confidence interval."""
    x = np.asarray(samples, dtype=float)
    med = float(np.median(x))
    if len(x) < 2 or med == 0:
        return med, float('inf')
    rng = np.random.default_rng(seed)
    boot = np.median(x[rng.integers(0, len(x), (BOOTSTRAP, len(x)))], axis=1)
    lo, hi = np.percentile(boot, [50 * (1 - level), 50 * (1 + level)])
    return med, float(max(hi - med, med - lo) / med)


def _time(fn: Callable[[], object]) -> int:
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def interleaved(subject: Callable[[], object], reference: Callable[[], object], rounds: int = 11,
                seed: int = 0, **others: Callable[[], object]) -> Timing | dict[str, Timing]:
    """Time `subject` against `reference` (and any `others`) in `rounds` shuffled rounds; see the module docstring.

    With `others`, returns {'reference': Timing, name: Timing, ...}, each the subject against that side.
    """
    sides = {'reference': reference, **others}
    rng = np.random.default_rng(seed)
    subject()
    for fn in sides.values():
        fn()  # warm caches and first-call allocations
    names = ['subject', *sides]
    calls = {'subject': subject, **sides}
    times: dict[str, list[int]] = {n: [] for n in names}
    gc.collect()
    gc.disable()  # a collection inside one side of a round would skew that round only
    try:
        for _ in range(rounds):
            for name in rng.permutation(names):
                times[name].append(_time(calls[name]))
    finally:
        gc.enable()
    ts = np.array(times['subject'], dtype=float)
    out = {}
    for name in sides:
        tr = np.array(times[name], dtype=float)
        ratio, rel_ci = median_ci(ts / tr, seed)
        out[name] = Timing(ratio, rel_ci, float(np.median(ts)), float(np.median(tr)), rounds)
    return out if others else out['reference']


def repeat(fn: Callable[[], object], calls: int) -> Callable[[], None]:
    """A callable making `calls` calls of `fn`: a unit of work long enough to time (>= ~100 us)."""
    def run():
        for _ in range(calls):
            fn()
    return run
