/* Inverted index of a packed codebook: for every dimension d, the rows holding +1 at d and the rows holding -1
 * at d, as CSR (offsets `ptr[d] .. ptr[d + 1]` into an array of row numbers, ascending: int32, or a uint16 copy
 * when every row number fits), and the exact top-k of sparse queries read from those lists.
 *
 * For a query with +1 set P and -1 set N, a row's dot product is
 *     sum over d in P of (+1 if the row has +1 at d, -1 if -1)  +  sum over d in N of the opposite,
 * so adding +1 / -1 into one counter per row for every posting of the query's dimensions gives every row's
 * exact score (rows no posting touches score 0). The counters of one query fit in L1 (int16 for 10,000 rows is
 * 20 KB), so each posting costs one load of its row number and one increment in L1: about 0.5 ns on one core of
 * the development machine, where int32 counters (40 KB, past L1) measured 15% slower.
 *
 * Layout of the codebook: the PackedMatrix layout (row r at words + r * stride, +1 plane first, -1 plane at
 * + half, nw words each).
 */
#ifndef EMBEDDENATOR_POSTINGS_H
#define EMBEDDENATOR_POSTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "topk.h"    /* krn_worse: the one ranking every strategy shares */

/* How many of pos[0 .. n) are outside [0, dim) (one branch-free pass the compiler vectorises).
 * SAFETY: pos holds n values. */
static inline size_t krn_count_outside(const int64_t *pos, size_t n, int64_t dim) {
    size_t bad = 0;
    for (size_t j = 0; j < n; j++) bad += (pos[j] < 0) | (pos[j] >= dim);
    return bad;
}

/* Rows ahead of the one being written whose cache lines are requested for writing: the bits of a row land on
 * most of its lines in random order, and measured on 10,000 rows of dim 10,000 this halves the time. */
#define KRN_PACK_AHEAD 2

/* Sets the bits of rows first + i (zero before) from rows given as CSR by row: bit ps[j] of the +1 plane for j in
 * [pst[i], pst[i + 1]), bit ns[j] of the -1 plane (at word offset half) for j in [nst[i], nst[i + 1]).
 * SAFETY: pst / nst hold nrows + 1 non-decreasing offsets into ps / ns, every position in [0, dim)
 * (krn_count_outside) with ceil(dim / 64) <= half; words holds rows first .. first + nrows - 1 of
 * stride = 2 * half words. Prefetches of rows past the last are hints, which never fault. */
static inline void krn_pack_rows(const int64_t *pst, const int64_t *ps, const int64_t *nst, const int64_t *ns,
                                 size_t nrows, size_t first, uint64_t *words, size_t stride, size_t half) {
    for (size_t i = 0; i < nrows; i++) {
        /* SAFETY: the row lies inside `words` (caller's bound), every written word below half + nw <= stride. */
        uint64_t *row = words + (first + i) * stride;
        if (i + KRN_PACK_AHEAD < nrows)
            for (size_t o = 0; o < stride; o += 8) __builtin_prefetch(row + KRN_PACK_AHEAD * stride + o, 1, 3);
        for (int64_t j = pst[i], e = pst[i + 1]; j < e; j++) row[ps[j] >> 6] |= (uint64_t)1 << (ps[j] & 63);
        for (int64_t j = nst[i], e = nst[i + 1]; j < e; j++) row[half + (ns[j] >> 6)] |= (uint64_t)1 << (ns[j] & 63);
    }
}

/* Counts the postings of rows [0, n): ptr[d + 1] += rows with a bit at d in the plane at word offset `plane`,
 * for d < dim (bits at or beyond dim, which a valid codebook never has, are ignored).
 * SAFETY: words holds n rows of `stride` words, plane + nw <= stride, nw = ceil(dim / 64); ptr holds dim + 1. */
