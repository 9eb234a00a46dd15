/* Weighted superposition of a packed codebook: acc[d] += sum_i w[i] * row_i[d], row_i[d] in {-1, 0, +1}.
 *
 * What a resonator network does once per factor and iteration: the codebook's rows weighted by their similarities
 * to the current estimate, summed, then signed. n rows x dim positions of adds; a float BLAS matrix-vector
 * product does the same work on 32x the bytes (one float per position instead of one bit).
 *
 * Layout: the PackedMatrix layout (row i at rows + i * stride, +1 plane first, -1 plane at + half). acc holds
 * 64 * nw int32 sums, one per bit position (positions past dim stay 0: their bits are zero). The caller
 * guarantees that the weights' magnitudes sum below 2^31, so no partial sum overflows.
 */
#ifndef EMBEDDENATOR_SUPERPOSE_H
#define EMBEDDENATOR_SUPERPOSE_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"

/* Portable: row by row, word by word, bit by bit. For 100 rows at D = 10,000 on one thread, the call included:
 * this loop 1,200 us (compiled for AVX2 instead, 974 us), the AVX2 path below 213 us, the AVX-512 path 71 us.
 * SAFETY: rows holds n rows of `stride` words with nw <= stride / 2; w holds n weights; acc holds 64 * nw sums. */
static void krn_superpose_scalar(const uint64_t *rows, size_t n, size_t stride, size_t nw, const int32_t *w,
                                 int32_t *acc) {
    size_t half = stride / 2;
    for (size_t i = 0; i < n; i++) {
        int32_t wi = w[i];
        if (wi == 0) continue;
        const uint64_t *p = rows + i * stride, *m = p + half;
        for (size_t j = 0; j < nw; j++) {
            uint64_t pj = p[j], mj = m[j];
            if ((pj | mj) == 0) continue;
            int32_t *a = acc + 64 * j;
            for (int b = 0; b < 64; b++)
                a[b] += wi * (int32_t)((pj >> b) & 1u) - wi * (int32_t)((mj >> b) & 1u);
        }
    }
}

#if KRN_X86
/* AVX2: as AVX-512 below, one word column at a time with its 64 sums in eight registers of 8 int32, but AVX2 has no
 * mask registers: each byte of a plane word is broadcast, ANDed with the lane bits {1, 2, ..., 128} and compared
 * with them, which gives all-ones in the lanes whose bit is set; the weight ANDed with that is added (or
 * subtracted): about 5 operations per 8 positions and plane where AVX-512 needs one masked add per 16.
 * SAFETY: see krn_superpose_scalar; acc + 64 * j .. + 63 lies inside acc's 64 * nw sums (unaligned loads and
 * stores of 8 int32 each); the intrinsics below touch no other memory; called only where the CPU has AVX2 (the
 * dispatcher checks). */
KRN_TARGET_AVX2 static void krn_superpose_avx2(const uint64_t *rows, size_t n, size_t stride, size_t nw,
                                               const int32_t *w, int32_t *acc) {
    size_t half = stride / 2;
    const __m256i lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    for (size_t j = 0; j < nw; j++) {
        int32_t *a = acc + 64 * j;
        __m256i s[8];
        for (int g = 0; g < 8; g++) s[g] = _mm256_loadu_si256((const __m256i *)(a + 8 * g));
        for (size_t i = 0; i < n; i++) {
            uint64_t pj = rows[i * stride + j], mj = rows[i * stride + half + j];
            if ((pj | mj) == 0 || w[i] == 0) continue;
            __m256i wv = _mm256_set1_epi32(w[i]);
            for (int g = 0; g < 8; g++) {
                __m256i pb = _mm256_set1_epi32((int)((pj >> (8 * g)) & 0xFFu));
                __m256i mb = _mm256_set1_epi32((int)((mj >> (8 * g)) & 0xFFu));
                __m256i pm = _mm256_cmpeq_epi32(_mm256_and_si256(pb, lane_bits), lane_bits);
                __m256i mm = _mm256_cmpeq_epi32(_mm256_and_si256(mb, lane_bits), lane_bits);
                s[g] = _mm256_sub_epi32(_mm256_add_epi32(s[g], _mm256_and_si256(pm, wv)), _mm256_and_si256(mm, wv));
            }
        }
        for (int g = 0; g < 8; g++) _mm256_storeu_si256((__m256i *)(a + 8 * g), s[g]);
    }
}

