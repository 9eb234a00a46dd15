/* Exact top-k over a packed codebook: a streaming scan that scores every row against a batch of queries
 * (each row is read from memory once, whatever the batch size), then a bounded-heap selection per query.
 *
 * Layout (the PackedMatrix layout): row r starts at rows + r * stride; its +1 plane is the first `nw` words,
 * its -1 plane the `nw` words starting at rows + r * stride + half (half = stride / 2, a multiple of 8 words,
 * so with a 64-byte aligned buffer every plane starts on a cache line). Queries use the same row size but are
 * prepared (see below).
 */
#ifndef EMBEDDENATOR_TOPK_H
#define EMBEDDENATOR_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"
#include "packed.h"

/* Rows ahead of the one being scored whose cache lines are requested, into L2 (locality 2, _MM_HINT_T1).
 * Measured single-core at D = 10,000 (2.5 KB rows, 256 MB codebook), best of 6: no software prefetch about
 * 2x the time of a plain read of the same bytes; prefetch into L1 (T0) 8 rows ahead 1.4x (16 rows of 2.5 KB
 * ahead plus the query overflow a 32 KB L1 and evict each other); into L2 16 rows ahead 1.0x. */
#define KRN_PREFETCH_ROWS 16

/* SAFETY: prefetch is a hint that never faults, and the caller only names rows inside the buffer anyway. */
static inline void krn_prefetch_row(const uint64_t *row, size_t stride) {
    for (size_t off = 0; off < stride; off += 8) __builtin_prefetch(row + off, 0, 2);
}

/* Queries are *prepared*: the +1 plane, then at offset `half` the support plane (+1 | -1), zero-padded to half
 * words. Then dot = pc(c) - 2 pc(c & (x+ ^ y+)) with c = (x+ | x-) & support(y): the common support, minus
 * twice the positions where the signs differ. Per 8 words that is two query loads and three logic operations,
 * which lets the AVX-512 scan keep a row's words in registers for a group of queries.
 *
 * SAFETY (every scan): rows holds n rows and queries nq prepared rows of `stride` words, with
 * nw <= half = stride / 2; scores holds nq * n values with r1 <= n. Rows [r0, r1) of scores are written by this
 * call only, so disjoint ranges may run on different threads. Prefetching runs past r1 (up to row n - 1) so the
 * next range starts warm. */

/* The row loop of the scalar and AVX2 scans: prefetch ahead, score the row against every query.
 * SAFETY: see above. */
#define KRN_SCAN_ROWS(DOT)                                                                                    \
    size_t half = stride / 2;                                                                                 \
    for (size_t r = r0; r < r1; r++) {                                                                        \
        const uint64_t *row = rows + r * stride;                                                              \
        if (r + KRN_PREFETCH_ROWS < n) krn_prefetch_row(row + KRN_PREFETCH_ROWS * stride, stride);           \
        for (size_t q = 0; q < nq; q++) {                                                                     \
            const uint64_t *qr = queries + q * stride;                                                        \
            scores[q * n + r] = DOT(row, row + half, qr, qr + half, nw, 1);                                   \
        }                                                                                                     \
    }

/* SAFETY: see above. */
static void krn_scan_scalar(const uint64_t *rows, size_t stride, size_t nw, size_t r0, size_t r1,
                            const uint64_t *queries, size_t nq, int64_t *scores, size_t n) {
    KRN_SCAN_ROWS(krn_dot2_scalar)
}

#if KRN_X86
/* SAFETY: see above; called only where the CPU has AVX2 (the dispatcher checks). */
KRN_TARGET_AVX2 static void krn_scan_avx2(const uint64_t *rows, size_t stride, size_t nw, size_t r0, size_t r1,
                                          const uint64_t *queries, size_t nq, int64_t *scores, size_t n) {
    KRN_SCAN_ROWS(krn_dot2_avx2)
}

/* Scores one row against a group of G queries: each 8-word block of the row is loaded once and kept in
 * registers for the whole group (2 loads per query and block instead of 4), with 2 accumulators per query.
 * G is a compile-time constant at every call site, so the accumulator arrays live in registers.
 * SAFETY: see above; the row's last block is loaded with a mask covering only its nw words (the padding words of
 * a buffer from outside need not be zero); prepared queries are zero-padded to `half` >= 8 * ceil(nw / 8) words,
 * so their full-width loads stay inside their row. */
__attribute__((always_inline)) KRN_TARGET_AVX512 static inline void
krn_score_group_avx512(const int G, const uint64_t *row, size_t half, size_t nw, const uint64_t *q0, size_t stride,
                       int64_t *out, size_t n) {
    __m512i accc[8], accd[8];
    for (int j = 0; j < G; j++) accc[j] = accd[j] = _mm512_setzero_si512();
    for (size_t i = 0; i < nw; i += 8) {
        __mmask8 m = nw - i >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (nw - i)) - 1u);
        __m512i p = _mm512_maskz_loadu_epi64(m, row + i), a = _mm512_or_si512(p, _mm512_maskz_loadu_epi64(m, row + half + i));
        for (int j = 0; j < G; j++) {
            const uint64_t *q = q0 + (size_t)j * stride;
            __m512i c = _mm512_and_si512(a, _mm512_loadu_si512((const void *)(q + half + i)));
            /* 0x60 = A & (B ^ C) (truth-table bits 5 and 6): the common support where the signs differ */
            __m512i d = _mm512_ternarylogic_epi64(c, p, _mm512_loadu_si512((const void *)(q + i)), 0x60);
            accc[j] = _mm512_add_epi64(accc[j], _mm512_popcnt_epi64(c));
            accd[j] = _mm512_add_epi64(accd[j], _mm512_popcnt_epi64(d));
        }
    }
    for (int j = 0; j < G; j++)
        out[(size_t)j * n] = _mm512_reduce_add_epi64(_mm512_sub_epi64(accc[j], _mm512_slli_epi64(accd[j], 1)));
}

