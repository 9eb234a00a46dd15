# The operations as functions (vsa.bind(a, b) == a.bind(b)), bundle_many, and seeded generation.

cdef object _vec(object v, str name):
    if not isinstance(v, (SparseVec, PackedVec, BlockSparseVec)):
        raise ValueError(f'{name} must be a SparseVec, PackedVec or BlockSparseVec, got {type(v).__name__}')
    return v


def bundle(a, b):
    """sign(a + b) on the dense view, in a's representation."""
    return _vec(a, 'a').bundle(b)


def bind(a, b):
    """a * b elementwise, in a's representation."""
    return _vec(a, 'a').bind(b)


def permute(a, s):
    """np.roll(a, s) for any integer s."""
    return _vec(a, 'a').permute(s)


def inverse_permute(a, s):
    """np.roll(a, -s)."""
    return _vec(a, 'a').inverse_permute(s)


def dot(a, b):
    """sum(a * b) as an int."""
    if type(a) is PackedVec:
        return (<PackedVec>a).dot(b)
    return _vec(a, 'a').dot(b)


def cosine(a, b):
    """dot(a, b) / sqrt(nnz(a) * nnz(b)); 0.0 if either is empty."""
    if type(a) is SparseVec:
        return (<SparseVec>a).cosine(b)
    return _vec(a, 'a').cosine(b)


def thin(v, t, seed=0):
    """Keep exactly t non-zeros of v, chosen reproducibly from `seed`, keeping the +/- proportion."""
    return _vec(v, 'v').thin(t, seed)


def random(dim=DEFAULT_DIM, nnz=DEFAULT_NNZ, seed=0):
    """A SparseVec with exactly nnz non-zeros, ceil(nnz / 2) of them +1 and the rest -1, from `seed`.

    >>> from embeddenator import vsa
    >>> v = vsa.random(seed=7)
    >>> v.dim, v.nnz, len(v.pos), v == vsa.random(seed=7)
    (10000, 200, 100, True)
    """
    cdef Py_ssize_t d = _check_dim(dim)
    cdef Py_ssize_t k = _int_arg(nnz, 'nnz')
    if not 0 <= k <= d:
        raise ValueError(f'nnz must be in [0, dim={d}], got {k}')
    idx = np.random.default_rng(seed).choice(d, size=k, replace=False)
    npos = k - k // 2
    return _sparse(d, _readonly(np.sort(idx[:npos]).astype(np.int64)),
                   _readonly(np.sort(idx[npos:]).astype(np.int64)))


def bundle_many(vectors):
    """sign(sum(vectors)) on the dense view, in the representation of the first vector.

    >>> from embeddenator import vsa
    >>> vs = [vsa.SparseVec(4, [0], [1]), vsa.SparseVec(4, [0, 1], []), vsa.SparseVec(4, [], [0, 2])]
    >>> vsa.bundle_many(vs).to_dense().tolist()
    [1, 0, -1, 0]
    """
    vs = list(vectors)
    if not vs:
        raise ValueError('bundle_many needs at least one vector')
    first = _vec(vs[0], 'vectors[0]')
    if isinstance(first, SparseVec):
        return _bundle_many_sparse([_coerce_sparse(first, v) for v in vs])
    pf = _as_packed(first)
    packed = _bundle_many_packed([_coerce_packed(pf, v) for v in vs])
    return _packed_to_blocks(packed) if isinstance(first, BlockSparseVec) else packed


cdef SparseVec _bundle_many_sparse(list vs):
    cdef SparseVec first = vs[0], v
    cdef Py_ssize_t dim = first.dim, i, nv = len(vs)
    if nv >= 2 ** 31:
        raise ValueError('bundle_many counts in int32: at most 2^31 - 1 vectors')
    acc = np.zeros(dim, dtype=np.int32)
    cdef int32_t[::1] a = acc
    for v in vs:
        # SAFETY: v's arrays hold validated indices in [0, dim) and a holds dim counters; v is alive (in vs).
        # The GIL is kept: each call is a few hundred stores, less than releasing it would cost.
        krn_accumulate(&a[0], v.pp, v.np_, 1)
        krn_accumulate(&a[0], v.pn, v.nn, -1)
    p = np.empty(dim, dtype=np.int64)
    n = np.empty(dim, dtype=np.int64)
    cdef int64_t[::1] mp = p
    cdef int64_t[::1] mn = n
    cdef size_t cp = 0, cn = 0
    # SAFETY: a holds dim counters; mp and mn hold dim values each, the most krn_sign_positions writes.
    with nogil:
        krn_sign_positions(&a[0], dim, &mp[0], &cp, &mn[0], &cn)
    return _sparse(dim, _readonly(p[:cp]), _readonly(n[:cn]))


cdef PackedVec _bundle_many_packed(list vs):
    cdef PackedVec first = vs[0], v
    cdef size_t nw = first.nw, i, nv = len(vs)
    cdef int nbits = int(nv).bit_length()     # counts reach at most nv < 2^nbits
    cdef int path = _path
    if nbits > KRN_MAX_COUNT_BITS:
        raise ValueError(f'bundle_many supports fewer than 2^{KRN_MAX_COUNT_BITS} vectors')
    p = np.empty(nw, dtype=np.uint64)
    n = np.empty(nw, dtype=np.uint64)
    cdef uint64_t[::1] mp = p
    cdef uint64_t[::1] mn = n
    # SAFETY: two arrays of nv plane pointers, filled from the vectors of `vs` (kept alive by the list, each of
    # first's dim, so nw words per plane: checked by _coerce_packed); freed in `finally`.
    cdef const uint64_t **pos = <const uint64_t **>malloc(nv * sizeof(uint64_t *))
    cdef const uint64_t **neg = <const uint64_t **>malloc(nv * sizeof(uint64_t *))
    try:
        if pos == NULL or neg == NULL:
            raise MemoryError()
        for i in range(nv):
            v = vs[i]
            pos[i], neg[i] = v.wp, v.wn
        # SAFETY: pos / neg hold nv valid plane pointers of nw words; outputs hold nw words; nv < 2^nbits.
        with nogil:
            krn_bundle_many(path, pos, neg, nv, nw, nbits, &mp[0], &mn[0])
    finally:
        free(pos)
        free(neg)
    return _packed(first.dim, _readonly(p), _readonly(n))
