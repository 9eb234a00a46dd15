"""Compiled ternary VSA kernels with runtime SIMD dispatch, and the vector types built on them.

The SIMD path is chosen once at import from what the CPU and OS support; `EMBEDDENATOR_SIMD`
(`scalar`, `avx2`, `avx512`) forces one. Forcing a path the CPU lacks, or a name that is no path, warns once
(RuntimeWarning) and uses the widest path the CPU has: an environment switch never breaks the import, as with
OpenBLAS's OPENBLAS_CORETYPE. `EMBEDDENATOR_DISABLE_SIMD=avx512[,avx2]` hides paths from the detection (numpy's
NPY_DISABLE_CPU_FEATURES), so the fallback runs, and is tested, on any machine.

Every public entry point checks dims, dtypes, shapes and contiguity in Python-visible code, then runs its loop
in C without the GIL. The vector types validate their invariants once, at construction; results of operations
are built by the kernels and are valid by construction, so they skip the checks (`_sparse`, `_packed`, ...).
"""
import os

import numpy as np

from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc

from kernels cimport *

PATHS = ('scalar', 'avx2', 'avx512')
DEFAULT_DIM = 10_000
DEFAULT_NNZ = 200
cdef unsigned _features = krn_cpu_features()
cdef int _path = 0


def available_paths():
    """The SIMD paths this CPU supports, narrowest first."""
    out = ['scalar']
    if _features & KRN_HAS_AVX2:
        out.append('avx2')
    if _features & KRN_HAS_AVX512:
        out.append('avx512')
    return tuple(out)


def set_simd_path(name):
    """Force a path (`scalar`, `avx2`, `avx512`); ValueError if unknown or not supported by this CPU."""
    global _path
    if name not in PATHS:
        raise ValueError(f'SIMD path {name!r} is unknown; use one of {", ".join(PATHS)}')
    if name not in available_paths():
        raise ValueError(f'SIMD path {name!r}: this CPU supports only {", ".join(available_paths())}')
    _path = PATHS.index(name)


def _hidden_features(setting):
    """(feature bits, warning or None) for EMBEDDENATOR_DISABLE_SIMD=setting: comma-separated paths to treat as
    absent. Hiding avx2 hides avx512 too (the AVX-512 path is only enabled on top of AVX2, as detection does);
    names that are no path to disable are ignored, with a warning."""
    bits, unknown = 0, []
    for name in filter(None, (part.strip().lower() for part in setting.split(','))):
        if name == 'avx2':
            bits |= KRN_HAS_AVX2 | KRN_HAS_AVX512
        elif name == 'avx512':
            bits |= KRN_HAS_AVX512
        else:
            unknown.append(repr(name))
    why = None
    if unknown:
        why = (f'EMBEDDENATOR_DISABLE_SIMD names {", ".join(unknown)}, not a path that can be disabled '
               f'({", ".join(PATHS[1:])}); ignored')
    return bits, why


def _chosen_path(requested, available):
    """(path, warning or None) for EMBEDDENATOR_SIMD=requested on a CPU with the `available` paths (narrowest
    first): the requested path if the CPU has it, else the widest one it has, with the reason in one line."""
    name, widest = requested.strip().lower(), max(available, key=PATHS.index)   # no [-1]: wraparound is off
    if not name:
        return widest, None
    if name not in PATHS:
        return widest, f'EMBEDDENATOR_SIMD={requested!r} is not a SIMD path ({", ".join(PATHS)}); using {widest}'
    if name not in available:
        return widest, (f'EMBEDDENATOR_SIMD={requested!r} is not supported by this CPU '
                        f'(it has {", ".join(available)}); using {widest}')
    return name, None


def _select_path(environ):
    """Apply EMBEDDENATOR_DISABLE_SIMD, then EMBEDDENATOR_SIMD (once, at import); returns the reasons a setting
    could not be honoured, which `embeddenator.vsa` issues as warnings (from Python code, so a warning names the
    line that imported vsa rather than an importlib frame)."""
    global _features
    hidden, why_hidden = _hidden_features(environ.get('EMBEDDENATOR_DISABLE_SIMD', ''))
    cdef unsigned mask = hidden
    _features &= ~mask
    path, why_path = _chosen_path(environ.get('EMBEDDENATOR_SIMD', ''), available_paths())
    set_simd_path(path)
    return tuple(why for why in (why_hidden, why_path) if why)


def simd_path():
    """The SIMD path in use."""
    return PATHS[_path]


def popcount(words):
    """Number of set bits in a 1-D array of uint64 words."""
    cdef const uint64_t[::1] w = np.ascontiguousarray(words, dtype=np.uint64)
    cdef uint64_t n
    cdef int path = _path
    if w.shape[0] == 0:
        return 0
    # SAFETY: w is a C-contiguous uint64 buffer of w.shape[0] > 0 words, held alive by the memoryview, and
    # `path` is one set_simd_path accepted for this CPU.
    with nogil:
        n = krn_popcount(path, &w[0], <size_t>w.shape[0])
    return int(n)


include "checks.pxi"
include "sparse.pxi"
include "packed.pxi"
include "blocks.pxi"
include "threads.pxi"
include "matrix.pxi"
include "ops.pxi"
include "postings.pxi"
include "bits.pxi"

# wraparound is off for the whole module (see the manifest), so no negative indexing here either.
_PATH_WARNINGS = _select_path(os.environ)