/* AVX-512: one word (64 positions) at a time, its 64 sums in four registers of 16 int32 for the whole pass over
 * the rows, each 16 bits of a plane word used directly as the mask of a masked add (or subtract) of the row's
 * broadcast weight: 8 masked operations per row and word, no bit unpacking. The codebook is read word-column
 * by word-column (a 100-row codebook at D = 10,000 is 250 KB, resident in L2 across the columns).
 * SAFETY: see krn_superpose_scalar; acc + 64 * j .. + 63 lies inside acc's 64 * nw sums (unaligned loads and
 * stores); called only where the CPU has AVX-512 F (the dispatcher checks). */
KRN_TARGET_AVX512 static void krn_superpose_avx512(const uint64_t *rows, size_t n, size_t stride, size_t nw,
                                                   const int32_t *w, int32_t *acc) {
    size_t half = stride / 2;
    for (size_t j = 0; j < nw; j++) {
        int32_t *a = acc + 64 * j;
        /* SAFETY: a .. a + 63 are this word's 64 sums inside acc (see above). */
        __m512i a0 = _mm512_loadu_si512((const void *)a), a1 = _mm512_loadu_si512((const void *)(a + 16));
        /* SAFETY: as above. */
        __m512i a2 = _mm512_loadu_si512((const void *)(a + 32)), a3 = _mm512_loadu_si512((const void *)(a + 48));
        for (size_t i = 0; i < n; i++) {
            uint64_t pj = rows[i * stride + j], mj = rows[i * stride + half + j];
            /* SAFETY: register operations on values already loaded; no memory access. */
            __m512i wv = _mm512_set1_epi32(w[i]);
            /* SAFETY: as above (each masked add or subtract below likewise). */
            a0 = _mm512_mask_add_epi32(a0, (__mmask16)pj, a0, wv);
            /* SAFETY: as above. */
            a0 = _mm512_mask_sub_epi32(a0, (__mmask16)mj, a0, wv);
            /* SAFETY: as above. */
            a1 = _mm512_mask_add_epi32(a1, (__mmask16)(pj >> 16), a1, wv);
            /* SAFETY: as above. */
            a1 = _mm512_mask_sub_epi32(a1, (__mmask16)(mj >> 16), a1, wv);
            /* SAFETY: as above. */
            a2 = _mm512_mask_add_epi32(a2, (__mmask16)(pj >> 32), a2, wv);
            /* SAFETY: as above. */
            a2 = _mm512_mask_sub_epi32(a2, (__mmask16)(mj >> 32), a2, wv);
            /* SAFETY: as above. */
            a3 = _mm512_mask_add_epi32(a3, (__mmask16)(pj >> 48), a3, wv);
            /* SAFETY: as above. */
            a3 = _mm512_mask_sub_epi32(a3, (__mmask16)(mj >> 48), a3, wv);
        }
        /* SAFETY: the same 64 sums loaded above. */
        _mm512_storeu_si512((void *)a, a0);
        /* SAFETY: as above. */
        _mm512_storeu_si512((void *)(a + 16), a1);
        /* SAFETY: as above. */
        _mm512_storeu_si512((void *)(a + 32), a2);
        /* SAFETY: as above. */
        _mm512_storeu_si512((void *)(a + 48), a3);
    }
}
#endif

/* The dispatcher. SAFETY: see krn_superpose_scalar; `path` is one the CPU supports (the module checks). */
static inline void krn_superpose(int path, const uint64_t *rows, size_t n, size_t stride, size_t nw,
                                 const int32_t *w, int32_t *acc) {
#if KRN_X86
    if (path >= KRN_PATH_AVX512) { krn_superpose_avx512(rows, n, stride, nw, w, acc); return; }
    if (path >= KRN_PATH_AVX2) { krn_superpose_avx2(rows, n, stride, nw, w, acc); return; }
#endif
    (void)path;
    krn_superpose_scalar(rows, n, stride, nw, w, acc);
}

#endif /* EMBEDDENATOR_SUPERPOSE_H */
