# Every C declaration the kernels use, in one place. Widths: indices are int64_t (numpy's intp on 64-bit
# platforms), bitplanes uint64_t words, bundle counters int32_t (enough for 2^31 - 1 bundled vectors), raw bytes
# uint8_t.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

cdef extern from "simd.h" nogil:
    # SAFETY: pure CPUID/XGETBV queries; XGETBV runs only after CPUID reports OSXSAVE.
    unsigned krn_cpu_features()
    unsigned KRN_HAS_AVX2
    unsigned KRN_HAS_AVX512

cdef extern from "popcount.h" nogil:
    # SAFETY: read exactly `n` words from `w`; callers pass a buffer of at least `n` words and a path the CPU
    # supports (the module stores only such paths).
    uint64_t krn_popcount_scalar(const uint64_t *w, size_t n)
    uint64_t krn_popcount(int path, const uint64_t *w, size_t n)

cdef extern from "packed.h" nogil:
    # SAFETY: every pointer addresses `nw` words (inputs readable, outputs writable, outputs not aliasing
    # inputs); the Cython layer derives nw from the checked dimension and the checked buffer lengths.
    int64_t krn_dot(int path, const uint64_t *ap, const uint64_t *an, const uint64_t *bp, const uint64_t *bn,
                    size_t nw)
    void krn_bind_words(const uint64_t *ap, const uint64_t *an, const uint64_t *bp, const uint64_t *bn,
                        uint64_t *op, uint64_t *on, size_t nw)
    void krn_bundle_words(const uint64_t *ap, const uint64_t *an, const uint64_t *bp, const uint64_t *bn,
                          uint64_t *op, uint64_t *on, size_t nw)
    # SAFETY: src/dst hold ceil(dim / 64) words, s < dim.
    void krn_rotate_words(const uint64_t *src, uint64_t *dst, size_t dim, size_t s)
    # SAFETY: pos[v] / neg[v] hold nw words for v < nvec; op / on hold nw words; nvec < 2^nbits, nbits <= 63.
    int KRN_MAX_COUNT_BITS
    void krn_bundle_many(int path, const uint64_t *const *pos, const uint64_t *const *neg, size_t nvec, size_t nw,
                         int nbits, uint64_t *op, uint64_t *on)
    # SAFETY: w holds n readable words.
    uint64_t krn_xor_words(int path, const uint64_t *w, size_t n)
    # SAFETY: p, n hold nw >= 1 words.
    int krn_words_invalid(const uint64_t *p, const uint64_t *n, size_t nw, size_t dim)
    # SAFETY: indices validated to be < 64 * len(w); out sized to the popcount.
    void krn_scatter_bits(const int64_t *idx, size_t n, uint64_t *w)
    size_t krn_gather_bits(const uint64_t *w, size_t nw, int64_t *out)

cdef extern from "sparse.h" nogil:
    # SAFETY: each (pointer, count) pair addresses that many readable values (NULL only with count 0);
    # outputs are sized by the bounds documented in sparse.h.
    int krn_sorted_in_range(const int64_t *a, size_t n, int64_t dim)
    size_t krn_count_common(const int64_t *a, size_t na, const int64_t *b, size_t nb)
    int KRN_OP_BIND
    int KRN_OP_BUNDLE
    void krn_sparse_combine(int op, const int64_t *ap, size_t nap, const int64_t *an, size_t nan,
                            const int64_t *bp, size_t nbp, const int64_t *bn, size_t nbn,
                            int64_t *outp, size_t *cp, int64_t *outn, size_t *cn)
    int64_t krn_sparse_dot(int64_t dim, const int64_t *ap, size_t nap, const int64_t *an, size_t nan,
                           const int64_t *bp, size_t nbp, const int64_t *bn, size_t nbn)
    void krn_sparse_roll(const int64_t *a, size_t n, int64_t dim, int64_t s, int64_t *out)
    void krn_accumulate(int32_t *acc, const int64_t *idx, size_t n, int32_t delta)
    void krn_sign_positions(const int32_t *acc, size_t dim, int64_t *outp, size_t *cp, int64_t *outn, size_t *cn)

cdef extern from "blocks.h" nogil:
    # SAFETY: (ids, pos, neg) arrays of one vector share one length; outputs hold na + nb blocks.
    int KRN_BLOCK_BIND
    int KRN_BLOCK_BUNDLE
    int64_t krn_block_dot(const int64_t *aid, const uint64_t *ap, const uint64_t *an, size_t na,
                          const int64_t *bid, const uint64_t *bp, const uint64_t *bn, size_t nb)
    size_t krn_block_combine(int op, const int64_t *aid, const uint64_t *ap, const uint64_t *an, size_t na,
                             const int64_t *bid, const uint64_t *bp, const uint64_t *bn, size_t nb,
                             int64_t *oid, uint64_t *op_, uint64_t *on)

