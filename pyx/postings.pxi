# The inverted index of a packed codebook (postings.h): built from sparse rows or from the packed rows, validated
# once, then queried in batches, one query per thread at a time, each thread counting into its own L1-sized
# scratch. Sparse rows and queries travel as CSR by row: (pos, pos_offsets, neg, neg_offsets).

from libc.stdint cimport uint16_t
from libc.string cimport memcpy

# Largest query non-zero count whose scores fit int16 counters with room for the dead-row marker below them.
cdef Py_ssize_t _NARROW_NNZ = 32766
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
    cdef Py_ssize_t m = arr.shape[0] - 1
    if m < 0 or arr[0] != 0 or arr[m] != total or (m and np.any(arr[1:] < arr[:m])):
        raise ValueError(f'{name} must be non-decreasing offsets from 0 to {total}')
    return arr


cdef object _positions(object a, Py_ssize_t dim, str name):
    arr = _i64_array(a, name)
    if arr.shape[0] and (arr.min() < 0 or arr.max() >= dim):
        raise ValueError(f'{name} has a position outside [0, {dim})')
    return arr


def sparse_rows(vectors, dim):
    """Vectors of dimension `dim` (any representation) as CSR by row: (pos, pos_offsets, neg, neg_offsets),
    int64, vector i being +1 at pos[pos_offsets[i]:pos_offsets[i + 1]] and -1 at the same slice of neg."""
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


def _pack_rows(words, dim, first, start, positions, plane):
    """Set bit positions[start[i]:start[i + 1]] of the plane at word offset `plane` (0 or half) of row
    first + i of `words` (PackedMatrix layout, writable); ValueError on any bound, nothing written then."""
    cdef Py_ssize_t d = _check_dim(dim)
    nw_, half, stride_ = row_layout(d)
    cdef size_t stride = stride_
    if not isinstance(words, np.ndarray) or words.dtype != np.uint64 or words.ndim != 1 \
            or not words.flags.c_contiguous or not words.flags.writeable:
        raise ValueError('words must be a writable C-contiguous 1-D uint64 array')
    pos = _positions(positions, d, 'positions')
    st = _offsets(start, pos.shape[0], 'start')
    cdef Py_ssize_t nrows = st.shape[0] - 1, f = _int_arg(first, 'first'), pl = _int_arg(plane, 'plane')
    if pl not in (0, half):
        raise ValueError(f'plane must be 0 or {half}, got {pl}')
    if f < 0 or <size_t>(f + nrows) * stride > <size_t>words.shape[0]:
        raise ValueError(f'rows {f}..{f + nrows} do not fit {words.shape[0] // stride} rows of {stride} words')
    if nrows == 0 or pos.shape[0] == 0:
        return
    cdef uint64_t[::1] w = words
    cdef const int64_t[::1] ms = st
    cdef const int64_t[::1] mp = pos
    cdef size_t bad = 0
    # SAFETY: rows f .. f + nrows - 1 lie inside w (checked above), plane + nw <= stride, ms holds nrows + 1
    # offsets rising from 0 to len(mp) > 0, and every position is in [0, d) (checked; the kernel re-checks).
    with nogil:
        bad = krn_pack_rows(&ms[0], &mp[0], <size_t>nrows, <size_t>f, d, &w[0], stride, <size_t>pl)
    if bad:
        raise ValueError(f'{bad} positions outside [0, {d})')