static inline void krn_postings_count(const uint64_t *words, size_t n, size_t stride, size_t plane, size_t nw,
                                      size_t dim, int64_t *ptr) {
    for (size_t r = 0; r < n; r++) {
        /* SAFETY: row r of the n rows, nw words from `plane` (see above). */
        const uint64_t *row = words + r * stride + plane;
        for (size_t i = 0; i < nw; i++) {
            for (uint64_t w = row[i]; w; w &= w - 1) {
                size_t d = 64 * i + (size_t)__builtin_ctzll(w);
                if (d < dim) ptr[d + 1]++;
            }
        }
    }
    for (size_t d = 0; d < dim; d++) ptr[d + 1] += ptr[d];
}

/* Writes the row numbers of rows [0, n) into `rows`: row r goes to rows[cur[d]++] for each bit d of its plane,
 * so each dimension's rows come out ascending. `cur` starts as a copy of the first dim offsets of the counted
 * ptr (krn_postings_count over the same words).
 * SAFETY: as krn_postings_count; cur holds dim offsets from a ptr counted over these very words, so every write
 * lands below ptr[dim], the length of `rows`; n < 2^31 (row numbers are int32). */
static inline void krn_postings_fill(const uint64_t *words, size_t n, size_t stride, size_t plane, size_t nw,
                                     size_t dim, int64_t *cur, int32_t *rows) {
    for (size_t r = 0; r < n; r++) {
        /* SAFETY: as krn_postings_count. */
        const uint64_t *row = words + r * stride + plane;
        for (size_t i = 0; i < nw; i++) {
            for (uint64_t w = row[i]; w; w &= w - 1) {
                size_t d = 64 * i + (size_t)__builtin_ctzll(w);
                if (d < dim) rows[cur[d]++] = (int32_t)r;
            }
        }
    }
}

/* The postings of rows [0, first) (old_ptr / old_rows) followed by those of rows first .. first + nrows - 1, given
 * as CSR by row (row first + i has a bit at pos[start[i]] .. pos[start[i + 1] - 1]): each dimension's old rows are
 * copied, then the new rows appended, so every list stays ascending. new_ptr must arrive zeroed.
 * SAFETY: old_ptr holds dim + 1 valid offsets into old_rows; start holds nrows + 1 rising offsets into pos, each
 * position in [0, dim) (krn_count_outside);
 * new_ptr holds dim + 1 and cur dim values; new_rows holds old_ptr[dim] + start[nrows] values; first + nrows
 * <= 2^31 (row numbers are int32). */
static inline void krn_postings_extend(const int64_t *old_ptr, const int32_t *old_rows, size_t dim, size_t first,
                                       const int64_t *start, const int64_t *pos, size_t nrows,
                                       int64_t *new_ptr, int64_t *cur, int32_t *new_rows) {
    for (int64_t j = start[0]; j < start[nrows]; j++) new_ptr[pos[j] + 1]++;
    for (size_t d = 0; d < dim; d++) new_ptr[d + 1] += new_ptr[d] + (old_ptr[d + 1] - old_ptr[d]);
    for (size_t d = 0; d < dim; d++) {
        int64_t len = old_ptr[d + 1] - old_ptr[d];
        /* SAFETY: the old list of d fits the new list's head: new_ptr[d + 1] - new_ptr[d] >= len. */
        if (len) memcpy(new_rows + new_ptr[d], old_rows + old_ptr[d], (size_t)len * sizeof(int32_t));
        cur[d] = new_ptr[d] + len;
    }
    for (size_t i = 0; i < nrows; i++)
        for (int64_t j = start[i]; j < start[i + 1]; j++) new_rows[cur[pos[j]]++] = (int32_t)(first + i);
}

/* 1 if ptr is dim + 1 non-decreasing offsets from 0 to len and every row number is in [0, n), else 0.
 * SAFETY: ptr holds dim + 1 values, rows holds len values. */
