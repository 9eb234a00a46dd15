# BlockSparseVec: the non-empty 64-position blocks of a vector, for mid densities.

cdef class BlockSparseVec:
    """A ternary vector as sorted block ids (block b = positions 64 * b .. 64 * b + 63) with one +1 mask and
    one -1 mask per block; no block is empty. `blocks` is int64, the masks uint64, all read-only copies.
    """
    cdef readonly Py_ssize_t dim
    cdef readonly object blocks
    cdef readonly object pos_masks
    cdef readonly object neg_masks
    # SAFETY: ids / bp / bn point into the three arrays above (owned, read-only, never replaced), each of nb
    # entries; all NULL when nb == 0.
    cdef const int64_t *ids
    cdef const uint64_t *bp
    cdef const uint64_t *bn
    cdef size_t nb

    def __init__(self, dim, blocks, pos_masks, neg_masks):
        cdef Py_ssize_t d = _check_dim(dim)
        ids = _index_array(blocks, 'blocks', _words_for(d))
        p, n = np.asarray(pos_masks), np.asarray(neg_masks)
        for name, m in (('pos_masks', p), ('neg_masks', n)):
            if m.dtype != np.uint64 or m.ndim != 1 or m.shape[0] != ids.shape[0]:
                raise ValueError(f'{name} must be a 1-D uint64 array with one mask per block '
                                 f'({ids.shape[0]}), got dtype {m.dtype} and shape {m.shape}')
        if np.any(p & n):
            raise ValueError('pos_masks and neg_masks overlap: a position is set in both')
        if np.any((p | n) == 0):
            raise ValueError('blocks must not be empty: drop blocks whose masks are both zero')
        if d % 64 and ids.shape[0] and ids[ids.shape[0] - 1] == _words_for(d) - 1:
            last = ids.shape[0] - 1
            if (int(p[last]) | int(n[last])) >> (d % 64):
                raise ValueError(f'padding bits beyond dim={d} must be zero in the last block')
        self._adopt(d, ids, _readonly(np.array(p)), _readonly(np.array(n)))

    cdef int _adopt(self, Py_ssize_t dim, object ids, object p, object n) except -1:
        self.dim, self.blocks, self.pos_masks, self.neg_masks = dim, ids, p, n
        self.ids, self.bp, self.bn = _i64_ptr(ids), _u64_ptr(p), _u64_ptr(n)
        self.nb = ids.shape[0]
        return 0

    @property
    def nnz(self):
        """Number of non-zero positions."""
        return int(np.bitwise_count(self.pos_masks).sum() + np.bitwise_count(self.neg_masks).sum())

    @property
    def pos(self):
        return _blocks_to_packed(self).pos

    @property
    def neg(self):
        return _blocks_to_packed(self).neg

    def __repr__(self):
        return f'BlockSparseVec(dim={self.dim}, blocks={self.nb}, nnz={self.nnz})'

    def __eq__(self, other):
        if not isinstance(other, BlockSparseVec):
            return NotImplemented
        o = <BlockSparseVec>other
        return (self.dim == o.dim and np.array_equal(self.blocks, o.blocks)
                and np.array_equal(self.pos_masks, o.pos_masks) and np.array_equal(self.neg_masks, o.neg_masks))

    def __reduce__(self):
        return (BlockSparseVec, (self.dim, self.blocks, self.pos_masks, self.neg_masks))

    # conversions
    @staticmethod
    def from_dense(a):
        """From a 1-D integer array holding only -1, 0 and +1."""
        return _packed_to_blocks(PackedVec.from_dense(a))

    @staticmethod
    def from_sparse(v):
        """From a SparseVec (or any representation: conversions are lossless)."""
        return _as_blocks(v)

    @staticmethod
    def from_packed(v):
        """From a PackedVec (or any representation: conversions are lossless)."""
        return _as_blocks(v)

    @staticmethod
    def from_block_sparse(v):
        """From a BlockSparseVec (or any representation: conversions are lossless)."""
        return _as_blocks(v)

    def to_dense(self):
        """The dense view: an int8 array of length dim."""
        return _blocks_to_packed(self).to_dense()

    def to_sparse(self):
        """The same vector as a SparseVec."""
        return _packed_to_sparse(_blocks_to_packed(self))

    def to_packed(self):
        """The same vector as a PackedVec."""
        return _blocks_to_packed(self)

    def to_block_sparse(self):
        """The same vector as a BlockSparseVec."""
        return self

    # operations
    def bundle(self, other):
        """sign(self + other) on the dense view."""
        return _blocks_combine(KRN_BLOCK_BUNDLE, self, _coerce_blocks(self, other))

    def bind(self, other):
        """self * other, elementwise."""
        return _blocks_combine(KRN_BLOCK_BIND, self, _coerce_blocks(self, other))

    def permute(self, s):
        """np.roll(dense, s) for any integer s."""
        return _packed_to_blocks(_blocks_to_packed(self).permute(s))

    def inverse_permute(self, s):
        """np.roll(dense, -s): undoes permute(s)."""
        return _packed_to_blocks(_blocks_to_packed(self).inverse_permute(s))

    def dot(self, other):
        """sum(self * other) as an int."""
        return _blocks_dot(self, _coerce_blocks(self, other))

    def cosine(self, other):
        """dot / sqrt(nnz(self) * nnz(other)); 0.0 if either vector is empty."""
        cdef BlockSparseVec o = _coerce_blocks(self, other)
        na, nb = self.nnz, o.nnz
        if na == 0 or nb == 0:
            return 0.0
        return _blocks_dot(self, o) / (float(na) * nb) ** 0.5

    def thin(self, t, seed=0):
        """Keep exactly t non-zeros (all if t >= nnz), chosen reproducibly from `seed`, keeping the +/- ratio."""
        return _packed_to_blocks(_sparse_to_packed(self.to_sparse().thin(t, seed)))


