/* Bit-packed ternary vectors: two bitplanes (+1 and -1) of little-endian uint64 words.
 *
 * The dot product is the 2-popcount form pc((a+ & b+) | (a- & b-)) - pc((a+ & b-) | (a- & b+)): the two
 * operands of each popcount are disjoint because no position is set in both planes of a vector.
 */
#ifndef EMBEDDENATOR_PACKED_H
#define EMBEDDENATOR_PACKED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "simd.h"
#include "popcount.h"

/* SAFETY: each of ap, an, bp, bn points to `nw` readable words (the Cython layer checks the lengths). */
static inline int64_t krn_dot_scalar(const uint64_t *ap, const uint64_t *an, const uint64_t *bp,
                                     const uint64_t *bn, size_t nw) {
    int64_t s = 0;
    for (size_t i = 0; i < nw; i++) {
        s += __builtin_popcountll((ap[i] & bp[i]) | (an[i] & bn[i]));
        s -= __builtin_popcountll((ap[i] & bn[i]) | (an[i] & bp[i]));
    }
    return s;
}

#if KRN_X86
/* Byte counts of up to 31 blocks are summed in 8-bit lanes (31 * 8 = 248 < 256) before one _mm256_sad_epu8.
 * SAFETY: each pointer addresses `nw` readable words; unaligned 32-byte loads only while 4 words remain,
 * scalar POPCNT for the tail. Called only where the CPU has AVX2 (the dispatcher checks). */
KRN_TARGET_AVX2 static inline int64_t krn_dot_avx2(const uint64_t *ap, const uint64_t *an, const uint64_t *bp,
                                                   const uint64_t *bn, size_t nw) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i accp = zero, accn = zero;
    size_t i = 0;
    while (i + 4 <= nw) {
        __m256i bp8 = zero, bn8 = zero;
        for (int blk = 0; blk < 31 && i + 4 <= nw; blk++, i += 4) {
            __m256i xp = _mm256_loadu_si256((const __m256i *)(ap + i));
            __m256i xn = _mm256_loadu_si256((const __m256i *)(an + i));
            __m256i yp = _mm256_loadu_si256((const __m256i *)(bp + i));
            __m256i yn = _mm256_loadu_si256((const __m256i *)(bn + i));
            __m256i plus = _mm256_or_si256(_mm256_and_si256(xp, yp), _mm256_and_si256(xn, yn));
            __m256i minus = _mm256_or_si256(_mm256_and_si256(xp, yn), _mm256_and_si256(xn, yp));
            bp8 = _mm256_add_epi8(bp8, krn_pcnt_bytes_avx2(plus));
            bn8 = _mm256_add_epi8(bn8, krn_pcnt_bytes_avx2(minus));
        }
        accp = _mm256_add_epi64(accp, _mm256_sad_epu8(bp8, zero));
        accn = _mm256_add_epi64(accn, _mm256_sad_epu8(bn8, zero));
    }
    int64_t s = (int64_t)krn_hsum_epi64_avx2(accp) - (int64_t)krn_hsum_epi64_avx2(accn);
    for (; i < nw; i++) {
        s += (int64_t)_mm_popcnt_u64((ap[i] & bp[i]) | (an[i] & bn[i]));
        s -= (int64_t)_mm_popcnt_u64((ap[i] & bn[i]) | (an[i] & bp[i]));
    }
    return s;
}

/* SAFETY: each pointer addresses `nw` readable words; unaligned 64-byte loads while 8 words remain, then
 * masked loads that touch only the remaining words. Called only where the CPU has AVX-512 VPOPCNTDQ. */