static inline int krn_postings_valid(const int64_t *ptr, size_t dim, const int32_t *rows, size_t len, size_t n) {
    if (ptr[0] != 0 || ptr[dim] != (int64_t)len) return 0;
    for (size_t d = 0; d < dim; d++)
        if (ptr[d + 1] < ptr[d]) return 0;
    for (size_t j = 0; j < len; j++)
        if (rows[j] < 0 || (size_t)rows[j] >= n) return 0;
    return 1;
}

/* The postings of one index and the codebook rows they cover, plus rows added since (scored from the codebook).
 * Row numbers are int32, or uint16 when every row number fits (half the bytes streamed per posting).
 * SAFETY: pptr / mptr hold dim + 1 valid offsets into prows / mrows (krn_postings_valid), arrays of the row type
 * the query function names, whose row numbers are below `covered`; words holds n >= covered rows of `stride`
 * words, the -1 plane at + half. */
typedef struct {
    const int64_t *pptr, *mptr;
    const void *prows, *mrows;
    size_t covered, n;
    const uint64_t *words;
    size_t stride, half;
} krn_postings;

/* krn_sift_down for a heap of row numbers ranked by their ids (`ids` NULL: the id is the row).
 * SAFETY: rows / sc hold len > i entries of a heap whose root is the worst; ids (when not NULL) holds an id for
 * every row number stored in `rows`. */
static inline void krn_heap_down(int64_t *rows, int64_t *sc, const int64_t *ids, size_t len, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && krn_worse(sc[l], ids ? ids[rows[l]] : rows[l], sc[m], ids ? ids[rows[m]] : rows[m])) m = l;
        if (r < len && krn_worse(sc[r], ids ? ids[rows[r]] : rows[r], sc[m], ids ? ids[rows[m]] : rows[m])) m = r;
        if (m == i) return;
        int64_t t = rows[i]; rows[i] = rows[m]; rows[m] = t;
        t = sc[i]; sc[i] = sc[m]; sc[m] = t;
        i = m;
    }
}

/* The k best rows of acc[0 .. n) by (score desc, id asc), best first, into out_rows / out_sc: a heap of k whose
 * root is the worst kept; a block of rows whose best score cannot displace the root is passed over after one
 * (vectorised) max, which is most blocks once the heap holds good rows.
 * SAFETY: acc holds n counters, ids is NULL or holds n ids, 0 < k <= n, out_rows / out_sc hold k values. */
#define KRN_SELECT_BLOCK 64
#define KRN_SELECT(NAME, T)                                                                                   \
static void NAME(const T *acc, size_t n, const int64_t *ids, size_t k, int64_t *out_rows, int64_t *out_sc) {   \
    size_t len = 0;                                                                                           \
    int64_t thr = INT64_MIN;                   /* the root's score once the heap is full */                   \
    for (size_t b = 0; b < n; b += KRN_SELECT_BLOCK) {                                                        \
        size_t e = b + KRN_SELECT_BLOCK < n ? b + KRN_SELECT_BLOCK : n;                                       \
        if (len == k) {                                                                                       \
            T m = acc[b];                                                                                     \
            for (size_t r = b + 1; r < e; r++) m = acc[r] > m ? acc[r] : m;                                   \
            /* rows ascend with ids when ids is NULL: a tie with the root never displaces it */               \
            if ((int64_t)m < thr || (!ids && (int64_t)m == thr)) continue;                                    \
        }                                                                                                     \
        for (size_t r = b; r < e; r++) {                                                                      \
            int64_t s = acc[r], id = ids ? ids[r] : (int64_t)r;                                               \
            if (len < k) {                                                                                    \
                out_rows[len] = (int64_t)r; out_sc[len] = s; len++;                                           \
                if (len == k) {                                                                               \
                    for (size_t i = k / 2; i-- > 0;) krn_heap_down(out_rows, out_sc, ids, k, i);              \
                    thr = out_sc[0];                                                                          \
                }                                                                                             \
            } else if (krn_worse(out_sc[0], ids ? ids[out_rows[0]] : out_rows[0], s, id)) {                   \
                out_rows[0] = (int64_t)r; out_sc[0] = s;                                                      \
                krn_heap_down(out_rows, out_sc, ids, k, 0);                                                   \
                thr = out_sc[0];                                                                              \
            }                                                                                                 \
        }                                                                                                     \
    }                                                                                                         \
    for (size_t m = k; m > 1; m--) {          /* heap sort: the worst goes last */                            \
        int64_t t = out_rows[0]; out_rows[0] = out_rows[m - 1]; out_rows[m - 1] = t;                          \
        t = out_sc[0]; out_sc[0] = out_sc[m - 1]; out_sc[m - 1] = t;                                          \
        krn_heap_down(out_rows, out_sc, ids, m - 1, 0);                                                       \
    }                                                                                                         \
}

