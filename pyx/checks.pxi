# Argument checks (run with the GIL, before any kernel) and the pointer helpers the vector types use.

# Below these sizes a kernel finishes in well under a microsecond, less than it costs to release and re-take
# the GIL (numpy keeps the GIL for small arrays for the same reason); above them every kernel runs without it.
cdef size_t _GIL_KEPT_INDICES = 1024      # sparse dot: total non-zeros of both operands
cdef size_t _GIL_KEPT_WORDS = 1024        # packed dot: words per plane (D <= 65,536)


cdef Py_ssize_t _check_dim(object dim) except -1:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise ValueError(f'dim must be a positive integer, got {dim!r}')
    if dim < 1:
        raise ValueError(f'dim must be a positive integer, got {dim!r}')
    return dim


cdef object _int_arg(object value, str name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f'{name} must be an integer, got {value!r}')
    return int(value)


cdef object _index_array(object values, str name, Py_ssize_t dim):
    """A private, read-only, sorted int64 copy of `values`, or ValueError naming what is wrong."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f'{name} must be a 1-D array of indices, got shape {arr.shape}')
    if arr.size and not (np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f'{name} must hold integer indices, got dtype {arr.dtype}')
    out = np.array(arr, dtype=np.int64, copy=True)
    if np.issubdtype(arr.dtype, np.unsignedinteger) and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f'{name} has an index out of range [0, {dim})')
    cdef const int64_t[::1] mv = out
    cdef int ok = 1
    if mv.shape[0]:
        # SAFETY: mv is a C-contiguous int64 buffer of mv.shape[0] > 0 values, alive for this call.
        with nogil:
            ok = krn_sorted_in_range(&mv[0], <size_t>mv.shape[0], dim)
    if not ok:
        if out.size and (out.min() < 0 or out.max() >= dim):
            raise ValueError(f'{name} has an index out of range [0, {dim})')
        raise ValueError(f'{name} must be sorted and unique (strictly increasing)')
    out.flags.writeable = False
    return out


cdef object _word_array(object words, Py_ssize_t nw, str name):
    """`words` itself if it is a C-contiguous 1-D uint64 array of nw words, else ValueError."""
    if not isinstance(words, np.ndarray):
        raise ValueError(f'{name} must be a numpy uint64 array, got {type(words).__name__}')
    if words.dtype != np.uint64:
        raise ValueError(f'{name} must have dtype uint64, got {words.dtype}')
    if words.ndim != 1:
        raise ValueError(f'{name} must be 1-D, got shape {words.shape}')
    if not words.flags.c_contiguous:
        raise ValueError(f'{name} must be C-contiguous (pass numpy.ascontiguousarray({name}))')
    if words.shape[0] != nw:
        raise ValueError(f'{name} must hold ceil(dim / 64) = {nw} words, got {words.shape[0]}')
    return words


cdef object _dense_array(object a, int ndim):
    """An integer array of `ndim` dimensions with values in {-1, 0, +1}, else ValueError."""
    arr = np.asarray(a)
    if arr.ndim != ndim:
        raise ValueError(f'dense input must be {ndim}-D, got shape {arr.shape}')
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise ValueError(f'dense input must have an integer dtype (int8), got {arr.dtype}')
    if arr.shape[ndim - 1] < 1:
        raise ValueError('dense input must have dimension >= 1')
    if arr.size and (arr.min() < -1 or arr.max() > 1):
        raise ValueError('dense input must hold only -1, 0 and +1')
    return arr


# SAFETY: pure integer arithmetic, touches no Python object or memory.
cdef inline Py_ssize_t _words_for(Py_ssize_t dim) noexcept nogil:
    return (dim + 63) // 64


cdef inline const int64_t *_i64_ptr(object arr) except? NULL:
    """Address of the first value of a C-contiguous int64 array, or NULL if it is empty.

    SAFETY: the pointer is valid only while `arr` is alive and not resized; callers keep a reference (the
    vector types store the array beside the pointer and never replace it; numpy refuses to resize an array
    that is referenced).
    """
    cdef const int64_t[::1] mv = arr
    if mv.shape[0] == 0:
        return NULL
    return &mv[0]


cdef inline const uint64_t *_u64_ptr(object arr) except? NULL:
    """Address of the first word of a C-contiguous uint64 array, or NULL if it is empty.

    SAFETY: as _i64_ptr: valid while the caller keeps `arr` referenced and unresized.
    """
    cdef const uint64_t[::1] mv = arr
    if mv.shape[0] == 0:
        return NULL
    return &mv[0]


cdef object _readonly(object arr):
    arr.flags.writeable = False
    return arr


cdef Py_ssize_t _shift(object s, Py_ssize_t dim) except -1:
    """s reduced into [0, dim): np.roll semantics for any integer, negative or larger than dim."""
    return _int_arg(s, 'shift') % dim


cdef void _dim_mismatch(Py_ssize_t a, Py_ssize_t b) except *:
    raise ValueError(f'dimension mismatch: {a} vs {b}')