KRN_TARGET_AVX512 static inline int64_t krn_dot_avx512(const uint64_t *ap, const uint64_t *an,
                                                       const uint64_t *bp, const uint64_t *bn, size_t nw) {
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 8 <= nw; i += 8) {
        __m512i xp = _mm512_loadu_si512((const void *)(ap + i)), xn = _mm512_loadu_si512((const void *)(an + i));
        __m512i yp = _mm512_loadu_si512((const void *)(bp + i)), yn = _mm512_loadu_si512((const void *)(bn + i));
        __m512i plus = _mm512_or_si512(_mm512_and_si512(xp, yp), _mm512_and_si512(xn, yn));
        __m512i minus = _mm512_or_si512(_mm512_and_si512(xp, yn), _mm512_and_si512(xn, yp));
        acc = _mm512_add_epi64(acc, _mm512_sub_epi64(_mm512_popcnt_epi64(plus), _mm512_popcnt_epi64(minus)));
    }
    if (i < nw) {
        size_t r = nw - i;
        __m512i xp = krn_load_tail_avx512(ap + i, r), xn = krn_load_tail_avx512(an + i, r);
        __m512i yp = krn_load_tail_avx512(bp + i, r), yn = krn_load_tail_avx512(bn + i, r);
        __m512i plus = _mm512_or_si512(_mm512_and_si512(xp, yp), _mm512_and_si512(xn, yn));
        __m512i minus = _mm512_or_si512(_mm512_and_si512(xp, yn), _mm512_and_si512(xn, yp));
        acc = _mm512_add_epi64(acc, _mm512_sub_epi64(_mm512_popcnt_epi64(plus), _mm512_popcnt_epi64(minus)));
    }
    return (int64_t)_mm512_reduce_add_epi64(acc);
}
#endif

/* The dispatcher. SAFETY: as for the path functions; `path` is one the CPU supports (the module checks). */
static inline int64_t krn_dot(int path, const uint64_t *ap, const uint64_t *an, const uint64_t *bp,
                              const uint64_t *bn, size_t nw) {
#if KRN_X86
    if (path >= KRN_PATH_AVX512) return krn_dot_avx512(ap, an, bp, bn, nw);
    if (path >= KRN_PATH_AVX2) return krn_dot_avx2(ap, an, bp, bn, nw);
#endif
    (void)path;
    return krn_dot_scalar(ap, an, bp, bn, nw);
}

/* Elementwise product: +1 where the signs agree, -1 where they differ, 0 where either is 0.
 * SAFETY: the four inputs hold `nw` readable words, the two outputs `nw` writable words. */
static inline void krn_bind_words(const uint64_t *ap, const uint64_t *an, const uint64_t *bp, const uint64_t *bn,
                                  uint64_t *op, uint64_t *on, size_t nw) {
    for (size_t i = 0; i < nw; i++) {
        op[i] = (ap[i] & bp[i]) | (an[i] & bn[i]);
        on[i] = (ap[i] & bn[i]) | (an[i] & bp[i]);
    }
}

/* sign(a + b): P+P=P, P+N=0, x+0=x.
 * SAFETY: the four inputs hold `nw` readable words, the two outputs `nw` writable words. */
static inline void krn_bundle_words(const uint64_t *ap, const uint64_t *an, const uint64_t *bp,
                                    const uint64_t *bn, uint64_t *op, uint64_t *on, size_t nw) {
    for (size_t i = 0; i < nw; i++) {
        op[i] = (ap[i] & ~bn[i]) | (bp[i] & ~an[i]);
        on[i] = (an[i] & ~bp[i]) | (bn[i] & ~ap[i]);
    }
}

/* dst |= src << s (a shift towards higher bit indices), truncated to `nw` words.
 * SAFETY: src and dst hold `nw` words; every index read is w - q or w - q - 1 with w >= q (+1), so in range. */
static inline void krn_or_shl(const uint64_t *src, uint64_t *dst, size_t nw, size_t s) {
    size_t q = s >> 6, r = s & 63;
    for (size_t w = q; w < nw; w++) {
        uint64_t v = src[w - q] << r;
        if (r && w > q) v |= src[w - q - 1] >> (64 - r);
        dst[w] |= v;
    }
}

/* dst |= src >> s (a shift towards lower bit indices).
 * SAFETY: src and dst hold `nw` words; every index read is w + q (+1) < nw by the loop bounds. */
static inline void krn_or_shr(const uint64_t *src, uint64_t *dst, size_t nw, size_t s) {
    size_t q = s >> 6, r = s & 63;
    for (size_t w = 0; w + q < nw; w++) {
        uint64_t v = src[w + q] >> r;
        if (r && w + q + 1 < nw) v |= src[w + q + 1] << (64 - r);
        dst[w] |= v;
    }
}

