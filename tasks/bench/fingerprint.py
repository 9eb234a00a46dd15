"""The machine fingerprint a benchmark result belongs to, and the short key its baseline is stored under.

Two runs are comparable only on the same CPU (model and flags), core count, interpreter, numpy, Cython, C compiler
and valgrind (instruction counts are measured under it): any difference gives another key, so another baseline.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sysconfig
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# Flags shown in the report: the ones the kernels' dispatch and numpy's own SIMD paths care about.
SIMD_FLAGS = ('sse4_2', 'popcnt', 'avx', 'avx2', 'bmi2', 'fma', 'avx512f', 'avx512bw', 'avx512vl',
              'avx512_vpopcntdq')
# The fields that make up the key (the fingerprint may hold more, for people to read).
KEY_FIELDS = ('machine', 'cpu_model', 'cpu_flags', 'cores', 'python', 'numpy', 'cython', 'compiler', 'valgrind')


def cpu_info(text: str) -> tuple[str, list[str]]:
    """CPU model name and sorted flags from the text of /proc/cpuinfo (first processor)."""
    model, flags = '', []
    for line in text.splitlines():
        key, _, value = line.partition(':')
        key = key.strip()
        if key == 'model name' and not model:
            model = value.strip()
        elif key == 'flags' and not flags:
            flags = sorted(value.split())
    return model, flags


def first_line(cmd: list[str]) -> str:
    """The first line a tool prints for `cmd` (its version), or 'absent'."""
    if not shutil.which(cmd[0]):
        return 'absent'
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return 'absent'
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else 'unknown'


def _dist(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return 'absent'


def fingerprint(cpuinfo: Path = Path('/proc/cpuinfo')) -> dict:
    """What this machine and toolchain are, as far as benchmark results depend on them."""
    text = cpuinfo.read_text(encoding='utf-8', errors='replace') if cpuinfo.exists() else ''
    model, flags = cpu_info(text)
    cc = (sysconfig.get_config_var('CC') or 'cc').split()[0]
    return {
        'machine': platform.machine(),
        'cpu_model': model or platform.processor() or 'unknown',
        'cpu_flags': flags,
        'cores': os.cpu_count() or 0,
        'python': f'{platform.python_implementation()} {platform.python_version()}',
        'numpy': _dist('numpy'),
        'cython': _dist('Cython'),
        'compiler': first_line([cc, '--version']),
        'valgrind': first_line(['valgrind', '--version']),
    }


def fingerprint_key(fp: dict) -> str:
    """A short stable key: a hash of the fields that decide comparability."""
    stable = json.dumps({k: fp.get(k) for k in KEY_FIELDS}, sort_keys=True)
    return hashlib.sha256(stable.encode()).hexdigest()[:16]


def describe(fp: dict) -> str:
    """One line for people: CPU, cores, SIMD flags, interpreter and toolchain."""
    simd = '+'.join(f for f in SIMD_FLAGS if f in fp.get('cpu_flags', ()))
    return (f"{fp.get('cpu_model')} ({fp.get('cores')} cores; {simd or 'no SIMD flags'}), {fp.get('python')}, "
            f"numpy {fp.get('numpy')}, Cython {fp.get('cython')}, {fp.get('compiler')}, {fp.get('valgrind')}")
