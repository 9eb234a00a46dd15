/* Sparse ternary vectors: sorted, disjoint int64 index arrays of the +1 and -1 positions.
 * Every operation is a linear merge of sorted arrays; none allocates (callers pass output buffers sized by
 * the bound stated on each function).
 */
#ifndef EMBEDDENATOR_SPARSE_H
#define EMBEDDENATOR_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#define KRN_SPARSE_END INT64_MAX

/* 1 if a is strictly increasing with every value in [0, dim), else 0.
 * SAFETY: `a` holds `n` readable values (a may be NULL when n == 0: nothing is read). */
static inline int krn_sorted_in_range(const int64_t *a, size_t n, int64_t dim) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] >= dim) return 0;
        if (i && a[i] <= a[i - 1]) return 0;
    }
    return 1;
}

/* |a ∩ b| of two strictly increasing arrays, by a branch-free merge (no mispredicted branches per step).
 * SAFETY: a holds na and b holds nb readable values; indices stay below na / nb by the loop condition. */
static inline size_t krn_count_common(const int64_t *a, size_t na, const int64_t *b, size_t nb) {
    size_t i = 0, j = 0, c = 0;
    while (i < na && j < nb) {
        int64_t x = a[i], y = b[j];
        c += (x == y);
        i += (x <= y);
        j += (y <= x);
    }
    return c;
}

/* A signed sorted stream over the two index arrays of one vector.
 * SAFETY: p holds np and n holds nn readable values; krn_stream_head reads only below those counts. */
typedef struct {
    const int64_t *p, *n;
    size_t np, nn, i, j;
} krn_stream;

/* Index of the stream's next position and its sign (+1 / -1), or KRN_SPARSE_END when exhausted.
 * SAFETY: reads p[i] only if i < np and n[j] only if j < nn. */
static inline int64_t krn_stream_head(const krn_stream *s, int *sign) {
    int64_t x = s->i < s->np ? s->p[s->i] : KRN_SPARSE_END;
    int64_t y = s->j < s->nn ? s->n[s->j] : KRN_SPARSE_END;
    *sign = x < y ? 1 : -1;
    return x < y ? x : y;
}

static inline void krn_stream_pop(krn_stream *s, int sign) {
    if (sign > 0) s->i++; else s->j++;
}

#define KRN_OP_BIND 0
#define KRN_OP_BUNDLE 1

/* Walks the union of both supports in index order and writes, per position, sign(sa * sb) for BIND or
 * sign(sa + sb) for BUNDLE (sa, sb = 0 where a vector has no entry). Output stays sorted and disjoint.
 * SAFETY: inputs are validated sparse vectors (sorted, disjoint, < 2^63 - 1); op and on each have room for
 * nap + nan + nbp + nbn values (BUNDLE's bound; BIND writes fewer). Counts are returned in *cp / *cn. */
static inline void krn_sparse_combine(int op, const int64_t *ap, size_t nap, const int64_t *an, size_t nan,
                                      const int64_t *bp, size_t nbp, const int64_t *bn, size_t nbn,
                                      int64_t *outp, size_t *cp, int64_t *outn, size_t *cn) {
    krn_stream a = {ap, an, nap, nan, 0, 0}, b = {bp, bn, nbp, nbn, 0, 0};
    size_t kp = 0, kn = 0;
    for (;;) {
        int sa, sb, s;
        int64_t x = krn_stream_head(&a, &sa), y = krn_stream_head(&b, &sb);
        if (x == KRN_SPARSE_END && y == KRN_SPARSE_END) break;
        int64_t at = x < y ? x : y;
        if (x != at) sa = 0; else krn_stream_pop(&a, sa);
        if (y != at) sb = 0; else krn_stream_pop(&b, sb);
        s = op == KRN_OP_BIND ? sa * sb : (sa + sb > 0) - (sa + sb < 0);
        if (s > 0) outp[kp++] = at;
        else if (s < 0) outn[kn++] = at;
    }
    *cp = kp;
    *cn = kn;
}

