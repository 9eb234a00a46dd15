# SparseVec: sorted, disjoint int64 index arrays of the +1 and -1 positions; every operation is a C merge.

cdef class SparseVec:
    """A ternary vector as sorted, disjoint, unique index arrays of its +1 (`pos`) and -1 (`neg`) positions.

    `pos` and `neg` are read-only int64 arrays (a private copy of what was passed in).

    >>> from embeddenator import vsa
    >>> a = vsa.SparseVec(8, [1, 4], [6])
    >>> a.to_dense().tolist()
    [0, 1, 0, 0, 1, 0, -1, 0]
    >>> b = vsa.SparseVec(8, [4, 6], [1])
    >>> a.bind(b).to_dense().tolist(), a.bundle(b).to_dense().tolist()
    ([0, -1, 0, 0, 1, 0, -1, 0], [0, 0, 0, 0, 1, 0, 0, 0])
    >>> a.dot(b), round(a.cosine(b), 4), a.permute(2).pos.tolist()
    (-1, -0.3333, [3, 6])
    """
    cdef readonly Py_ssize_t dim
    cdef readonly object pos
    cdef readonly object neg
    # SAFETY: pp / pn point into self.pos / self.neg (read-only arrays this object owns and never replaces);
    # they are NULL exactly when the array is empty, and np_ / nn are the lengths.
    cdef const int64_t *pp
    cdef const int64_t *pn
    cdef size_t np_, nn

    def __init__(self, dim, pos, neg):
        cdef Py_ssize_t d = _check_dim(dim)
        self._adopt(d, _index_array(pos, 'pos', d), _index_array(neg, 'neg', d))
        cdef size_t common
        # SAFETY: (pp, np_) and (pn, nn) describe the validated arrays just adopted.
        with nogil:
            common = krn_count_common(self.pp, self.np_, self.pn, self.nn)
        if common:
            raise ValueError(f'pos and neg overlap at index {np.intersect1d(self.pos, self.neg)[0]}')

    cdef int _adopt(self, Py_ssize_t dim, object p, object n) except -1:
        self.dim, self.pos, self.neg = dim, p, n
        self.pp, self.pn = _i64_ptr(p), _i64_ptr(n)
        self.np_, self.nn = p.shape[0], n.shape[0]
        return 0

    @property
    def nnz(self):
        """Number of non-zero positions."""
        return self.np_ + self.nn

    def __repr__(self):
        return f'SparseVec(dim={self.dim}, nnz={self.nnz})'

    def __eq__(self, other):
        if not isinstance(other, SparseVec):
            return NotImplemented
        o = <SparseVec>other
        return self.dim == o.dim and np.array_equal(self.pos, o.pos) and np.array_equal(self.neg, o.neg)

    def __reduce__(self):
        return (SparseVec, (self.dim, self.pos, self.neg))

    # conversions
    @staticmethod
    def from_dense(a):
        """From a 1-D integer array holding only -1, 0 and +1."""
        arr = _dense_array(a, 1)
        return _sparse(arr.shape[0], _readonly(np.flatnonzero(arr > 0)), _readonly(np.flatnonzero(arr < 0)))

    @staticmethod
    def from_sparse(v):
        """From a SparseVec (or any representation: conversions are lossless)."""
        return _as_sparse(v)

    @staticmethod
    def from_packed(v):
        """From a PackedVec (or any representation: conversions are lossless)."""
        return _as_sparse(v)

    @staticmethod
    def from_block_sparse(v):
        """From a BlockSparseVec (or any representation: conversions are lossless)."""
        return _as_sparse(v)

    def to_dense(self):
        """The dense view: an int8 array of length dim."""
        out = np.zeros(self.dim, dtype=np.int8)
        out[self.pos] = 1
        out[self.neg] = -1
        return out

    def to_sparse(self):
        """The same vector as a SparseVec."""
        return self

    def to_packed(self):
        """The same vector as a PackedVec."""
        return _sparse_to_packed(self)

    def to_block_sparse(self):
        """The same vector as a BlockSparseVec."""
        return _packed_to_blocks(_sparse_to_packed(self))

    # operations
    def bundle(self, other):
        """sign(self + other) on the dense view."""
        return _sparse_combine(KRN_OP_BUNDLE, self, _coerce_sparse(self, other))

    def bind(self, other):
        """self * other, elementwise."""
        return _sparse_combine(KRN_OP_BIND, self, _coerce_sparse(self, other))

    def permute(self, s):
        """np.roll(dense, s) for any integer s."""
        return _sparse_roll(self, _shift(s, self.dim))

    def inverse_permute(self, s):
        """np.roll(dense, -s): undoes permute(s)."""
        return _sparse_roll(self, _shift(-_int_arg(s, 'shift'), self.dim))

    def dot(self, other):
        """sum(self * other) as an int."""
        return _sparse_dot(self, _coerce_sparse(self, other))

    def cosine(self, other):
        """dot / sqrt(nnz(self) * nnz(other)); 0.0 if either vector is empty."""
        cdef SparseVec o = _coerce_sparse(self, other)
        cdef size_t na = self.np_ + self.nn, nb = o.np_ + o.nn
        if na == 0 or nb == 0:
            return 0.0
        return _sparse_dot(self, o) / ((<double>na) * nb) ** 0.5

    def thin(self, t, seed=0):
        """Keep exactly t non-zeros (all if t >= nnz), chosen reproducibly from `seed`, keeping the +/- ratio."""
        cdef Py_ssize_t tt = _int_arg(t, 't')
        cdef Py_ssize_t total = self.np_ + self.nn
        if tt < 0:
            raise ValueError(f't must be >= 0, got {tt}')
        if tt >= total:
            return self
        # round(t * npos / nnz), kept feasible for both signs
        cdef Py_ssize_t tp = (2 * tt * <Py_ssize_t>self.np_ + total) // (2 * total)
        tp = min(max(tp, tt - <Py_ssize_t>self.nn), min(tt, <Py_ssize_t>self.np_))
        rng = np.random.default_rng(seed)
        p = np.sort(rng.choice(self.pos, size=tp, replace=False)) if tp else np.empty(0, np.int64)
        n = np.sort(rng.choice(self.neg, size=tt - tp, replace=False)) if tt - tp else np.empty(0, np.int64)
        return _sparse(self.dim, _readonly(p.astype(np.int64)), _readonly(n.astype(np.int64)))