cdef BlockSparseVec _blocks(Py_ssize_t dim, object ids, object p, object n):
    """A BlockSparseVec from arrays that are valid by construction: no checks."""
    cdef BlockSparseVec v = BlockSparseVec.__new__(BlockSparseVec)
    v._adopt(dim, ids, p, n)
    return v


cdef BlockSparseVec _coerce_blocks(BlockSparseVec a, object other):
    cdef BlockSparseVec b = _as_blocks(other)
    if b.dim != a.dim:
        _dim_mismatch(a.dim, b.dim)
    return b


cdef BlockSparseVec _as_blocks(object v):
    if isinstance(v, BlockSparseVec):
        return v
    if isinstance(v, (SparseVec, PackedVec)):
        return _packed_to_blocks(_as_packed(v))
    raise ValueError(f'expected a SparseVec, PackedVec or BlockSparseVec, got {type(v).__name__}')


cdef BlockSparseVec _packed_to_blocks(PackedVec v):
    ids = np.flatnonzero(v.pos_words | v.neg_words).astype(np.int64)
    return _blocks(v.dim, _readonly(ids), _readonly(v.pos_words[ids]), _readonly(v.neg_words[ids]))


cdef PackedVec _blocks_to_packed(BlockSparseVec v):
    nw = _words_for(v.dim)
    p = np.zeros(nw, dtype=np.uint64)
    n = np.zeros(nw, dtype=np.uint64)
    p[v.blocks] = v.pos_masks
    n[v.blocks] = v.neg_masks
    return _packed(v.dim, _readonly(p), _readonly(n))


cdef object _blocks_dot(BlockSparseVec a, BlockSparseVec b):
    cdef int64_t d
    # SAFETY: each vector's three pointers address nb entries of its own arrays (class invariant).
    with nogil:
        d = krn_block_dot(a.ids, a.bp, a.bn, a.nb, b.ids, b.bp, b.bn, b.nb)
    return d


cdef BlockSparseVec _blocks_combine(int op, BlockSparseVec a, BlockSparseVec b):
    cdef size_t bound = a.nb + b.nb
    ids = np.empty(bound, dtype=np.int64)
    p = np.empty(bound, dtype=np.uint64)
    n = np.empty(bound, dtype=np.uint64)
    cdef int64_t[::1] oi = ids
    cdef uint64_t[::1] mp = p
    cdef uint64_t[::1] mn = n
    cdef size_t k = 0
    if bound:
        # SAFETY: inputs as in _blocks_dot; the three outputs hold a.nb + b.nb entries, krn_block_combine's bound.
        with nogil:
            k = krn_block_combine(op, a.ids, a.bp, a.bn, a.nb, b.ids, b.bp, b.bn, b.nb, &oi[0], &mp[0], &mn[0])
    return _blocks(a.dim, _readonly(ids[:k]), _readonly(p[:k]), _readonly(n[:k]))
