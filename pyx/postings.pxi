# The inverted index of a packed codebook (postings.h), part of vsa's public API (`vsa.PostingLists`,
# `vsa.sparse_rows`, `vsa.pack_rows`): built from sparse rows or from the packed rows, validated once, then queried
# in batches, one query per thread at a time, each thread counting into its own L1-sized scratch. Sparse rows and
# queries travel as CSR by row: (pos, pos_offsets, neg, neg_offsets).

from libc.stdint cimport uint16_t
from libc.string cimport memcpy

# Largest query non-zero count whose scores fit int16 counters with room for the dead-row marker below them.
cdef Py_ssize_t _NARROW_NNZ = 32766
# One-value stand-ins whose address is passed for an empty array (with a zero count, so never read).
_NO_I64, _NO_I32, _NO_U16 = np.zeros(1, np.int64), np.zeros(1, np.int32), np.zeros(1, np.uint16)
_NO_I64.flags.writeable = _NO_I32.flags.writeable = _NO_U16.flags.writeable = False
# Postings over at most this many rows are also kept with uint16 row numbers: half the bytes per posting read.
cdef Py_ssize_t _NARROW_ROWS = 1 << 16


cdef object _i64_array(object a, str name):
    """`a` as a C-contiguous 1-D int64 array (a copy only if it is not one already)."""
    arr = np.asarray(a)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f'{name} must be a 1-D integer array, got {arr.dtype} of shape {arr.shape}')
    return np.ascontiguousarray(arr, dtype=np.int64)


cdef object _offsets(object a, Py_ssize_t total, str name):
    """`a` as at least one int64 offset, rising from 0 to total, else ValueError."""
    arr = _i64_array(a, name)
    cdef const int64_t[::1] m = arr
    cdef Py_ssize_t i, last = m.shape[0] - 1
    cdef bint ok = last >= 0 and m[0] == 0 and m[last] == total
    if ok:
        for i in range(last):            # a typed loop: cheaper than numpy's calls for a query's two offsets
            if m[i + 1] < m[i]:
                ok = False
                break
    if not ok:
        raise ValueError(f'{name} must be non-decreasing offsets from 0 to {total}')
    return arr


cdef size_t _outside(object arr, Py_ssize_t dim) except? 0:
    """How many values of a 1-D C-contiguous int64 array are outside [0, dim)."""
    cdef const int64_t[::1] m = arr
    cdef size_t bad = 0
    if m.shape[0]:
        # SAFETY: m holds m.shape[0] > 0 values, alive for this call.
        with nogil:
            bad = krn_count_outside(&m[0], <size_t>m.shape[0], dim)
    return bad


cdef tuple _sparse_csr(object pos, object pos_offsets, object neg, object neg_offsets, Py_ssize_t dim):
    """Rows given as CSR by row, as int64 arrays: offsets rising from 0 to the length of their values, the same
    number of rows on both signs, every position in [0, dim); ValueError otherwise."""
    qp, qn = _i64_array(pos, 'pos'), _i64_array(neg, 'neg')
    po, no = _offsets(pos_offsets, qp.shape[0], 'pos_offsets'), _offsets(neg_offsets, qn.shape[0], 'neg_offsets')
    if po.shape[0] != no.shape[0]:
        raise ValueError('pos_offsets and neg_offsets must describe the same number of rows')
    for name, arr in (('pos', qp), ('neg', qn)):
        if _outside(arr, dim):
            raise ValueError(f'{name} has a position outside [0, {dim})')
    return qp, po, qn, no


cdef const int64_t *_first_i64(object arr, object keep) except? NULL:
    """Address of the first value of a C-contiguous int64 array, or of a dummy value when it is empty.

    SAFETY: valid while `arr` and `keep` (a list the dummy is appended to) stay referenced by the caller; a
    caller passing an empty array also passes a zero count, so the dummy is never read.
    """
    if arr.shape[0] == 0:
        arr = _NO_I64
        keep.append(arr)
    cdef const int64_t[::1] m = arr
    return &m[0]


