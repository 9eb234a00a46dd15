"""Compiled ternary VSA kernels with runtime SIMD dispatch, and the vector types built on them.

The SIMD path is chosen once at import from what the CPU and OS support; `EMBEDDENATOR_SIMD`
(`scalar`, `avx2`, `avx512`) forces one, and forcing a path the CPU lacks is an error, not a crash.

Every public entry point checks dims, dtypes, shapes and contiguity in Python-visible code, then runs its loop
in C without the GIL. The vector types validate their invariants once, at construction; results of operations
are built by the kernels and are valid by construction, so they skip the checks (`_sparse`, `_packed`, ...).
"""
import os

import numpy as np

from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t, uint64_t
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
        raise ValueError(f'EMBEDDENATOR_SIMD={name!r} is not a SIMD path; use one of {", ".join(PATHS)}')
    if name not in available_paths():
        raise ValueError(f'EMBEDDENATOR_SIMD={name!r}: this CPU supports only {", ".join(available_paths())}')
    _path = PATHS.index(name)


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

# wraparound is off for the whole module (see the manifest), so no negative indexing here either.
set_simd_path(os.environ.get('EMBEDDENATOR_SIMD') or max(available_paths(), key=PATHS.index))