/* sum(a * b) over the dense view by merging: the four sign-pair intersections.
 * SAFETY: as krn_count_common for each pair. */
static inline int64_t krn_sparse_dot_merge(const int64_t *ap, size_t nap, const int64_t *an, size_t nan,
                                           const int64_t *bp, size_t nbp, const int64_t *bn, size_t nbn) {
    return (int64_t)(krn_count_common(ap, nap, bp, nbp) + krn_count_common(an, nan, bn, nbn))
         - (int64_t)(krn_count_common(ap, nap, bn, nbn) + krn_count_common(an, nan, bp, nbp));
}

/* Largest dim for which krn_sparse_dot uses a sign table on the stack (one byte per position). */
#define KRN_SIGN_TABLE_MAX 32768

/* sum(a * b) over the dense view. Up to KRN_SIGN_TABLE_MAX positions: b's signs are written into a byte table
 * (only at a's and b's positions: first a's entries are cleared, the only ones read later), then a's entries
 * look theirs up. Every step is an independent load or store, where a merge is one long chain of dependent
 * compares: about 3x faster at 200 non-zeros. Larger dims merge (a table would cost more to clear than to use).
 * SAFETY: each (pointer, count) pair addresses that many validated indices in [0, dim); the table holds dim
 * bytes and every index used is < dim; only entries cleared or written in this call are read. */
static inline int64_t krn_sparse_dot(int64_t dim, const int64_t *ap, size_t nap, const int64_t *an, size_t nan,
                                     const int64_t *bp, size_t nbp, const int64_t *bn, size_t nbn) {
    if (dim > KRN_SIGN_TABLE_MAX) return krn_sparse_dot_merge(ap, nap, an, nan, bp, nbp, bn, nbn);
    int8_t table[KRN_SIGN_TABLE_MAX];
    int64_t s = 0;
    for (size_t i = 0; i < nap; i++) table[ap[i]] = 0;
    for (size_t i = 0; i < nan; i++) table[an[i]] = 0;
    for (size_t i = 0; i < nbp; i++) table[bp[i]] = 1;
    for (size_t i = 0; i < nbn; i++) table[bn[i]] = -1;
    for (size_t i = 0; i < nap; i++) s += table[ap[i]];
    for (size_t i = 0; i < nan; i++) s -= table[an[i]];
    return s;
}

/* np.roll on the index array: out = sorted((a + s) mod dim) for 0 <= s < dim, in two linear runs.
 * SAFETY: a holds n sorted values in [0, dim); out has room for n values and does not overlap a. */
static inline void krn_sparse_roll(const int64_t *a, size_t n, int64_t dim, int64_t s, int64_t *out) {
    size_t k = 0;
    while (k < n && a[k] + s < dim) k++;      /* a[k..n) wrap around to the front */
    size_t m = 0;
    for (size_t i = k; i < n; i++) out[m++] = a[i] + s - dim;
    for (size_t i = 0; i < k; i++) out[m++] = a[i] + s;
}

/* acc[idx[i]] += delta. SAFETY: every idx[i] is in [0, len(acc)) (validated sparse indices). */
static inline void krn_accumulate(int32_t *acc, const int64_t *idx, size_t n, int32_t delta) {
    for (size_t i = 0; i < n; i++) acc[idx[i]] += delta;
}

/* Positions of the positive and of the negative entries of acc, ascending.
 * SAFETY: acc holds `dim` values; outp and outn have room for `dim` values each. */
static inline void krn_sign_positions(const int32_t *acc, size_t dim, int64_t *outp, size_t *cp, int64_t *outn,
                                      size_t *cn) {
    size_t kp = 0, kn = 0;
    for (size_t i = 0; i < dim; i++) {
        if (acc[i] > 0) outp[kp++] = (int64_t)i;
        else if (acc[i] < 0) outn[kn++] = (int64_t)i;
    }
    *cp = kp;
    *cn = kn;
}

#endif /* EMBEDDENATOR_SPARSE_H */
