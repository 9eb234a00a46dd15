"""Instruction counts of the kernel microbenchmarks, measured under valgrind's callgrind.

Why: on a shared machine one timing moves by 10-30%, but the number of instructions a kernel call retires does
not depend on the load. Callgrind counts them exactly (repeat runs agree within ~0.2%, the allocator's doing), so
a gate on these counts gives the same verdict every time. `perf stat -e instructions` would be cheaper, but the
hardware counters are not exposed in these virtual machines.

Limits, stated where they matter:
- valgrind 3.19 does not decode AVX-512, and its CPUID hides the AVX-512 bits, so the dispatcher picks AVX2 under
  it; `EMBEDDENATOR_SIMD=avx2` is forced anyway so the counted path is explicit. The AVX-512 path is timed instead
  (wall-clock, as a ratio against AVX2 in the same run).
- Instructions are not time: a change that adds cache misses but no instructions is invisible here; the wall-clock
  groups (scan against bandwidth, hierarchy, retrieval) cover memory-bound behaviour.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER_SOURCE = HERE / 'cgmark.c'
_DESC = re.compile(r'^desc: Trigger: Client Request: (.+)$', re.M)
_TOTALS = re.compile(r'^totals: (\d+)', re.M)


class CallgrindError(Exception):
    """valgrind or the marker library is missing or failed; the message says which and what to do."""


def available() -> bool:
    return shutil.which('valgrind') is not None and Path('/usr/include/valgrind/callgrind.h').exists()


def build_marker(target: Path) -> Path:
    """Compile the region-marker library (a few client requests) with the system C compiler."""
    target.parent.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get('CC', 'cc')
    proc = subprocess.run([cc, '-O2', '-shared', '-fPIC', '-o', str(target), str(MARKER_SOURCE)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise CallgrindError(f'{MARKER_SOURCE}: {cc} failed ({proc.stderr.strip()}); '
                             'install a C compiler and valgrind (apt-get install gcc valgrind)')
    return target


def parse_dumps(folder: Path, prefix: str = 'cg.out') -> dict[str, int]:
    """label -> instructions counted in that region, from callgrind's numbered dump files."""
    out = {}
    for dump in sorted(folder.glob(prefix + '.*'), key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0):
        text = dump.read_text(encoding='utf-8', errors='replace')
        desc, totals = _DESC.search(text), _TOTALS.search(text)
        if desc and totals:
            out[desc.group(1).strip()] = int(totals.group(1))
    return out


# Passed to the worker when set; everything else in the environment is left out (see worker_env).
_PASSED = ('PATH', 'HOME', 'PYTHONPATH', 'LD_LIBRARY_PATH', 'SYSTEMROOT')
_SLOWDOWN_ENV = 'EMBEDDENATOR_BENCH_SLOWDOWN'
_PAD_ENV = 'EMBEDDENATOR_BENCH_PAD'
_ENV_WIDTH = 8192


def worker_env(simd: str, extra: dict | None = None, slowdown: str | None = None) -> dict:
    """The counted worker's environment: small, fixed, and of the same size whatever side or slowdown it serves.

    The size of the environment moves the initial stack, and with it the alignment of what the interpreter and
    numpy place there: the same code then retires up to ~1% more or fewer instructions. So the worker gets only
    what it needs (`extra`: the reference side's PYTHONPATH), and a padding variable fills it to a fixed size.
    `slowdown` (default: EMBEDDENATOR_BENCH_SLOWDOWN from the environment) is the harness injection for this side.
    """
    env = {k: os.environ[k] for k in _PASSED if k in os.environ}
    slowdown = os.environ.get(_SLOWDOWN_ENV, '') if slowdown is None else slowdown
    # one thread: threads under valgrind run serialised and their waits would add to the counts
    env.update({'EMBEDDENATOR_SIMD': simd, 'PYTHONHASHSEED': '0', 'OMP_NUM_THREADS': '1', 'LC_ALL': 'C',
                _SLOWDOWN_ENV: slowdown, **(extra or {})})
    used = sum(len(k) + len(v) + 2 for k, v in env.items()) + len(_PAD_ENV) + 2
    if used > _ENV_WIDTH:
        raise CallgrindError(f'the counted worker environment needs {used} bytes, over {_ENV_WIDTH}; '
                             'shorten PATH/PYTHONPATH or inject fewer slowdowns')
    env[_PAD_ENV] = 'x' * (_ENV_WIDTH - used)
    return env


def count(marker: Path, args: list[str], simd: str, env_extra: dict | None = None, timeout: int = 600,
          slowdown: str | None = None) -> dict:
    """Run the counted worker under callgrind with SIMD path `simd`; {case id: (instructions per call, label)}.

    The worker (tasks.bench.suite.counted) writes id -> calls and label; callgrind's dumps give id -> instructions.
    """
    with tempfile.TemporaryDirectory(prefix='cg-') as tmp:
        tmp = Path(tmp)
        calls_file = tmp / 'calls.json'
        cmd = ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--dump-line=no', '--dump-instr=no',
               f'--callgrind-out-file={tmp / "cg.out"}', sys.executable, '-m', 'tasks.bench.suite.counted',
               '--marker', str(marker), '--out', str(calls_file), *args]
        env = worker_env(simd, env_extra, slowdown)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=HERE.parents[2])
        if proc.returncode or not calls_file.exists():
            tail = '\n'.join(proc.stderr.strip().splitlines()[-15:])
            raise CallgrindError(f'counted benchmarks failed under valgrind (SIMD path {simd}):\n{tail}')
        calls = json.loads(calls_file.read_text(encoding='utf-8'))
        totals = parse_dumps(tmp)
    missing = sorted(set(calls) - set(totals))
    if missing:
        raise CallgrindError(f'callgrind wrote no dump for {", ".join(missing)}; is valgrind >= 3.10 installed?')
    return {id_: (totals[id_] / c['calls'], c['label']) for id_, c in calls.items()}