/* Cyclic shift of a `dim`-bit plane: bit i moves to (i + s) mod dim, for 0 <= s < dim.
 * Padding bits of src are zero, so src >> (dim - s) brings exactly the wrapped bits to [0, s).
 * SAFETY: src and dst hold nw = ceil(dim / 64) words and do not overlap; s < dim (reduced by the caller). */
static inline void krn_rotate_words(const uint64_t *src, uint64_t *dst, size_t dim, size_t s) {
    size_t nw = (dim + 63) / 64;
    memset(dst, 0, nw * sizeof(uint64_t));
    krn_or_shl(src, dst, nw, s);
    if (s) krn_or_shr(src, dst, nw, dim - s);
    if (dim & 63) dst[nw - 1] &= (UINT64_C(1) << (dim & 63)) - 1;
}

/* Adds one bitplane to bit-sliced counters: plane j of `cnt` (cnt + j * nw) holds bit j of every position's
 * count. The carry ripples only while it is non-zero, which for sparse inputs is almost never past plane 0.
 * SAFETY: x holds `nw` words, cnt holds nbits * nw words, and the caller sizes nbits so that no count can
 * exceed 2^nbits - 1 (the carry therefore dies before plane nbits). */
static inline void krn_count_add(uint64_t *cnt, const uint64_t *x, size_t nw, int nbits) {
    for (size_t w = 0; w < nw; w++) {
        uint64_t c = x[w];
        for (int j = 0; c && j < nbits; j++) {
            uint64_t *slot = cnt + (size_t)j * nw + w;
            uint64_t t = *slot & c;
            *slot ^= c;
            c = t;
        }
    }
}

/* sign(count_pos - count_neg) per position, by a bit-sliced comparison from the most significant plane down.
 * SAFETY: cp and cn hold nbits * nw words, op and on `nw` writable words. */
static inline void krn_count_sign(const uint64_t *cp, const uint64_t *cn, size_t nw, int nbits,
                                  uint64_t *op, uint64_t *on) {
    for (size_t w = 0; w < nw; w++) {
        uint64_t gt = 0, lt = 0, eq = ~UINT64_C(0);
        for (int j = nbits - 1; j >= 0; j--) {
            uint64_t a = cp[(size_t)j * nw + w], b = cn[(size_t)j * nw + w];
            gt |= eq & a & ~b;
            lt |= eq & ~a & b;
            eq &= ~(a ^ b);
        }
        op[w] = gt;
        on[w] = lt;
    }
}

/* 0 if the planes are a valid vector, 1 if a position is set in both, 2 if a padding bit is set.
 * SAFETY: p and n hold `nw` >= 1 readable words. */
static inline int krn_words_invalid(const uint64_t *p, const uint64_t *n, size_t nw, size_t dim) {
    for (size_t i = 0; i < nw; i++)
        if (p[i] & n[i]) return 1;
    uint64_t pad = (dim & 63) ? ~((UINT64_C(1) << (dim & 63)) - 1) : 0;
    return ((p[nw - 1] | n[nw - 1]) & pad) ? 2 : 0;
}

/* Sets bit idx[i] for every i. SAFETY: every idx[i] is in [0, 64 * nw) (validated sparse indices). */
static inline void krn_scatter_bits(const int64_t *idx, size_t n, uint64_t *w) {
    for (size_t i = 0; i < n; i++) w[idx[i] >> 6] |= UINT64_C(1) << (idx[i] & 63);
}

/* Writes the index of every set bit, ascending; returns how many. SAFETY: `out` has room for popcount(w). */
static inline size_t krn_gather_bits(const uint64_t *w, size_t nw, int64_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < nw; i++) {
        for (uint64_t x = w[i]; x; x &= x - 1) out[k++] = (int64_t)(i * 64 + (size_t)__builtin_ctzll(x));
    }
    return k;
}

#endif /* EMBEDDENATOR_PACKED_H */
