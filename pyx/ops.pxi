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
    """A SparseVec with exactly nnz non-zeros, ceil(nnz / 2) of them +1 and the rest -1, from `seed`."""
    cdef Py_ssize_t d = _check_dim(dim)
    cdef Py_ssize_t k = _int_arg(nnz, 'nnz')
    if not 0 <= k <= d:
        raise ValueError(f'nnz must be in [0, dim={d}], got {k}')
    idx = np.random.default_rng(seed).choice(d, size=k, replace=False)
    npos = k - k // 2
    return _sparse(d, _readonly(np.sort(idx[:npos]).astype(np.int64)),
                   _readonly(np.sort(idx[npos:]).astype(np.int64)))


def bundle_many(vectors):
    """sign(sum(vectors)) on the dense view, in the representation of the first vector."""
    vs = list(vectors)
    if not vs:
        raise ValueError('bundle_many needs at least one vector')
    first = _vec(vs[0], 'vectors[0]')
    if isinstance(first, SparseVec):
        return _bundle_many_sparse([_coerce_sparse(first, v) for v in vs])
    packed = _bundle_many_packed([_coerce_packed(_as_packed(first), v) for v in vs])
    return _packed_to_blocks(packed) if isinstance(first, BlockSparseVec) else packed


cdef SparseVec _bundle_many_sparse(list vs):
    cdef SparseVec first = vs[0], v
    cdef Py_ssize_t dim = first.dim
    if len(vs) >= 2 ** 31:
        raise ValueError('bundle_many counts in int32: at most 2^31 - 1 vectors')
    acc = np.zeros(dim, dtype=np.int32)
    cdef int32_t[::1] a = acc
    for v in vs:
        # SAFETY: v's arrays hold validated indices in [0, dim) and a holds dim counters; v is alive (in vs).
        with nogil:
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
    cdef size_t nw = first.nw
    cdef int nbits = int(len(vs)).bit_length()     # counts reach at most len(vs) < 2^nbits
    cp = np.zeros(nbits * nw, dtype=np.uint64)
    cn = np.zeros(nbits * nw, dtype=np.uint64)
    cdef uint64_t[::1] mcp = cp
    cdef uint64_t[::1] mcn = cn
    for v in vs:
        # SAFETY: every v has first's dim (checked by _coerce_packed), so its planes hold nw words; the counter
        # planes hold nbits * nw words and no count can exceed len(vs) < 2^nbits.
        with nogil:
            krn_count_add(&mcp[0], v.wp, nw, nbits)
            krn_count_add(&mcn[0], v.wn, nw, nbits)
    p = np.empty(nw, dtype=np.uint64)
    n = np.empty(nw, dtype=np.uint64)
    cdef uint64_t[::1] mp = p
    cdef uint64_t[::1] mn = n
    # SAFETY: counters hold nbits * nw words, outputs nw words each.
    with nogil:
        krn_count_sign(&mcp[0], &mcn[0], nw, nbits, &mp[0], &mn[0])
    return _packed(first.dim, _readonly(p), _readonly(n))
