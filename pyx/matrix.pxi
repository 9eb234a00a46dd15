# PackedMatrix: a codebook of packed vectors in one 64-byte aligned buffer, and exact top-k over it.

def row_layout(dim):
    """(nw, half, stride) of a PackedMatrix row: nw = ceil(dim / 64) words per plane, each plane padded to
    `half` words (a multiple of 8, one cache line), stride = 2 * half words per row."""
    cdef Py_ssize_t nw = _words_for(_check_dim(dim))
    cdef Py_ssize_t half = (nw + 7) // 8 * 8
    return nw, half, 2 * half


def aligned_words(n):
    """A zeroed 1-D uint64 array of n words whose first word is 64-byte aligned."""
    buf = np.zeros(n + 8, dtype=np.uint64)
    off = (-buf.ctypes.data % 64) // 8
    return buf[off:off + n]


def _matrix_from_words(dim, n, words):
    """Unpickle a PackedMatrix (its words were written by this module: no row check needed)."""
    aligned = aligned_words(len(words))
    aligned[:] = words
    return PackedMatrix.from_buffer(dim, n, aligned, check=False)


cdef class PackedMatrix:
    """N packed vectors of one dimension in one C-contiguous uint64 buffer (`words`).

    Row i occupies words[i * stride:(i + 1) * stride]: its +1 plane in the first nw words, its -1 plane in
    the nw words starting at i * stride + half, the rest zero padding (see `row_layout`). Buffers built here
    are 64-byte aligned; `from_buffer` accepts any C-contiguous buffer (e.g. a read-only numpy.memmap).

    >>> import numpy as np
    >>> from embeddenator import vsa
    >>> book = vsa.PackedMatrix.from_dense(np.array([[1, 0, -1], [1, 1, 0], [0, 0, 1]], np.int8))
    >>> ids, scores = book.top_k(vsa.SparseVec(3, [0, 1], []), 2)
    >>> ids.tolist(), scores.tolist()
    ([1, 0], [2, 1])
    """
    cdef readonly Py_ssize_t dim
    cdef readonly Py_ssize_t stride
    cdef readonly object words
    cdef Py_ssize_t n, nw, half
    # SAFETY: base points into self.words (kept referenced, never replaced) which holds n * stride words;
    # NULL when n == 0.
    cdef const uint64_t *base

    def __init__(self, *args, **kwargs):
        raise TypeError('use PackedMatrix.from_dense, from_vectors or from_buffer')

    cdef int _adopt(self, Py_ssize_t dim, Py_ssize_t n, object words) except -1:
        self.nw, self.half, self.stride = row_layout(dim)
        self.dim, self.n, self.words = dim, n, words
        self.base = _u64_ptr(words)
        return 0

    def __len__(self):
        return self.n

    def __reduce__(self):
        return (_matrix_from_words, (self.dim, self.n, np.array(self.words)))

    def __repr__(self):
        return f'PackedMatrix(dim={self.dim}, n={self.n})'

    @staticmethod
    def from_buffer(dim, n, words, check=True):
        """A zero-copy matrix over `words` (1-D C-contiguous uint64, n * stride words, see `row_layout`).

        With check=True (the default) every row is verified (no position in both planes, zero padding bits);
        a buffer that fails is a ValueError naming the row.
        """
        cdef Py_ssize_t d = _check_dim(dim)
        cdef Py_ssize_t rows = _int_arg(n, 'n')
        nw, half, stride = row_layout(d)
        if rows < 0:
            raise ValueError(f'n must be >= 0, got {rows}')
        w = _word_array(words, rows * stride, 'words')
        cdef PackedMatrix m = PackedMatrix.__new__(PackedMatrix)
        m._adopt(d, rows, w)
        if check:
            m._check()
        return m

    cdef int _check(self) except -1:
        cdef Py_ssize_t r, bad_row = -1
        cdef int bad = 0
        # SAFETY: base holds n * stride words (checked by from_buffer); each row's planes are nw <= half words
        # at offsets r * stride and r * stride + half.
        with nogil:
            for r in range(self.n):
                bad = krn_words_invalid(self.base + r * self.stride, self.base + r * self.stride + self.half,
                                        self.nw, self.dim)
                if bad:
                    bad_row = r
                    break
        if bad == 1:
            raise ValueError(f'row {bad_row}: a position is set in both planes')
        if bad == 2:
            raise ValueError(f'row {bad_row}: padding bits beyond dim={self.dim} must be zero')
        return 0

    @staticmethod
    def from_dense(a):
        """From a 2-D integer array (one row per vector) holding only -1, 0 and +1."""
        arr = _dense_array(a, 2)
        rows, d = arr.shape
        nw, half, stride = row_layout(d)
        w = aligned_words(rows * stride)
        grid = w.reshape(rows, stride).view(np.uint8)
        nbytes = (d + 7) // 8
        grid[:, :nbytes] = np.packbits(arr > 0, axis=1, bitorder='little')
        grid[:, half * 8:half * 8 + nbytes] = np.packbits(arr < 0, axis=1, bitorder='little')
        cdef PackedMatrix m = PackedMatrix.__new__(PackedMatrix)
        m._adopt(d, rows, w)
        return m

    @staticmethod
    def from_vectors(vectors):
        """From a non-empty sequence of vectors of one dimension (any representation)."""
        vs = [_as_packed(v) for v in vectors]
        if not vs:
            raise ValueError('from_vectors needs at least one vector (use from_buffer(dim, 0, ...) for none)')
        d = (<PackedVec>vs[0]).dim
        nw, half, stride = row_layout(d)
        w = aligned_words(len(vs) * stride)
        grid = w.reshape(len(vs), stride)
        for i, v in enumerate(vs):
            if (<PackedVec>v).dim != d:
                raise ValueError(f'vector {i} has dim {(<PackedVec>v).dim}, expected {d}')
            grid[i, :nw] = (<PackedVec>v).pos_words
            grid[i, half:half + nw] = (<PackedVec>v).neg_words
        cdef PackedMatrix m = PackedMatrix.__new__(PackedMatrix)
        m._adopt(d, len(vs), w)
        return m

    def row(self, i):
        """Row i as a PackedVec viewing this matrix's buffer (negative i counts from the end)."""
        cdef Py_ssize_t r = _int_arg(i, 'i')
        if r < 0:
            r += self.n
        if not 0 <= r < self.n:
            raise IndexError(f'row {i} out of range for {self.n} rows')
        start = r * self.stride
        return _packed(self.dim, self.words[start:start + self.nw],
                       self.words[start + self.half:start + self.half + self.nw])

    def to_dense(self):
        """The dense view: an (n, dim) int8 array."""
        grid = self.words.reshape(self.n, self.stride).view(np.uint8)
        p = np.unpackbits(grid[:, :self.half * 8], axis=1, count=self.dim, bitorder='little')
        n = np.unpackbits(grid[:, self.half * 8:], axis=1, count=self.dim, bitorder='little')
        return p.view(np.int8) - n.view(np.int8)

    def top_k(self, query, k):
        """The k rows with the largest dot product with `query`: (ids, scores), int64 arrays of min(k, n),
        by score descending then id ascending; scores are exact dot products."""
        ids, scores = self._top_k(self._prepare([query]), 1, _int_arg(k, 'k'))
        return ids[0], scores[0]

    def top_k_batch(self, queries, k):
        """top_k for each query (a PackedMatrix or a sequence of vectors) in one pass over the codebook:
        (ids, scores) int64 arrays of shape (len(queries), min(k, n))."""
        cdef Py_ssize_t kk = _int_arg(k, 'k')
        if isinstance(queries, PackedMatrix):
            qm = <PackedMatrix>queries
            if qm.dim != self.dim:
                _dim_mismatch(self.dim, qm.dim)
            grid = qm.words.reshape(qm.n, qm.stride)
            return self._top_k(self._prepared(qm.n, grid[:, :self.nw], grid[:, self.half:self.half + self.nw]),
                               qm.n, kk)
        qs = list(queries)
        return self._top_k(self._prepare(qs), len(qs), kk)

    cdef object _prepare(self, list queries):
        """Prepared query rows (see topk.h) for vectors of any representation."""
        vs = [_as_packed(v) for v in queries]
        for v in vs:
            if (<PackedVec>v).dim != self.dim:
                _dim_mismatch(self.dim, (<PackedVec>v).dim)
        if not vs:
            return aligned_words(0)
        return self._prepared(len(vs), np.stack([(<PackedVec>v).pos_words for v in vs]),
                              np.stack([(<PackedVec>v).neg_words for v in vs]))

    cdef object _prepared(self, Py_ssize_t nq, object pos, object neg):
        """Rows of the +1 plane and, at `half`, the support plane (+1 | -1), zero-padded: what krn_scan reads."""
        buf = aligned_words(nq * self.stride)
        grid = buf.reshape(nq, self.stride)
        grid[:, :self.nw] = pos
        grid[:, self.half:self.half + self.nw] = pos | neg
        return buf

    cdef tuple _top_k(self, object qwords, Py_ssize_t nq, Py_ssize_t k):
        if k < 0:
            raise ValueError(f'k must be >= 0, got {k}')
        cdef Py_ssize_t kk = min(k, self.n), n = self.n
        ids = np.zeros((nq, kk), dtype=np.int64)
        out = np.zeros((nq, kk), dtype=np.int64)
        if kk == 0 or nq == 0:
            return ids, out
        scores = np.empty(nq * n, dtype=np.int64)
        cdef int64_t[::1] sc = scores
        cdef int64_t[::1] oi = ids.reshape(-1)
        cdef int64_t[::1] os_ = out.reshape(-1)
        # SAFETY: qb points into qwords (nq prepared rows of `stride` words built by _prepared, referenced by this
        # frame); base is this matrix's buffer pointer (n rows, class invariant).
        cdef const uint64_t *qb = _u64_ptr(qwords)
        cdef int path = _path
        cdef const uint64_t *base = self.base
        cdef size_t stride = self.stride, nw = self.nw
        cdef int nt = _scan_threads(n * self.stride), tid
        cdef Py_ssize_t c, r0, r1, q, nchunks = (n + _CHUNK_ROWS - 1) // _CHUNK_ROWS
        cdef double t0 = _now()
        cdef double first[64]
        cdef double last[64]
        for tid in range(_MAX_THREADS):
            first[tid] = last[tid] = 0.0
        # SAFETY: base holds n rows and qb nq rows of `stride` words (class invariant / built or checked above);
        # sc holds nq * n scores; each prange iteration scans its own row range [r0, r1), so threads write
        # disjoint score slots; first / last hold _MAX_THREADS >= nt slots, each thread writing only its own.
        with nogil:
            for c in prange(nchunks, num_threads=nt, schedule='dynamic'):
                tid = threadid()
                if first[tid] == 0.0:
                    first[tid] = _now()
                r0 = c * _CHUNK_ROWS
                r1 = min(r0 + _CHUNK_ROWS, n)
                krn_scan(path, base, stride, nw, r0, r1, qb, nq, &sc[0], n)
                last[tid] = _now()
        _note_balance(first, last, nt, t0)
        nt = min(_scan_threads(n * self.stride), nq)
        # SAFETY: each query's selection reads its own n scores of sc and writes its own kk slots of oi / os_.
        with nogil:
            for q in prange(nq, num_threads=nt, schedule='static'):
                krn_select_topk(&sc[q * n], n, kk, &oi[q * kk], &os_[q * kk])
        return ids, out

    def dot_rows(self, queries, rows):
        """Exact dot products of each query with its own rows: `rows` is an integer array of shape
        (len(queries), c) of row numbers, the result an int64 array of the same shape (re-ranking candidates
        without copying them). Queries are a PackedMatrix or a sequence of vectors.

        >>> import numpy as np
        >>> from embeddenator import vsa
        >>> book = vsa.PackedMatrix.from_dense(np.array([[1, 0, -1], [1, 1, 0], [0, 0, 1]], np.int8))
        >>> book.dot_rows([vsa.SparseVec(3, [0, 1], [])], [[2, 1, 1]]).tolist()
        [[0, 2, 2]]
        """
        if isinstance(queries, PackedMatrix):
            qm = <PackedMatrix>queries
            if qm.dim != self.dim:
                _dim_mismatch(self.dim, qm.dim)
            grid = qm.words.reshape(qm.n, qm.stride)
            qwords, nq = self._prepared(qm.n, grid[:, :self.nw], grid[:, self.half:self.half + self.nw]), qm.n
        else:
            qs = list(queries)
            qwords, nq = self._prepare(qs), len(qs)
        r = np.asarray(rows)
        if r.ndim != 2 or r.shape[0] != nq or (r.size and not np.issubdtype(r.dtype, np.integer)):
            raise ValueError(f'rows must be an integer array of shape ({nq}, c), got {r.dtype} of shape {r.shape}')
        r = np.ascontiguousarray(r, dtype=np.int64)
        if r.size and (r.min() < 0 or r.max() >= self.n):
            raise ValueError(f'rows must be row numbers in [0, {self.n})')
        out = np.zeros(r.shape, np.int64)
        cdef Py_ssize_t c = r.shape[1], q, j
        if out.size == 0:
            return out
        cdef const int64_t[::1] rr = r.reshape(-1)
        cdef int64_t[::1] oo = out.reshape(-1)
        # SAFETY: qb points into qwords (nq prepared rows of `stride` words built by _prepared, referenced by this
        # frame); base is this matrix's buffer pointer (n rows, class invariant).
        cdef const uint64_t *qb = _u64_ptr(qwords)
        cdef const uint64_t *base = self.base
        cdef int path = _path
        cdef size_t stride = self.stride, nw = self.nw
        cdef int nt = min(_scan_threads(<size_t>r.size * stride), nq)
        # SAFETY: every rr value is a row number in [0, n) (checked above), so base + rr * stride starts a row of
        # `stride` words inside the buffer; the scan of that one row (r0 = 0, r1 = n = 1: no prefetch) against one
        # prepared query writes the single score slot &oo[q * c + j], which belongs to this iteration only.
        with nogil:
            for q in prange(nq, num_threads=nt, schedule='static'):
                for j in range(c):
                    krn_scan(path, base + rr[q * c + j] * <Py_ssize_t>stride, stride, nw, 0, 1,
                             qb + q * <Py_ssize_t>stride, 1, &oo[q * c + j], 1)
        return out

    def weighted_sum(self, weights):
        """The dense sum of the rows weighted by `weights` (integers, one per row, their magnitudes summing below
        2^31): an int64 array of `dim` values, sum_i weights[i] * row_i (a resonator's superposition).

        >>> import numpy as np
        >>> from embeddenator import vsa
        >>> book = vsa.PackedMatrix.from_dense(np.array([[1, 0, -1], [1, 1, 0], [0, 0, 1]], np.int8))
        >>> book.weighted_sum([2, -1, 5]).tolist()
        [1, -1, 3]
        """
        w = np.asarray(weights)
        if w.shape != (self.n,) or (w.size and not np.issubdtype(w.dtype, np.integer)):
            raise ValueError(f'weights must be {self.n} integers, got {w.dtype} of shape {w.shape}')
        if self.n == 0:
            return np.zeros(self.dim, np.int64)
        if np.abs(w.astype(np.int64)).sum() >= (1 << 31):
            raise ValueError('weights must sum below 2^31 in magnitude (32-bit sums)')
        w = np.ascontiguousarray(w, dtype=np.int32)
        acc = np.zeros(self.nw * 64, np.int32)
        cdef const int32_t[::1] ww = w
        cdef int32_t[::1] aa = acc
        cdef int path = _path
        # SAFETY: this matrix's buffer pointer: n rows of `stride` words (class invariant), n > 0 here.
        cdef const uint64_t *base = self.base
        # Threads split the word columns (64 positions each). Each word costs 8 masked adds per row rather than one
        # read, so the work counted against the scans' threshold is 64 per word (100 rows at D = 10,000: 2 threads).
        cdef int nt = min(_scan_threads(<size_t>self.n * self.nw * 64), self.nw), t, tid
        cdef Py_ssize_t j0, j1, nw = self.nw
        cdef double t0 = _now()
        cdef double first[64]
        cdef double last[64]
        for tid in range(_MAX_THREADS):
            first[tid] = last[tid] = 0.0
        # SAFETY: base holds n rows of `stride` words (class invariant) with nw <= half = stride / 2; thread t reads
        # words [j0, j1) of each row's planes (base + j0 keeps the row stride, j1 - j0 <= nw - j0) and writes only the
        # sums aa[64 * j0, 64 * j1) of its own columns; ww holds n weights whose magnitudes sum below 2^31;
        # first / last hold _MAX_THREADS >= nt slots, each thread writing only its own.
        with nogil:
            for t in prange(nt, num_threads=nt, schedule='static'):
                tid = threadid()
                first[tid] = _now()
                j0 = nw * t // nt
                j1 = nw * (t + 1) // nt
                krn_superpose(path, base + j0, self.n, self.stride, j1 - j0, &ww[0], &aa[64 * j0])
                last[tid] = _now()
        _note_balance(first, last, nt, t0)      # a thread that started late: the next second runs on one
        return acc[:self.dim].astype(np.int64)