/* Rows per tile of the AVX-512 scan: each group of (up to 8) queries, 20 KB at D = 10,000, stays in L1 while it
 * scores the tile's rows (80 KB, from L2 after the first group pulled them in). Scoring every group row by row
 * instead cycles all the queries (40 KB for 16) through a 32 KB L1: measured 10-20% slower for 16 queries. */
#define KRN_TILE_ROWS 32

/* Scores rows [t0, t1) against the G queries at q0; the first group of a tile also prefetches ahead.
 * SAFETY: see above. */
__attribute__((always_inline)) KRN_TARGET_AVX512 static inline void
krn_score_tile_avx512(const int G, const uint64_t *rows, size_t stride, size_t nw, size_t t0, size_t t1, int first,
                      const uint64_t *q0, int64_t *scores, size_t n) {
    size_t half = stride / 2;
    for (size_t r = t0; r < t1; r++) {
        const uint64_t *row = rows + r * stride;
        if (first && r + KRN_PREFETCH_ROWS < n) krn_prefetch_row(row + KRN_PREFETCH_ROWS * stride, stride);
        krn_score_group_avx512(G, row, half, nw, q0, stride, scores + r, n);
    }
}

/* SAFETY: see above; called only where the CPU has AVX-512 VPOPCNTDQ (the dispatcher checks). */
KRN_TARGET_AVX512 static void krn_scan_avx512(const uint64_t *rows, size_t stride, size_t nw, size_t r0,
                                              size_t r1, const uint64_t *queries, size_t nq, int64_t *scores,
                                              size_t n) {
    for (size_t t0 = r0; t0 < r1; t0 += KRN_TILE_ROWS) {
        size_t t1 = t0 + KRN_TILE_ROWS < r1 ? t0 + KRN_TILE_ROWS : r1, q = 0;
        for (; q + 8 <= nq; q += 8)
            krn_score_tile_avx512(8, rows, stride, nw, t0, t1, q == 0, queries + q * stride, scores + q * n, n);
        if (q + 4 <= nq) {
            krn_score_tile_avx512(4, rows, stride, nw, t0, t1, q == 0, queries + q * stride, scores + q * n, n);
            q += 4;
        }
        if (q + 2 <= nq) {
            krn_score_tile_avx512(2, rows, stride, nw, t0, t1, q == 0, queries + q * stride, scores + q * n, n);
            q += 2;
        }
        if (q < nq) krn_score_tile_avx512(1, rows, stride, nw, t0, t1, q == 0, queries + q * stride, scores + q * n, n);
    }
}
#endif

/* The dispatcher. SAFETY: see above; `path` is one the CPU supports (the module checks). */
static inline void krn_scan(int path, const uint64_t *rows, size_t stride, size_t nw, size_t r0, size_t r1,
                            const uint64_t *queries, size_t nq, int64_t *scores, size_t n) {
#if KRN_X86
    if (path >= KRN_PATH_AVX512) { krn_scan_avx512(rows, stride, nw, r0, r1, queries, nq, scores, n); return; }
    if (path >= KRN_PATH_AVX2) { krn_scan_avx2(rows, stride, nw, r0, r1, queries, nq, scores, n); return; }
#endif
    (void)path;
    krn_scan_scalar(rows, stride, nw, r0, r1, queries, nq, scores, n);
}

/* Entry a ranks below entry b: lower score, or the same score and a higher id. */
static inline int krn_worse(int64_t sa, int64_t ia, int64_t sb, int64_t ib) {
    return sa < sb || (sa == sb && ia > ib);
}

/* Restores the heap (worst entry at the root) below `i`. SAFETY: ids and sc hold `len` entries. */
static inline void krn_sift_down(int64_t *ids, int64_t *sc, size_t len, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < len && krn_worse(sc[l], ids[l], sc[m], ids[m])) m = l;
        if (l + 1 < len && krn_worse(sc[l + 1], ids[l + 1], sc[m], ids[m])) m = l + 1;
        if (m == i) return;
        int64_t t = ids[i]; ids[i] = ids[m]; ids[m] = t;
        t = sc[i]; sc[i] = sc[m]; sc[m] = t;
        i = m;
    }
}

/* The k best of n scores (score descending, then id ascending), written to ids / out in that order.
 * SAFETY: scores holds n values; ids and out hold k <= n writable values (the caller clamps k). */
static inline void krn_select_topk(const int64_t *scores, size_t n, size_t k, int64_t *ids, int64_t *out) {
    if (k == 0) return;
    for (size_t r = 0; r < k; r++) { ids[r] = (int64_t)r; out[r] = scores[r]; }
    for (size_t i = k / 2; i-- > 0;) krn_sift_down(ids, out, k, i);
    for (size_t r = k; r < n; r++) {
        /* rows arrive in ascending id order, so a tie with the root never displaces it */
        if (scores[r] > out[0]) { ids[0] = (int64_t)r; out[0] = scores[r]; krn_sift_down(ids, out, k, 0); }
    }
    for (size_t len = k; len > 1; len--) {   /* heap sort: the worst goes last */
        int64_t t = ids[0]; ids[0] = ids[len - 1]; ids[len - 1] = t;
        t = out[0]; out[0] = out[len - 1]; out[len - 1] = t;
        krn_sift_down(ids, out, len - 1, 0);
    }
}

#endif /* EMBEDDENATOR_TOPK_H */
