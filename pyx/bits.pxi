# Bit sums of bytes: the bundle of a byte string's width-byte pieces read as bit signs, counted in C.


def bit_sums(data, width):
    """The bundle of the `width`-byte pieces of `data` (bytes-like, or a 1-D uint8 array), each piece read as the
    signs of its bits, +1 for a set bit and -1 for a clear one, unsummed: an int32 array of 8 * width sums, sum
    8 i + j being bit j of byte i, most significant bit first (``np.unpackbits``' order). Bytes past the end of a
    short last piece count nothing; empty `data` gives zeros. ValueError on any other input.

    >>> from embeddenator import vsa
    >>> vsa.bit_sums(bytes([0b10000001, 0xff, 0x00]), 2).tolist()
    [0, -2, -2, -2, -2, -2, -2, 0, 1, 1, 1, 1, 1, 1, 1, 1]
    """
    cdef Py_ssize_t w = _int_arg(width, 'width')
    if w < 1:
        raise ValueError(f'width must be at least 1, got {w}')
    arr = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    if arr.dtype != np.uint8 or arr.ndim != 1 or not arr.flags.c_contiguous:
        raise ValueError('data must be bytes-like or a C-contiguous 1-D uint8 array')
    cdef const uint8_t[::1] b = arr
    cdef Py_ssize_t n = b.shape[0]
    if n // w + (n % w != 0) >= 2 ** 31:
        raise ValueError(f'{n} bytes are 2^31 pieces of {w} bytes or more')
    out = np.empty(8 * w, dtype=np.int32)
    scratch = np.empty(w, dtype=np.uint64)
    cdef int32_t[::1] o = out
    cdef uint64_t[::1] acc = scratch
    # SAFETY: b holds n readable bytes and is passed as NULL when n == 0; w >= 1, acc holds w words and o 8 * w
    # sums, both fresh arrays (no aliasing); the piece count was checked to be below 2^31.
    cdef const uint8_t *p = &b[0] if n else NULL
    with nogil:
        krn_bit_sums(p, <size_t>n, <size_t>w, &acc[0], &o[0])
    return out


def keep_largest(sums, k, rank):
    """The positions of the `k` largest magnitudes of `sums` (a C-contiguous 1-D int32 array), ties broken by
    `rank` (an int64 permutation of its positions' numbers: the least rank is kept first), ascending as an int64
    array; every non-zero position if there are at most `k`. How a bundle is thinned to `k` non-zeros, in a few
    compiled passes over its sums. ValueError on any other input, or when a rank that breaks a tie is outside
    [0, len(sums)), or repeats so that no rank keeps exactly `k`.

    >>> import numpy as np
    >>> from embeddenator import vsa
    >>> vsa.keep_largest(np.array([1, -3, 0, 1, 2], np.int32), 3, np.array([4, 3, 2, 1, 0])).tolist()
    [1, 3, 4]
    """
    cdef Py_ssize_t want = _int_arg(k, 'k')
    if want < 0:
        raise ValueError(f'k must be at least 0, got {want}')
    if not isinstance(sums, np.ndarray) or sums.dtype != np.int32 or sums.ndim != 1 or not sums.flags.c_contiguous:
        raise ValueError('sums must be a C-contiguous 1-D int32 array')
    if not isinstance(rank, np.ndarray) or rank.dtype != np.int64 or rank.shape != sums.shape \
            or not rank.flags.c_contiguous:
        raise ValueError(f'rank must be a C-contiguous 1-D int64 array of {sums.shape[0]} ranks')
    cdef const int32_t[::1] s = sums
    cdef const int64_t[::1] r = rank
    cdef Py_ssize_t m = s.shape[0]
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    out = np.empty(max(1, min(want, m)), dtype=np.int64)
    scratch = np.empty(m, dtype=np.uint8)
    cdef int64_t[::1] kept = out
    cdef uint8_t[::1] seen = scratch
    cdef int64_t count
    # SAFETY: s and r hold m > 0 values (checked above), seen m bytes and kept min(k, m) >= 1 int64, both fresh (no
    # aliasing); the kernel checks every rank it uses as an index against m.
    with nogil:
        count = krn_keep_largest(&s[0], <size_t>m, &r[0], <size_t>want, &seen[0], &kept[0])
    if count == KRN_BAD_RANK:
        raise ValueError(f'rank must be a permutation of 0 .. {m - 1}')
    return out[:count]
