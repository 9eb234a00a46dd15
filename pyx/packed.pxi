# PackedVec: two bitplanes of little-endian uint64 words; the SIMD dot product and word-parallel operations.

cdef class PackedVec:
    """A ternary vector as two bitplanes: bit i of word w is position 64 * w + i; padding bits are zero.

    `pos_words` / `neg_words` are 1-D C-contiguous uint64 arrays of ceil(dim / 64) words. They are used as
    given (zero-copy, so a row of a memory-mapped codebook stays on disk): do not modify them afterwards.

    >>> import numpy as np
    >>> from embeddenator import vsa
    >>> p = vsa.PackedVec.from_dense(np.array([1, 0, -1, 1], np.int8))
    >>> int(p.pos_words[0]), int(p.neg_words[0]), p.nnz
    (9, 4, 3)
    >>> p.dot(p), p.to_sparse().neg.tolist()
    (3, [2])
    """
    cdef readonly Py_ssize_t dim
    cdef readonly object pos_words
    cdef readonly object neg_words
    # SAFETY: wp / wn point into self.pos_words / self.neg_words, which this object keeps referenced and never
    # replaces; both hold nw = ceil(dim / 64) >= 1 words (checked at construction or built so).
    cdef const uint64_t *wp
    cdef const uint64_t *wn
    cdef size_t nw
    cdef Py_ssize_t _nnz    # -1 until first needed

    def __init__(self, dim, pos_words, neg_words):
        cdef Py_ssize_t d = _check_dim(dim)
        cdef Py_ssize_t nw = _words_for(d)
        self._adopt(d, _word_array(pos_words, nw, 'pos_words'), _word_array(neg_words, nw, 'neg_words'))
        cdef int bad
        # SAFETY: wp / wn address nw >= 1 words each, as just checked by _word_array.
        with nogil:
            bad = krn_words_invalid(self.wp, self.wn, self.nw, d)
        if bad == 1:
            raise ValueError('pos_words and neg_words overlap: a position is set in both planes')
        if bad == 2:
            raise ValueError(f'padding bits beyond dim={d} must be zero in the last word')

    cdef int _adopt(self, Py_ssize_t dim, object p, object n) except -1:
        self.dim, self.pos_words, self.neg_words = dim, p, n
        self.wp, self.wn = _u64_ptr(p), _u64_ptr(n)
        self.nw = _words_for(dim)
        self._nnz = -1
        return 0

    @property
    def nnz(self):
        """Number of non-zero positions."""
        return self._count()

    cdef Py_ssize_t _count(self):
        cdef int path = _path
        cdef Py_ssize_t n
        if self._nnz < 0:
            # SAFETY: wp / wn address nw words (class invariant); path is one the CPU supports.
            with nogil:
                n = krn_popcount(path, self.wp, self.nw) + krn_popcount(path, self.wn, self.nw)
            self._nnz = n
        return self._nnz

    @property
    def pos(self):
        """Sorted int64 indices of the +1 positions."""
        return _gather(self.wp, self.nw)

    @property
    def neg(self):
        """Sorted int64 indices of the -1 positions."""
        return _gather(self.wn, self.nw)

    def __repr__(self):
        return f'PackedVec(dim={self.dim}, nnz={self.nnz})'

    def __eq__(self, other):
        if not isinstance(other, PackedVec):
            return NotImplemented
        o = <PackedVec>other
        return (self.dim == o.dim and np.array_equal(self.pos_words, o.pos_words)
                and np.array_equal(self.neg_words, o.neg_words))

    def __reduce__(self):
        return (PackedVec, (self.dim, np.array(self.pos_words), np.array(self.neg_words)))

    # conversions
    @staticmethod
    def from_dense(a):
        """From a 1-D integer array holding only -1, 0 and +1."""
        arr = _dense_array(a, 1)
        d = arr.shape[0]
        return _packed(d, _pack_bits(arr > 0, _words_for(d)), _pack_bits(arr < 0, _words_for(d)))

    @staticmethod
    def from_sparse(v):
        """From a SparseVec (or any representation: conversions are lossless)."""
        return _as_packed(v)

    @staticmethod
    def from_packed(v):
        """From a PackedVec (or any representation: conversions are lossless)."""
        return _as_packed(v)

    @staticmethod
    def from_block_sparse(v):
        """From a BlockSparseVec (or any representation: conversions are lossless)."""
        return _as_packed(v)

    def to_dense(self):
        """The dense view: an int8 array of length dim."""
        p = np.unpackbits(self.pos_words.view(np.uint8), count=self.dim, bitorder='little')
        n = np.unpackbits(self.neg_words.view(np.uint8), count=self.dim, bitorder='little')
        return p.view(np.int8) - n.view(np.int8)

    def to_sparse(self):
        """The same vector as a SparseVec."""
        return _packed_to_sparse(self)

    def to_packed(self):
        """The same vector as a PackedVec."""
        return self

    def to_block_sparse(self):
        """The same vector as a BlockSparseVec."""
        return _packed_to_blocks(self)

    # operations
    def bundle(self, other):
        """sign(self + other) on the dense view."""
        return _packed_words_op(1, self, _coerce_packed(self, other))

    def bind(self, other):
        """self * other, elementwise."""
        return _packed_words_op(0, self, _coerce_packed(self, other))

    def permute(self, s):
        """np.roll(dense, s) for any integer s."""
        return _packed_roll(self, _shift(s, self.dim))

    def inverse_permute(self, s):
        """np.roll(dense, -s): undoes permute(s)."""
        return _packed_roll(self, _shift(-_int_arg(s, 'shift'), self.dim))

    def dot(self, other):
        """sum(self * other) as an int."""
        cdef PackedVec o
        if type(other) is PackedVec and (<PackedVec>other).dim == self.dim:
            o = <PackedVec>other     # the fast path: no conversion, no checks left to do
        else:
            o = _coerce_packed(self, other)
        return _packed_dot(self, o)

    def cosine(self, other):
        """dot / sqrt(nnz(self) * nnz(other)); 0.0 if either vector is empty."""
        cdef PackedVec o
        if type(other) is PackedVec and (<PackedVec>other).dim == self.dim:
            o = <PackedVec>other
        else:
            o = _coerce_packed(self, other)
        cdef Py_ssize_t na = self._count(), nb = o._count()
        if na == 0 or nb == 0:
            return 0.0
        return _packed_dot(self, o) / ((<double>na) * nb) ** 0.5

    def thin(self, t, seed=0):
        """Keep exactly t non-zeros (all if t >= nnz), chosen reproducibly from `seed`, keeping the +/- ratio."""
        return _sparse_to_packed(_packed_to_sparse(self).thin(t, seed))


