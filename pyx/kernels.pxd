# Every C declaration the kernels use, in one place.
from libc.stdint cimport uint64_t

cdef extern from "simd.h" nogil:
    # SAFETY: pure CPUID/XGETBV queries; XGETBV runs only after CPUID reports OSXSAVE.
    unsigned krn_cpu_features()
    unsigned KRN_HAS_AVX2
    unsigned KRN_HAS_AVX512

cdef extern from "popcount.h" nogil:
    # SAFETY: both read exactly `n` words from `w`; callers pass a pointer to a buffer of at least `n` words.
    uint64_t krn_popcount_scalar(const uint64_t *w, size_t n)
    uint64_t krn_popcount_avx2(const uint64_t *w, size_t n)