cdef extern from "topk.h" nogil:
    # SAFETY: rows holds n rows and queries nq prepared rows of `stride` words (PackedMatrix layout); scores
    # holds nq * n values; concurrent calls must use disjoint [r0, r1) ranges.
    void krn_scan(int path, const uint64_t *rows, size_t stride, size_t nw, size_t r0, size_t r1,
                  const uint64_t *queries, size_t nq, int64_t *scores, size_t n)
    # SAFETY: scores holds n values, ids/out hold k <= n values.
    void krn_select_topk(const int64_t *scores, size_t n, size_t k, int64_t *ids, int64_t *out)

cdef extern from "superpose.h" nogil:
    # SAFETY: rows holds n rows of `stride` words with nw <= stride / 2; w holds n weights whose magnitudes sum
    # below 2^31; acc holds 64 * nw int32 sums.
    void krn_superpose(int path, const uint64_t *rows, size_t n, size_t stride, size_t nw, const int32_t *w,
                       int32_t *acc)

cdef extern from "bits.h" nogil:
    # SAFETY: data holds n readable bytes (NULL only when n == 0), width >= 1, acc holds width words and out
    # 8 * width int32 sums, none aliasing another; ceil(n / width) < 2^31.
    void krn_bit_sums(const uint8_t *data, size_t n, size_t width, uint64_t *acc, int32_t *out)
    # SAFETY: sums and rank hold m values, seen m bytes, out min(k, m) int64, none aliasing another; the ranks
    # used as indices are bounds-checked.
    int64_t KRN_BAD_RANK
    int64_t krn_keep_largest(const int32_t *sums, size_t m, const int64_t *rank, size_t k, uint8_t *seen,
                             int64_t *out)

cdef extern from "postings.h" nogil:
    # SAFETY: pos holds n values.
    size_t krn_count_outside(const int64_t *pos, size_t n, int64_t dim)
    # SAFETY: pst / nst hold nrows + 1 rising offsets into ps / ns, every position in [0, dim) (krn_count_outside)
    # with ceil(dim / 64) <= half; words holds rows first .. first + nrows - 1 of stride = 2 * half words.
    void krn_pack_rows(const int64_t *pst, const int64_t *ps, const int64_t *nst, const int64_t *ns, size_t nrows,
                       size_t first, uint64_t *words, size_t stride, size_t half)
    # SAFETY: words holds n rows of stride words, plane + nw <= stride; ptr holds dim + 1 counters; cur holds dim
    # offsets counted over the same rows, so rows (ptr[dim] values) receives every write.
    void krn_postings_count(const uint64_t *words, size_t n, size_t stride, size_t plane, size_t nw, size_t dim,
                            int64_t *ptr)
    void krn_postings_fill(const uint64_t *words, size_t n, size_t stride, size_t plane, size_t nw, size_t dim,
                           int64_t *cur, int32_t *rows)
    # SAFETY: ptr holds dim + 1 offsets, rows holds len values.
    int krn_postings_valid(const int64_t *ptr, size_t dim, const int32_t *rows, size_t len, size_t n)
    # SAFETY: old_ptr / old_rows valid postings, start rising offsets into pos with positions in [0, dim)
    # (krn_count_outside), new_ptr zeroed dim + 1, cur dim, new_rows old_ptr[dim] + start[nrows] values.
    void krn_postings_extend(const int64_t *old_ptr, const int32_t *old_rows, size_t dim, size_t first,
                             const int64_t *start, const int64_t *pos, size_t nrows, int64_t *new_ptr, int64_t *cur,
                             int32_t *new_rows)
    # SAFETY: the fields address validated postings (rows of the type the query is told) and a codebook of n rows.
    ctypedef struct krn_postings:
        const int64_t *pptr
        const int64_t *mptr
        const void *prows
        const void *mrows
        size_t covered
        size_t n
        const uint64_t *words
        size_t stride
        size_t half
    # SAFETY: query positions in [0, dim), dead rows below n, ids NULL or n values, acc n int32 counters,
    # k <= live rows, outputs k values each (see KRN_POSTINGS_QUERY).
    void krn_postings_query(const krn_postings *ix, int rows16, int narrow, const int64_t *qp, size_t nqp,
                            const int64_t *qn, size_t nqn, const int64_t *dead, size_t ndead, const int64_t *ids,
                            size_t k, int32_t *acc, int64_t *out_rows, int64_t *out_sc)
