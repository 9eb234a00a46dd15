/* Exact top-k over a packed codebook: a streaming scan that scores every row against a batch of queries
 * (each row is read from memory once, whatever the batch size), then a bounded-heap selection per query.
 *
 * Layout (the PackedMatrix layout): row r starts at rows + r * stride; its +1 plane is the first `nw` words,
 * its -1 plane the `nw` words starting at rows + r * stride + half (half = stride / 2, a multiple of 8 words,
 * so with a 64-byte aligned buffer every plane starts on a cache line). Queries use the same layout.
 */
#ifndef EMBEDDENATOR_TOPK_H
#define EMBEDDENATOR_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"
#include "packed.h"

/* Rows ahead of the one being scored whose cache lines are requested: ~4 rows of 2.5 KB at D = 10,000 cover the
 * memory latency at this scan's rate; the hardware prefetcher alone stops at 4 KB page boundaries. */
#define KRN_PREFETCH_ROWS 4

/* SAFETY: prefetch is a hint that never faults, and the caller only names rows inside the buffer anyway. */
static inline void krn_prefetch_row(const uint64_t *row, size_t stride) {
    for (size_t off = 0; off < stride; off += 8) __builtin_prefetch(row + off, 0, 0);
}

/* scores[q * n + r] = dot(row r, query q) for r in [r0, r1) and every query q < nq.
 * SAFETY: rows holds at least r1 rows and queries nq rows of `stride` words, with nw <= half = stride / 2;
 * scores holds nq * n values with r1 <= n. Rows [r0, r1) of scores are written by this call only, so
 * disjoint ranges may run on different threads. */
#define KRN_SCAN_BODY(DOT)                                                                                    \
    for (size_t r = r0; r < r1; r++) {                                                                        \
        const uint64_t *row = rows + r * stride;                                                              \
        if (r + KRN_PREFETCH_ROWS < r1) krn_prefetch_row(row + KRN_PREFETCH_ROWS * stride, stride);           \
        for (size_t q = 0; q < nq; q++) {                                                                     \
            const uint64_t *qr = queries + q * stride;                                                        \
            scores[q * n + r] = DOT(row, row + half, qr, qr + half, nw);                                      \
        }                                                                                                     \
    }

/* SAFETY: see KRN_SCAN_BODY. */
static void krn_scan_scalar(const uint64_t *rows, size_t stride, size_t nw, size_t r0, size_t r1,
                            const uint64_t *queries, size_t nq, int64_t *scores, size_t n) {
    size_t half = stride / 2;
    KRN_SCAN_BODY(krn_dot_scalar)
}

#if KRN_X86
/* SAFETY: see KRN_SCAN_BODY; called only where the CPU has AVX2 (the dispatcher checks). */
KRN_TARGET_AVX2 static void krn_scan_avx2(const uint64_t *rows, size_t stride, size_t nw, size_t r0, size_t r1,
                                          const uint64_t *queries, size_t nq, int64_t *scores, size_t n) {
    size_t half = stride / 2;
    KRN_SCAN_BODY(krn_dot_avx2)
}

/* SAFETY: see KRN_SCAN_BODY; called only where the CPU has AVX-512 VPOPCNTDQ (the dispatcher checks). */
KRN_TARGET_AVX512 static void krn_scan_avx512(const uint64_t *rows, size_t stride, size_t nw, size_t r0,
                                              size_t r1, const uint64_t *queries, size_t nq, int64_t *scores,
                                              size_t n) {
    size_t half = stride / 2;
    KRN_SCAN_BODY(krn_dot_avx512)
}
#endif

/* The dispatcher. SAFETY: see KRN_SCAN_BODY; `path` is one the CPU supports (the module checks). */
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