def sparse_rows(vectors, dim):
    """Vectors of dimension `dim` (any representation) as CSR by row: (pos, pos_offsets, neg, neg_offsets),
    int64, vector i being +1 at pos[pos_offsets[i]:pos_offsets[i + 1]] and -1 at the same slice of neg.

    The form `PostingLists` and `pack_rows` take rows and queries in: one call converts a whole batch. ValueError
    if a vector has another dimension.

    >>> from embeddenator import vsa
    >>> a = vsa.SparseVec(8, [1, 5], [2])
    >>> [x.tolist() for x in vsa.sparse_rows([a, vsa.SparseVec(8, [0], [])], 8)]
    [[1, 5, 0], [0, 2, 3], [2], [0, 1, 1]]
    """
    cdef Py_ssize_t d = _check_dim(dim)
    vs = list(vectors)
    cdef Py_ssize_t m = len(vs), i
    po, no = np.empty(m + 1, np.int64), np.empty(m + 1, np.int64)
    cdef int64_t[::1] mpo = po
    cdef int64_t[::1] mno = no
    cdef SparseVec v
    mpo[0] = mno[0] = 0
    for i in range(m):
        if type(vs[i]) is not SparseVec:
            vs[i] = _as_sparse(vs[i])
        v = <SparseVec>vs[i]
        if v.dim != d:
            raise ValueError(f'vector {i} has dim {v.dim}, expected {d}')
        mpo[i + 1] = mpo[i] + <int64_t>v.np_
        mno[i + 1] = mno[i] + <int64_t>v.nn
    pos, neg = np.empty(mpo[m], np.int64), np.empty(mno[m], np.int64)
    cdef int64_t[::1] mp = pos
    cdef int64_t[::1] mn = neg
    for i in range(m):
        v = <SparseVec>vs[i]
        # SAFETY: v.pp / v.pn address v's own np_ / nn indices (NULL only when the count is 0, then skipped);
        # the destination slices [mpo[i], mpo[i + 1]) and [mno[i], mno[i + 1]) were sized from those counts.
        if v.np_:
            memcpy(&mp[mpo[i]], v.pp, v.np_ * sizeof(int64_t))
        # SAFETY: as above, for the -1 positions.
        if v.nn:
            memcpy(&mn[mno[i]], v.pn, v.nn * sizeof(int64_t))
    return pos, po, neg, no


def pack_rows(words, dim, first, pos, pos_offsets, neg, neg_offsets):
    """Set the bits of rows first, first + 1, ... of `words` (PackedMatrix layout, writable, those rows zero) from
    rows given as CSR by row (see `sparse_rows`); ValueError on any bound, and then nothing is written.

    How a growing codebook appends rows in place (in C, both planes of a row at once) before wrapping the buffer
    with `PackedMatrix.from_buffer`.

    >>> import numpy as np
    >>> from embeddenator import vsa
    >>> nw, half, stride = vsa.row_layout(8)
    >>> words = np.zeros(2 * stride, np.uint64)
    >>> vsa.pack_rows(words, 8, 0, *vsa.sparse_rows([vsa.SparseVec(8, [1], [2]), vsa.SparseVec(8, [], [0])], 8))
    >>> vsa.PackedMatrix.from_buffer(8, 2, words).to_dense().tolist()
    [[0, 1, -1, 0, 0, 0, 0, 0], [-1, 0, 0, 0, 0, 0, 0, 0]]
    """
    cdef Py_ssize_t d = _check_dim(dim)
    nw_, half_, stride_ = row_layout(d)
    cdef size_t stride = stride_, half = half_
    if not isinstance(words, np.ndarray) or words.dtype != np.uint64 or words.ndim != 1 \
            or not words.flags.c_contiguous or not words.flags.writeable:
        raise ValueError('words must be a writable C-contiguous 1-D uint64 array')
    qp, po, qn, no = _sparse_csr(pos, pos_offsets, neg, neg_offsets, d)
    cdef Py_ssize_t nrows = po.shape[0] - 1, f = _int_arg(first, 'first')
    if f < 0 or <size_t>(f + nrows) * stride > <size_t>words.shape[0]:
        raise ValueError(f'rows {f}..{f + nrows} do not fit {words.shape[0] // stride} rows of {stride} words')
    if nrows == 0:
        return
    cdef uint64_t[::1] w = words
    keep = []
    # SAFETY: the addresses of po / qp / no / qn (or of dummies kept in `keep`, read zero times) held by this frame.
    cdef const int64_t *pst = _first_i64(po, keep)
    cdef const int64_t *ps = _first_i64(qp, keep)
    cdef const int64_t *nst = _first_i64(no, keep)
    cdef const int64_t *ns = _first_i64(qn, keep)
    # SAFETY: rows f .. f + nrows - 1 lie inside w (checked above); each plane's offsets rise to the length of its
    # positions, all in [0, d) (_sparse_csr), and ceil(d / 64) <= half, stride = 2 * half (row_layout).
    with nogil:
        krn_pack_rows(pst, ps, nst, ns, <size_t>nrows, <size_t>f, &w[0], stride, half)