/* SAFETY: see KRN_SELECT. */
KRN_SELECT(krn_select16, int16_t)
/* SAFETY: see KRN_SELECT. */
KRN_SELECT(krn_select32, int32_t)

/* Query dimensions ahead whose lists are prefetched, and how many row numbers of each: a list starts at a random
 * place (a cache miss each), and measured on 1,000 queries over 10,000 rows, prefetching 4 dimensions ahead
 * halved the time of the counting loop; the hardware prefetcher follows a list once it is being read. */
#define KRN_LIST_AHEAD 4
#define KRN_LIST_PREFETCH 128

/* One query: scores into acc[0 .. n), the dead rows set to `low` (below any score), then the k best rows by
 * (score desc, id asc) into out_rows / out_sc, best first. T is the counter type (int16_t when every score fits:
 * |score| <= query non-zeros <= 32,766), R the row number type of the postings.
 * SAFETY: `ix` as krn_postings with rows of type R (the casts below name that type); qp (nqp) and qn (nqn) hold
 * positions in [0, dim) (checked by the caller); dead holds ndead row numbers below n; ids is NULL or holds n
 * ids; acc holds n counters; k <= n - ndead (so `low` rows never reach the output); out_rows / out_sc hold k.
 * Prefetches may name addresses past a list's end: a prefetch is a hint that never faults. */
#define KRN_POSTINGS_QUERY(NAME, T, R, SELECT)                                                                \
static void NAME(const krn_postings *ix, const int64_t *qp, size_t nqp, const int64_t *qn, size_t nqn,       \
                 const int64_t *dead, size_t ndead, const int64_t *ids, T low, size_t k, T *acc,             \
                 int64_t *out_rows, int64_t *out_sc) {                                                        \
    size_t n = ix->n;                                                                                         \
    const R *prows = (const R *)ix->prows, *mrows = (const R *)ix->mrows;                                     \
    memset(acc, 0, n * sizeof(T));                                                                            \
    for (int sign = 0; sign < 2; sign++) {    /* rows holding the query's sign at d agree, the others disagree */ \
        const int64_t *q = sign ? qn : qp, *upp = sign ? ix->mptr : ix->pptr, *downp = sign ? ix->pptr : ix->mptr; \
        const R *up = sign ? mrows : prows, *down = sign ? prows : mrows;                                     \
        size_t nq = sign ? nqn : nqp;                                                                         \
        for (size_t i = 0; i < nq; i++) {                                                                     \
            if (i + KRN_LIST_AHEAD < nq) {     /* the lists of a later dimension start at random places */    \
                int64_t f = q[i + KRN_LIST_AHEAD];                                                            \
                for (int o = 0; o < KRN_LIST_PREFETCH; o += 64 / (int)sizeof(R)) {                            \
                    __builtin_prefetch(up + upp[f] + o);                                                      \
                    __builtin_prefetch(down + downp[f] + o);                                                  \
                }                                                                                             \
            }                                                                                                 \
            int64_t d = q[i], j = upp[d], e = upp[d + 1];                                                     \
            for (; j + 4 <= e; j += 4) { acc[up[j]]++; acc[up[j + 1]]++; acc[up[j + 2]]++; acc[up[j + 3]]++; }  \
            for (; j < e; j++) acc[up[j]]++;                                                                  \
            for (j = downp[d], e = downp[d + 1]; j + 4 <= e; j += 4) {                                        \
                acc[down[j]]--; acc[down[j + 1]]--; acc[down[j + 2]]--; acc[down[j + 3]]--;                   \
            }                                                                                                 \
            for (; j < e; j++) acc[down[j]]--;                                                                \
        }                                                                                                     \
    }                                                                                                         \
    for (size_t r = ix->covered; r < n; r++) { /* rows added since the postings: bit tests on the codebook */ \
        const uint64_t *pw = ix->words + r * ix->stride, *nw_ = pw + ix->half;                                \
        int s = 0;                                                                                            \
        for (size_t i = 0; i < nqp; i++)                                                                      \
            s += (int)((pw[qp[i] >> 6] >> (qp[i] & 63)) & 1) - (int)((nw_[qp[i] >> 6] >> (qp[i] & 63)) & 1); \
        for (size_t i = 0; i < nqn; i++)                                                                      \
            s += (int)((nw_[qn[i] >> 6] >> (qn[i] & 63)) & 1) - (int)((pw[qn[i] >> 6] >> (qn[i] & 63)) & 1); \
        acc[r] = (T)s;                                                                                        \
    }                                                                                                         \
    for (size_t i = 0; i < ndead; i++) acc[dead[i]] = low;                                                    \
    if (k) SELECT(acc, n, ids, k, out_rows, out_sc);                                                          \
}

