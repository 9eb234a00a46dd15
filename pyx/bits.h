/* Bit sums of a byte string cut into pieces of `width` bytes, and the largest of such sums (thinning).
 *
 * Bit sums: the bundle of the pieces, each read as the signs of its bits (+1 for a set bit, -1 for a clear one),
 * as 8 * width int32 sums. Sum 8 i + j is bit j of byte i, most significant bit first (np.unpackbits' order);
 * bytes past the end of a short last piece count nothing.
 *
 * Each byte is spread into eight one-bit byte lanes of a uint64 and added to its position's accumulator, so a
 * byte costs one add instead of eight; the lanes are flushed into the int32 sums every 255 pieces, before any
 * lane can overflow. Scalar C only: the loop is bound by the bytes it reads, not by arithmetic.
 */
#ifndef EMBEDDENATOR_BITS_H
#define EMBEDDENATOR_BITS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KRN_LANES 0x0101010101010101ULL

/* Byte b as eight byte lanes, lane j = bit 7 - j of b: replicate, keep one bit per lane, carry it into the lane's
 * top bit (a lane holds 0 or 2^k <= 0x80, plus 0x7f never carries into the next lane), shift it down. */
static inline uint64_t krn_spread_byte(uint8_t b) {
    uint64_t x = ((uint64_t)b * KRN_LANES) & 0x0102040810204080ULL;
    return ((x + 0x7f7f7f7f7f7f7f7fULL) >> 7) & KRN_LANES;
}

/* SAFETY: data holds n readable bytes (NULL only when n == 0); width >= 1; acc holds width writable words and
 * out 8 * width writable int32 sums (neither aliases data nor each other); ceil(n / width) < 2^31. */
static void krn_bit_sums(const uint8_t *data, size_t n, size_t width, uint64_t *acc, int32_t *out) {
    size_t pieces = n / width + (n % width != 0), last = n - (pieces ? pieces - 1 : 0) * width;
    for (size_t t = 0; t < 8 * width; t++) out[t] = 0;
    if (pieces == 0) return;
    for (size_t first = 0; first < pieces; first += 255) {
        size_t end = pieces - first > 255 ? first + 255 : pieces;
        for (size_t i = 0; i < width; i++) acc[i] = 0;
        for (size_t k = first; k < end; k++) {
            const uint8_t *p = data + k * width;
            size_t len = k + 1 == pieces ? last : width;
            for (size_t i = 0; i < len; i++) acc[i] += krn_spread_byte(p[i]);
        }
        for (size_t i = 0; i < width; i++)
            for (int j = 0; j < 8; j++) out[8 * i + j] += (int32_t)((acc[i] >> (8 * j)) & 0xffu);
    }
    for (size_t i = 0; i < width; i++) {         /* ones -> ones - zeros over the pieces that reach byte i */
        int32_t reach = (int32_t)(i < last ? pieces : pieces - 1);
        for (int j = 0; j < 8; j++) out[8 * i + j] = 2 * out[8 * i + j] - reach;
    }
}

#define KRN_BAD_RANK (-1)

static inline uint32_t krn_magnitude(int32_t v) { return v < 0 ? 0u - (uint32_t)v : (uint32_t)v; }

/* SAFETY: sums holds m readable values. */
static size_t krn_count_above(const int32_t *sums, size_t m, uint32_t c) {
    size_t n = 0;
    for (size_t i = 0; i < m; i++) n += krn_magnitude(sums[i]) > c;
    return n;
}

/* Whether any of the n sums from `sums` has a magnitude of c or more (a test the compiler vectorises, so the
 * passes below skip the many blocks of small magnitudes without a branch per sum).
 * SAFETY: sums holds n readable values. */
static inline int krn_any_at_least(const int32_t *sums, size_t n, uint32_t c) {
    uint32_t any = 0;
    for (size_t i = 0; i < n; i++) any |= krn_magnitude(sums[i]) >= c;
    return any != 0;
}

#define KRN_BLOCK 32

/* The k largest magnitudes of m sums, ties broken by `rank` (a permutation of 0 .. m - 1, the least kept first):
 * every position above the magnitude where the k-th falls (the cut: the least c with at most k magnitudes above
 * it, found by bisection), then the positions at the cut of least rank until k are kept (their ranks flagged in
 * `seen`, which is read in rank order up to the rank where the k-th falls). The kept positions go to `out` in
 * ascending order; all non-zero positions if there are at most k. Returns how many were written, or KRN_BAD_RANK
 * if a rank at the cut is outside [0, m) or repeats, so that no rank keeps exactly k.
 * SAFETY: sums and rank hold m readable values, seen m writable bytes and out min(k, m) writable int64 (none
 * aliasing another); seen is indexed only by 0 or ranks checked to be in [0, m); out is written only at an index
 * below min(k, m). */
static int64_t krn_keep_largest(const int32_t *sums, size_t m, const int64_t *rank, size_t k, uint8_t *seen,
                                int64_t *out) {
    uint32_t lo = 0, hi = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t a = krn_magnitude(sums[i]);
        hi = a > hi ? a : hi;
    }
    while (lo < hi) {                                   /* count_above(hi) <= k throughout; count_above(lo - 1) > k */
        uint32_t mid = lo + (hi - lo) / 2;
        if (krn_count_above(sums, m, mid) <= k) hi = mid;
        else lo = mid + 1;
    }
    uint32_t cut = lo;
    int64_t below = 0;                                  /* ties of rank < below are kept (none when cut == 0) */
    if (cut > 0) {
        size_t need = k - krn_count_above(sums, m, cut);
        memset(seen, 0, m);
        int bad = 0;                                    /* no branch on the sums: ties are often half of them */
        for (size_t i = 0; i < m; i++) {
            if (i % KRN_BLOCK == 0 && !krn_any_at_least(sums + i, m - i < KRN_BLOCK ? m - i : KRN_BLOCK, cut)) {
                i += KRN_BLOCK - 1;
                continue;
            }
            int tie = krn_magnitude(sums[i]) == cut, ok = rank[i] >= 0 && (uint64_t)rank[i] < m;
            bad |= tie & !ok;
            seen[ok ? rank[i] : 0] |= (uint8_t)tie;
        }
        if (bad) return KRN_BAD_RANK;
        for (; need > 0 && (size_t)below < m; below++) need -= seen[below];
    }
    size_t count = 0, cap = k < m ? k : m;
    for (size_t j = 0; j < m; j++) {
        if (j % KRN_BLOCK == 0 && cut > 0 && !krn_any_at_least(sums + j, m - j < KRN_BLOCK ? m - j : KRN_BLOCK, cut)) {
            j += KRN_BLOCK - 1;
            continue;
        }
        uint32_t a = krn_magnitude(sums[j]);
        if (count < cap) out[count] = (int64_t)j;      /* written always, kept by counting it: no branch on a */
        count += (a > cut) | ((a == cut) & (rank[j] < below));
    }
    if (count > cap) return KRN_BAD_RANK;
    return cut > 0 && count != k ? KRN_BAD_RANK : (int64_t)count;
}

#endif
