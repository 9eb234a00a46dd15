"""Compiled ternary VSA kernels with runtime SIMD dispatch.

The SIMD path is chosen once at import from what the CPU and OS support; `EMBEDDENATOR_SIMD`
(`scalar`, `avx2`, `avx512`) forces one, and forcing a path the CPU lacks is an error, not a crash.
"""
import os

import numpy as np

from libc.stdint cimport uint64_t

from kernels cimport krn_cpu_features, KRN_HAS_AVX2, KRN_HAS_AVX512, krn_popcount_scalar, krn_popcount_avx2

PATHS = ('scalar', 'avx2', 'avx512')
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
    if w.shape[0] == 0:
        return 0
    # SAFETY: w is a C-contiguous uint64 buffer of w.shape[0] > 0 words, held alive by the memoryview.
    with nogil:
        # The avx2 path is used only when the CPU reported AVX2 with OS support (set_simd_path checks).
        if _path >= 1:
            n = krn_popcount_avx2(&w[0], <size_t>w.shape[0])
        else:
            n = krn_popcount_scalar(&w[0], <size_t>w.shape[0])
    return int(n)


# wraparound is off for the whole module (see the manifest), so no negative indexing here either.
set_simd_path(os.environ.get('EMBEDDENATOR_SIMD') or max(available_paths(), key=PATHS.index))