cdef SparseVec _sparse(Py_ssize_t dim, object p, object n):
    """A SparseVec from arrays that are valid by construction (kernel outputs): no checks."""
    cdef SparseVec v = SparseVec.__new__(SparseVec)
    v._adopt(dim, p, n)
    return v


cdef SparseVec _coerce_sparse(SparseVec a, object other):
    cdef SparseVec b = _as_sparse(other)
    if b.dim != a.dim:
        _dim_mismatch(a.dim, b.dim)
    return b


cdef SparseVec _as_sparse(object v):
    if isinstance(v, SparseVec):
        return v
    if isinstance(v, PackedVec):
        return _packed_to_sparse(v)
    if isinstance(v, BlockSparseVec):
        return _packed_to_sparse(_blocks_to_packed(v))
    raise ValueError(f'expected a SparseVec, PackedVec or BlockSparseVec, got {type(v).__name__}')


cdef object _sparse_dot(SparseVec a, SparseVec b):
    cdef int64_t d
    # SAFETY: each (pointer, length) pair describes a validated array owned by a or b, both alive here.
    if a.np_ + a.nn + b.np_ + b.nn <= _GIL_KEPT_INDICES:
        d = krn_sparse_dot(a.dim, a.pp, a.np_, a.pn, a.nn, b.pp, b.np_, b.pn, b.nn)
    else:
        with nogil:
            d = krn_sparse_dot(a.dim, a.pp, a.np_, a.pn, a.nn, b.pp, b.np_, b.pn, b.nn)
    return d


cdef SparseVec _sparse_combine(int op, SparseVec a, SparseVec b):
    cdef size_t bound = a.np_ + a.nn + b.np_ + b.nn
    bp = np.empty(bound, dtype=np.int64)
    bn = np.empty(bound, dtype=np.int64)
    cdef int64_t[::1] op_ = bp
    cdef int64_t[::1] on = bn
    cdef size_t cp = 0, cn = 0
    if bound:
        # SAFETY: inputs are validated sorted, disjoint arrays of a and b; both outputs hold `bound` values,
        # the documented upper bound of krn_sparse_combine's output, and bound > 0 makes &op_[0] valid.
        with nogil:
            krn_sparse_combine(op, a.pp, a.np_, a.pn, a.nn, b.pp, b.np_, b.pn, b.nn, &op_[0], &cp, &on[0], &cn)
    return _sparse(a.dim, _readonly(bp[:cp]), _readonly(bn[:cn]))


# SAFETY: src addresses n validated indices of a vector the caller keeps alive.
cdef object _roll_indices(const int64_t *src, size_t n, Py_ssize_t dim, Py_ssize_t s):
    out = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] o = out
    if n:
        # SAFETY: src holds n sorted indices in [0, dim) (a validated array the caller keeps alive), o holds n
        # values and is a fresh array, so they do not overlap; 0 <= s < dim.
        with nogil:
            krn_sparse_roll(src, n, dim, s, &o[0])
    return _readonly(out)


cdef SparseVec _sparse_roll(SparseVec a, Py_ssize_t s):
    return _sparse(a.dim, _roll_indices(a.pp, a.np_, a.dim, s), _roll_indices(a.pn, a.nn, a.dim, s))