cdef class PostingLists:
    """CSR postings of the first `n` rows of a codebook: the rows holding +1 (and -1) at each dimension, as int32
    row numbers ascending within a dimension. Validated when made, so queries trust them; immutable.

    >>> import numpy as np
    >>> from embeddenator import vsa
    >>> from embeddenator.vsa._kernels import PostingLists
    >>> book = vsa.PackedMatrix.from_dense(np.array([[1, 0, -1], [1, 1, 0], [0, 0, 1]], np.int8))
    >>> lists = PostingLists.from_codebook(book)
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
            mr = np.zeros(1, np.int32) if nrw == 0 else rw
            # SAFETY: mp holds d + 1 offsets; mr holds nrw row numbers (a dummy one when nrw is 0, never read).
            with nogil:
                ok = krn_postings_valid(&mp[0], d, &mr[0], nrw, rows)
            if not ok:
                raise ValueError(f'{sign}_indptr is not {d + 1} non-decreasing offsets from 0 to {nrw}, '
                                 f'or {sign}_rows holds a row outside [0, {rows})')
        return PostingLists._made(d, rows, plus_indptr, plus_rows, minus_indptr, minus_rows, False)

    def extended(self, pos, pos_offsets, neg, neg_offsets):
        """These postings followed by rows n, n + 1, ... given as CSR by row (see `sparse_rows`): a new object."""
        arrays = []
        cdef int64_t[::1] nptr
        cdef int64_t[::1] cur
        cdef int32_t[::1] nrows_
        cdef const int64_t[::1] optr
        cdef const int32_t[::1] orows
        cdef const int64_t[::1] st
        cdef const int64_t[::1] ps
        cdef size_t dim = self.dim, nr = 0, first = self.n
        for sign, p_, o_, optr_, orows_ in (('pos', pos, pos_offsets, self.plus_indptr, self.plus_rows),
                                            ('neg', neg, neg_offsets, self.minus_indptr, self.minus_rows)):
            pa = _positions(p_, self.dim, sign)
            oa = _offsets(o_, pa.shape[0], f'{sign}_offsets')
            if arrays and oa.shape[0] - 1 != <Py_ssize_t>nr:
                raise ValueError('pos_offsets and neg_offsets must describe the same number of rows')
            nr = oa.shape[0] - 1
            if self.n + nr >= (1 << 31):
                raise ValueError('postings hold at most 2^31 - 1 rows')
            p = np.zeros(dim + 1, np.int64)
            rws = np.empty(orows_.shape[0] + pa.shape[0], np.int32)
            c = np.empty(dim, np.int64)
            nptr, cur, optr, st = p, c, optr_, oa
            orows = orows_ if orows_.shape[0] else np.zeros(1, np.int32)
            ps = pa if pa.shape[0] else np.zeros(1, np.int64)
            nrows_ = rws if rws.shape[0] else np.zeros(1, np.int32)
            # SAFETY: optr / orows are this object's validated postings (a dummy row where empty, never read);
            # st holds nr + 1 offsets rising to len(pa), every position in [0, dim) (both checked above); nptr is
            # zeroed dim + 1, cur dim, nrows_ holds len(orows_) + len(pa) values; n + nr < 2^31 (checked).
            with nogil:
                krn_postings_extend(&optr[0], &orows[0], dim, first, &st[0], &ps[0], nr, &nptr[0], &cur[0],
                                    &nrows_[0])
            arrays += [p, rws]
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
        qp, qn = _positions(pos, self.dim, 'pos'), _positions(neg, self.dim, 'neg')
        po, no = _offsets(pos_offsets, qp.shape[0], 'pos_offsets'), _offsets(neg_offsets, qn.shape[0], 'neg_offsets')
        cdef Py_ssize_t nq = po.shape[0] - 1, n = book.n, kk = _int_arg(k, 'k'), nd, q, most = 0
        if no.shape[0] - 1 != nq:
            raise ValueError('pos_offsets and neg_offsets must describe the same number of queries')
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
        most = int(np.max(np.diff(po) + np.diff(no)))
        if most > (1 << 31) - 2:
            raise ValueError('a query has too many non-zeros for 32-bit scores')
        cdef int narrow = most <= _NARROW_NNZ, rows16 = self._narrow is not None
        cdef int nt = min(_scan_threads(<size_t>nq * <size_t>n), nq), tid
        scratch = np.empty(nt * n, np.int32)
        cdef int32_t[::1] acc = scratch
        cdef int64_t[::1] orw = out_rows.reshape(-1)
        cdef int64_t[::1] osc = out_sc.reshape(-1)
        cdef const int64_t[::1] mpo = po
        cdef const int64_t[::1] mno = no
        cdef const int64_t[::1] mqp = qp if qp.shape[0] else np.zeros(1, np.int64)
        cdef const int64_t[::1] mqn = qn if qn.shape[0] else np.zeros(1, np.int64)
        cdef const int64_t[::1] mdd = dd if nd else np.zeros(1, np.int64)
        cdef const int64_t[::1] mid = idarr if idarr is not None else np.zeros(1, np.int64)
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
            pr16 = self._narrow[0] if len(self.plus_rows) else np.zeros(1, np.uint16)
            mr16 = self._narrow[1] if len(self.minus_rows) else np.zeros(1, np.uint16)
            ix.prows, ix.mrows = &pr16[0], &mr16[0]
        else:
            pr32 = self.plus_rows if len(self.plus_rows) else np.zeros(1, np.int32)
            mr32 = self.minus_rows if len(self.minus_rows) else np.zeros(1, np.int32)
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