/* SAFETY: see KRN_POSTINGS_QUERY. */
KRN_POSTINGS_QUERY(krn_postings_query16_r16, int16_t, uint16_t, krn_select16)
/* SAFETY: see KRN_POSTINGS_QUERY. */
KRN_POSTINGS_QUERY(krn_postings_query16_r32, int16_t, int32_t, krn_select16)
/* SAFETY: see KRN_POSTINGS_QUERY. */
KRN_POSTINGS_QUERY(krn_postings_query32_r16, int32_t, uint16_t, krn_select32)
/* SAFETY: see KRN_POSTINGS_QUERY. */
KRN_POSTINGS_QUERY(krn_postings_query32_r32, int32_t, int32_t, krn_select32)

/* The dispatcher: the narrowest counters the query allows (`narrow`), the postings' row type (`rows16`).
 * SAFETY: as KRN_POSTINGS_QUERY; acc holds n int32 counters (room for n of either type). */
static inline void krn_postings_query(const krn_postings *ix, int rows16, int narrow, const int64_t *qp, size_t nqp,
                                      const int64_t *qn, size_t nqn, const int64_t *dead, size_t ndead,
                                      const int64_t *ids, size_t k, int32_t *acc, int64_t *out_rows,
                                      int64_t *out_sc) {
    /* SAFETY: n int16 counters fit in the n int32 the caller provides. */
    int16_t *acc16 = (int16_t *)acc;
    if (narrow && rows16)
        krn_postings_query16_r16(ix, qp, nqp, qn, nqn, dead, ndead, ids, INT16_MIN, k, acc16, out_rows, out_sc);
    else if (narrow)
        krn_postings_query16_r32(ix, qp, nqp, qn, nqn, dead, ndead, ids, INT16_MIN, k, acc16, out_rows, out_sc);
    else if (rows16)
        krn_postings_query32_r16(ix, qp, nqp, qn, nqn, dead, ndead, ids, INT32_MIN, k, acc, out_rows, out_sc);
    else
        krn_postings_query32_r32(ix, qp, nqp, qn, nqn, dead, ndead, ids, INT32_MIN, k, acc, out_rows, out_sc);
}

#endif /* EMBEDDENATOR_POSTINGS_H */
