/* Population count of a uint64 array: scalar, AVX2 (nibble lookup) and AVX-512 VPOPCNTDQ paths. */
#ifndef EMBEDDENATOR_POPCOUNT_H
#define EMBEDDENATOR_POPCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"

/* SAFETY: `w` points to `n` readable uint64 words (checked by the Cython caller). */
static inline uint64_t krn_popcount_scalar(const uint64_t *w, size_t n) {
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += (uint64_t)__builtin_popcountll(w[i]);
    return total;
}

#if KRN_X86
/* Per-byte population counts of a 256-bit register (Muła's nibble lookup with _mm256_shuffle_epi8).
 * SAFETY: register-only intrinsics; callable only where the CPU has AVX2 (the dispatcher checks). */
KRN_TARGET_AVX2 static inline __m256i krn_pcnt_bytes_avx2(__m256i v) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low));
    __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    return _mm256_add_epi8(lo, hi);
}

/* SAFETY: register-only intrinsics (AVX2 checked by the dispatcher). */
KRN_TARGET_AVX2 static inline uint64_t krn_hsum_epi64_avx2(__m256i v) {
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

/* SAFETY: `w` points to `n` readable uint64 words; the loop loads whole 32-byte blocks with unaligned
 * loads (_mm256_loadu_si256) only while 4 words remain, and the tail goes through the scalar path. */
KRN_TARGET_AVX2 static uint64_t krn_popcount_avx2(const uint64_t *w, size_t n) {
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(w + i));
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(krn_pcnt_bytes_avx2(v), _mm256_setzero_si256()));
    }
    uint64_t tail = 0;
    for (; i < n; i++) tail += (uint64_t)_mm_popcnt_u64(w[i]);
    return krn_hsum_epi64_avx2(acc) + tail;
}

/* Masked load of min(n, 8) words: lanes outside the mask are neither read nor faulted on.
 * SAFETY: `w` points to at least min(n, 8) readable words; the mask covers exactly those. */
KRN_TARGET_AVX512 static inline __m512i krn_load_tail_avx512(const uint64_t *w, size_t n) {
    return _mm512_maskz_loadu_epi64(n >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << n) - 1u), w);
}

/* SAFETY: `w` points to `n` readable words; full 8-word unaligned loads while 8 remain, then one masked
 * load (krn_load_tail_avx512) of the rest. Called only where the CPU has AVX-512 VPOPCNTDQ. */
KRN_TARGET_AVX512 static uint64_t krn_popcount_avx512(const uint64_t *w, size_t n) {
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_loadu_si512((const void *)(w + i))));
    if (i < n) acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(krn_load_tail_avx512(w + i, n - i)));
    return (uint64_t)_mm512_reduce_add_epi64(acc);
}
#endif

/* The dispatcher. SAFETY: `w` holds `n` readable words; `path` is one the CPU supports (the Cython module
 * only stores such paths). */
static inline uint64_t krn_popcount(int path, const uint64_t *w, size_t n) {
#if KRN_X86
    if (path >= KRN_PATH_AVX512) return krn_popcount_avx512(w, n);
    if (path >= KRN_PATH_AVX2) return krn_popcount_avx2(w, n);
#endif
    (void)path;
    return krn_popcount_scalar(w, n);
}

#endif /* EMBEDDENATOR_POPCOUNT_H */