cdef class PostingLists:
    """The inverted index of a codebook: CSR postings of its first `n` rows, the rows holding +1 (and -1) at each
    dimension, as int32 row numbers ascending within a dimension. Validated when made, so queries trust them;
    immutable.

    A sparse query's dot product with a row counts the postings of the query's non-zeros that name the row, so
    `top_k` touches only the rows a query shares a dimension with (exact, like `PackedMatrix.top_k`). Made by
    `empty`, `from_codebook` or `from_arrays` (stored arrays: `plus_indptr`, `plus_rows`, `minus_indptr`,
    `minus_rows`), grown by `extended`; queries and rows travel as CSR by row (`sparse_rows`).

    >>> import numpy as np
    >>> from embeddenator import vsa
    >>> book = vsa.PackedMatrix.from_dense(np.array([[1, 0, -1], [1, 1, 0], [0, 0, 1]], np.int8))
    >>> lists = vsa.PostingLists.from_codebook(book)
    >>> lists.plus_indptr.tolist(), lists.plus_rows.tolist()
    ([0, 2, 3, 4], [0, 1, 1, 2])
    >>> rows, scores = lists.top_k(book, [0, 1], [0, 2], [], [0, 0], 2)
    >>> rows.tolist(), scores.tolist()
    ([[1, 0]], [[2, 1]])
    """
    cdef readonly Py_ssize_t dim, n
    cdef readonly object plus_indptr, plus_rows, minus_indptr, minus_rows
    cdef object _narrow            # (plus, minus) rows as uint16 when n <= _NARROW_ROWS, else None

    def __init__(self, *args, **kwargs):
        raise TypeError('use PostingLists.empty, from_codebook, from_arrays or extended')

    @staticmethod
    cdef PostingLists _made(Py_ssize_t dim, Py_ssize_t n, object pp, object pr, object mp, object mr,
                            bint own=True):
        cdef PostingLists out = PostingLists.__new__(PostingLists)
        out.dim, out.n = dim, n
        out.plus_indptr, out.plus_rows, out.minus_indptr, out.minus_rows = pp, pr, mp, mr
        out._narrow = (pr.astype(np.uint16), mr.astype(np.uint16)) if n <= _NARROW_ROWS else None
        for a in (pp, pr, mp, mr) if own else ():     # arrays made here are frozen; the caller's are left alone
            a.flags.writeable = False
        return out

    @staticmethod
    def empty(dim):
        """Postings of no rows."""
        cdef Py_ssize_t d = _check_dim(dim)
        return PostingLists._made(d, 0, np.zeros(d + 1, np.int64), np.zeros(0, np.int32),
                                  np.zeros(d + 1, np.int64), np.zeros(0, np.int32))

    @staticmethod
    def from_codebook(PackedMatrix book, n=None):
        """The postings of rows [0, n) of `book` (all of them by default), in two passes over the rows."""
        cdef Py_ssize_t rows = book.n if n is None else _int_arg(n, 'n')
        if not 0 <= rows <= book.n or rows >= (1 << 31):
            raise ValueError(f'n must be in [0, {min(book.n, (1 << 31) - 1)}], got {rows}')
        cdef size_t dim = book.dim, stride = book.stride, nw = book.nw, r = rows
        arrays = []
        cdef int64_t[::1] ptr
        cdef int64_t[::1] cur
        cdef int32_t[::1] rw
        cdef size_t plane
        for plane in (0, <size_t>book.half):
            p = np.zeros(dim + 1, np.int64)
            ptr = p
            if r:
                # SAFETY: book.base holds book.n >= r rows of `stride` words, plane + nw <= stride, ptr holds
                # dim + 1 counters.
                with nogil:
                    krn_postings_count(book.base, r, stride, plane, nw, dim, &ptr[0])
            rws = np.empty(p[dim], np.int32)
            if rws.shape[0]:
                c = p[:dim].copy()
                cur, rw = c, rws
                # SAFETY: cur starts at the offsets counted over these same rows, so every write lands inside rw
                # (len ptr[dim]); r < 2^31 (checked) fits the int32 row numbers.
                with nogil:
                    krn_postings_fill(book.base, r, stride, plane, nw, dim, &cur[0], &rw[0])
            arrays += [p, rws]
        return PostingLists._made(book.dim, rows, arrays[0], arrays[1], arrays[2], arrays[3])

    @staticmethod
    def from_arrays(dim, n, plus_indptr, plus_rows, minus_indptr, minus_rows):
        """Postings from arrays (as read from a file), used without copying; ValueError unless every offset and
        row number is in range (int64 offsets, int32 rows)."""
        cdef Py_ssize_t d = _check_dim(dim), rows = _int_arg(n, 'n')
        if not 0 <= rows < (1 << 31):
            raise ValueError(f'n must be in [0, 2^31), got {rows}')
        cdef const int64_t[::1] mp
        cdef const int32_t[::1] mr
        cdef int ok = 1
        cdef size_t nrw
        for sign, ptr, rw in (('plus', plus_indptr, plus_rows), ('minus', minus_indptr, minus_rows)):
            if not (isinstance(ptr, np.ndarray) and isinstance(rw, np.ndarray) and ptr.dtype == np.int64
                    and rw.dtype == np.int32 and ptr.ndim == 1 and rw.ndim == 1
                    and ptr.flags.c_contiguous and rw.flags.c_contiguous):
                raise ValueError(f'{sign} postings must be 1-D C-contiguous int64 offsets and int32 rows')
            if ptr.shape[0] != d + 1:
                raise ValueError(f'{sign}_indptr must hold {d + 1} offsets, got {ptr.shape[0]}')
            mp, nrw = ptr, rw.shape[0]
            mr = _NO_I32 if nrw == 0 else rw
            # SAFETY: mp holds d + 1 offsets; mr holds nrw row numbers (a dummy one when nrw is 0, never read).
            with nogil:
                ok = krn_postings_valid(&mp[0], d, &mr[0], nrw, rows)
            if not ok:
                raise ValueError(f'{sign}_indptr is not {d + 1} non-decreasing offsets from 0 to {nrw}, '
                                 f'or {sign}_rows holds a row outside [0, {rows})')
        return PostingLists._made(d, rows, plus_indptr, plus_rows, minus_indptr, minus_rows, False)

    def extended(self, pos, pos_offsets, neg, neg_offsets):
        """These postings followed by rows n, n + 1, ... given as CSR by row (see `sparse_rows`): a new object.

        One thread: building the two signs on two cores measured slower on a machine whose cores are shared (a
        two-item split cannot rebalance when one core is taken)."""
        qp, po, qn, no = _sparse_csr(pos, pos_offsets, neg, neg_offsets, self.dim)
        cdef size_t dim = self.dim, nr = po.shape[0] - 1, first = self.n
        if self.n + nr >= (1 << 31):
            raise ValueError('postings hold at most 2^31 - 1 rows')
        keep, arrays = [], []
        # SAFETY: per sign, the old lists, the new rows and the outputs: set below to arrays this object, this frame,
        # `keep` or `arrays` hold, before any use.
        cdef const int64_t *optr[2]
        cdef const int32_t *orows[2]
        cdef const int64_t *st[2]
        cdef const int64_t *ps[2]
        cdef int64_t *nptr[2]
        cdef int64_t *cur[2]
        cdef int32_t *nrows_[2]
        cdef int64_t[::1] mp
        cdef int64_t[::1] mc
        cdef int32_t[::1] mr
        cdef const int64_t[::1] mo
        cdef const int32_t[::1] mor
        cdef int sign
        for sign, vals, offs, old_ptr, old_rows in ((0, qp, po, self.plus_indptr, self.plus_rows),
                                                    (1, qn, no, self.minus_indptr, self.minus_rows)):
            p, c = np.zeros(dim + 1, np.int64), np.empty(dim, np.int64)
            r = np.empty(old_rows.shape[0] + vals.shape[0] or 1, np.int32)
            ro = old_rows if old_rows.shape[0] else _NO_I32
            keep += [p, c, r, ro]
            arrays += [p, r[:old_rows.shape[0] + vals.shape[0]]]
            mp, mc, mr, mo, mor = p, c, r, old_ptr, ro
            # SAFETY: addresses of arrays held by `keep`, `arrays`, this object or this frame (a dummy where the
            # values are empty, read zero times).
            nptr[sign], cur[sign], nrows_[sign], optr[sign], orows[sign] = &mp[0], &mc[0], &mr[0], &mo[0], &mor[0]
            st[sign], ps[sign] = _first_i64(offs, keep), _first_i64(vals, keep)
        # SAFETY: each sign's old postings are this object's validated lists; its new rows rise to the length of
        # their positions, all in [0, dim) (_sparse_csr); nptr is zeroed dim + 1, cur dim, nrows_ old + new
        # values; n + nr < 2^31 (checked).
        with nogil:
            for sign in range(2):
                krn_postings_extend(optr[sign], orows[sign], dim, first, st[sign], ps[sign], nr, nptr[sign],
                                    cur[sign], nrows_[sign])
        return PostingLists._made(self.dim, self.n + nr, arrays[0], arrays[1], arrays[2], arrays[3])

    def __repr__(self):
        return f'PostingLists(dim={self.dim}, n={self.n}, postings={len(self.plus_rows) + len(self.minus_rows)})'

    def __len__(self):
        """Number of postings (non-zero entries of the covered rows)."""
        return len(self.plus_rows) + len(self.minus_rows)

    def top_k(self, PackedMatrix book, pos, pos_offsets, neg, neg_offsets, k, dead=None, ids=None):
        """Exact top-k of a batch of sparse queries over the rows of `book`, a codebook whose first `n` rows these
        postings cover (later rows are scored from the codebook itself).

        Queries come as CSR by row (see `sparse_rows`). `dead`: row numbers to leave out (strictly increasing);
        `ids`: one id per row, for the tie order (None: ids ascend with the rows). Returns (rows, scores), int64
        arrays of shape (queries, min(k, rows left)), by score descending then id ascending.
        """
        if book.dim != self.dim:
            _dim_mismatch(self.dim, book.dim)
        if book.n < self.n:
            raise ValueError(f'the codebook has {book.n} rows, the postings cover {self.n}')
        qp, po, qn, no = _sparse_csr(pos, pos_offsets, neg, neg_offsets, self.dim)
        cdef Py_ssize_t nq = po.shape[0] - 1, n = book.n, kk = _int_arg(k, 'k'), nd, q, most = 0
        dd = np.zeros(0, np.int64) if dead is None else _i64_array(dead, 'dead')
        nd = dd.shape[0]
        if nd and (dd[0] < 0 or dd[nd - 1] >= n or (nd > 1 and np.any(dd[1:] <= dd[:nd - 1]))):
            raise ValueError(f'dead must be strictly increasing row numbers in [0, {n})')
        idarr = None if ids is None else _i64_array(ids, 'ids')
        if idarr is not None and idarr.shape[0] != n:
            raise ValueError(f'ids must hold one id per row ({n}), got {idarr.shape[0]}')
        if kk < 0:
            raise ValueError(f'k must be >= 0, got {kk}')
        kk = min(kk, n - nd)
        out_rows, out_sc = np.zeros((nq, kk), np.int64), np.zeros((nq, kk), np.int64)
        if nq == 0 or kk == 0:
            return out_rows, out_sc
        cdef const int64_t[::1] mpo = po
        cdef const int64_t[::1] mno = no
        for q in range(nq):
            most = max(most, mpo[q + 1] - mpo[q] + mno[q + 1] - mno[q])
        if most > (1 << 31) - 2:
            raise ValueError('a query has too many non-zeros for 32-bit scores')
        cdef int narrow = most <= _NARROW_NNZ, rows16 = self._narrow is not None
        cdef int nt = min(_scan_threads(<size_t>nq * <size_t>n), nq), tid
        scratch = np.empty(nt * n, np.int32)
        cdef int32_t[::1] acc = scratch
        cdef int64_t[::1] orw = out_rows.reshape(-1)
        cdef int64_t[::1] osc = out_sc.reshape(-1)
        cdef const int64_t[::1] mqp = qp if qp.shape[0] else _NO_I64
        cdef const int64_t[::1] mqn = qn if qn.shape[0] else _NO_I64
        cdef const int64_t[::1] mdd = dd if nd else _NO_I64
        cdef const int64_t[::1] mid = idarr if idarr is not None else _NO_I64
        cdef const int64_t[::1] pp = self.plus_indptr
        cdef const int64_t[::1] mm = self.minus_indptr
        cdef const uint16_t[::1] pr16
        cdef const uint16_t[::1] mr16
        cdef const int32_t[::1] pr32
        cdef const int32_t[::1] mr32
        cdef krn_postings ix
        # SAFETY: every pointer below addresses a buffer held by this frame or this object (a one-element dummy
        # where the array is empty and its count is 0); the rows are uint16 exactly when rows16 says so (the kernel
        # reads them as that type); the postings were validated when made (offsets within their rows, rows below
        # self.n <= book.n); book.base holds book.n rows of book.stride words.
        ix.pptr, ix.mptr = &pp[0], &mm[0]
        if rows16:
            pr16 = self._narrow[0] if len(self.plus_rows) else _NO_U16
            mr16 = self._narrow[1] if len(self.minus_rows) else _NO_U16
            ix.prows, ix.mrows = &pr16[0], &mr16[0]
        else:
            pr32 = self.plus_rows if len(self.plus_rows) else _NO_I32
            mr32 = self.minus_rows if len(self.minus_rows) else _NO_I32
            ix.prows, ix.mrows = &pr32[0], &mr32[0]
        ix.covered, ix.n, ix.words, ix.stride, ix.half = self.n, n, book.base, book.stride, book.half
        # SAFETY: as above.
        cdef const int64_t *idp = &mid[0] if idarr is not None else NULL
        cdef double t0 = _now()
        cdef double first[64]
        cdef double last[64]
        for tid in range(_MAX_THREADS):
            first[tid] = last[tid] = 0.0
        # SAFETY: query q reads its own slices of mqp / mqn (offsets checked: rising to their lengths, every
        # position in [0, dim)) and writes its own kk output slots; each thread counts into its own n slots of acc
        # (tid < nt); kk <= n - nd keeps the dead marker out of the output; first / last hold _MAX_THREADS >= nt
        # slots, each thread writing its own.
        with nogil:
            for q in prange(nq, num_threads=nt, schedule='dynamic'):
                tid = threadid()
                if first[tid] == 0.0:
                    first[tid] = _now()
                krn_postings_query(&ix, rows16, narrow, &mqp[mpo[q]], mpo[q + 1] - mpo[q], &mqn[mno[q]],
                                   mno[q + 1] - mno[q], &mdd[0], nd, idp, kk, &acc[tid * n],
                                   &orw[q * kk], &osc[q * kk])
                last[tid] = _now()
        _note_balance(first, last, nt, t0)
        return out_rows, out_sc