cdef PackedVec _packed(Py_ssize_t dim, object p, object n):
    """A PackedVec from word arrays that are valid by construction (kernel outputs): no checks."""
    cdef PackedVec v = PackedVec.__new__(PackedVec)
    v._adopt(dim, p, n)
    return v


cdef PackedVec _coerce_packed(PackedVec a, object other):
    cdef PackedVec b = _as_packed(other)
    if b.dim != a.dim:
        _dim_mismatch(a.dim, b.dim)
    return b


cdef PackedVec _as_packed(object v):
    if isinstance(v, PackedVec):
        return v
    if isinstance(v, SparseVec):
        return _sparse_to_packed(v)
    if isinstance(v, BlockSparseVec):
        return _blocks_to_packed(v)
    raise ValueError(f'expected a SparseVec, PackedVec or BlockSparseVec, got {type(v).__name__}')


cdef object _pack_bits(object mask, Py_ssize_t nw):
    """A bool vector as nw little-endian uint64 words (numpy's packbits, padded with zero bytes)."""
    out = np.zeros(nw * 8, dtype=np.uint8)
    packed = np.packbits(mask, bitorder='little')
    out[:packed.shape[0]] = packed
    return _readonly(out.view('<u8').astype(np.uint64, copy=False))


# SAFETY: w addresses the nw words of a vector the caller keeps alive.
cdef object _gather(const uint64_t *w, size_t nw):
    cdef size_t total = krn_popcount(_path, w, nw)
    out = np.empty(total, dtype=np.int64)
    cdef int64_t[::1] o = out
    if total:
        # SAFETY: w addresses nw words of a live vector; o holds popcount(w) values, what krn_gather_bits writes.
        with nogil:
            krn_gather_bits(w, nw, &o[0])
    return _readonly(out)


# SAFETY: idx addresses n validated indices of a vector the caller keeps alive.
cdef object _scatter(const int64_t *idx, size_t n, Py_ssize_t nw):
    out = np.zeros(nw, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    if n:
        # SAFETY: idx holds n validated indices < dim <= 64 * nw, so every bit set lands inside o.
        with nogil:
            krn_scatter_bits(idx, n, &o[0])
    return _readonly(out)


cdef PackedVec _sparse_to_packed(SparseVec v):
    cdef Py_ssize_t nw = _words_for(v.dim)
    return _packed(v.dim, _scatter(v.pp, v.np_, nw), _scatter(v.pn, v.nn, nw))


cdef SparseVec _packed_to_sparse(PackedVec v):
    return _sparse(v.dim, _gather(v.wp, v.nw), _gather(v.wn, v.nw))


cdef object _packed_dot(PackedVec a, PackedVec b):
    cdef int64_t d
    cdef int path = _path
    # SAFETY: a and b have the same dim (checked by the caller), so all four planes hold nw words.
    if a.nw <= _GIL_KEPT_WORDS:
        d = krn_dot(path, a.wp, a.wn, b.wp, b.wn, a.nw)
    else:
        with nogil:
            d = krn_dot(path, a.wp, a.wn, b.wp, b.wn, a.nw)
    return d


cdef PackedVec _packed_words_op(int bundle, PackedVec a, PackedVec b):
    p = np.empty(a.nw, dtype=np.uint64)
    n = np.empty(a.nw, dtype=np.uint64)
    cdef uint64_t[::1] op = p
    cdef uint64_t[::1] on = n
    # SAFETY: a and b have the same dim (checked by the caller): all six buffers hold nw >= 1 words, and the
    # outputs are fresh arrays, so they alias no input.
    with nogil:
        if bundle:
            krn_bundle_words(a.wp, a.wn, b.wp, b.wn, &op[0], &on[0], a.nw)
        else:
            krn_bind_words(a.wp, a.wn, b.wp, b.wn, &op[0], &on[0], a.nw)
    return _packed(a.dim, _readonly(p), _readonly(n))


# SAFETY: src addresses the ceil(dim / 64) words of a plane the caller keeps alive.
cdef object _rotate(const uint64_t *src, Py_ssize_t dim, Py_ssize_t s):
    out = np.empty(_words_for(dim), dtype=np.uint64)
    cdef uint64_t[::1] o = out
    # SAFETY: src and o hold ceil(dim / 64) >= 1 words and do not overlap (o is fresh); 0 <= s < dim.
    with nogil:
        krn_rotate_words(src, &o[0], dim, s)
    return _readonly(out)


cdef PackedVec _packed_roll(PackedVec a, Py_ssize_t s):
    return _packed(a.dim, _rotate(a.wp, a.dim, s), _rotate(a.wn, a.dim, s))
