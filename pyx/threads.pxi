# How many threads a parallel scan uses, and the bandwidth probe that runs under the same policy.
#
# A scan splits its rows into chunks that the threads take in turn (prange, dynamic schedule); the call returns
# when every thread has reached the end of the loop. On a machine whose cores are taken by other processes, a
# helper thread can wait milliseconds for a core before it starts (or be preempted mid-chunk), and the whole
# call waits with it: measured here, a 51 MB scan took 3 ms on one thread and 20 ms on two. So each parallel
# scan records when every thread started and finished its chunks; if one started late or finished far behind
# the others, the following scans run on one thread for a second, then two threads are tried again.

from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

# Below this many words (1 MiB) a scan is over before a second thread would have started.
cdef Py_ssize_t _PARALLEL_WORDS = 1 << 17
# Rows per work item of the parallel scan: large enough to amortise scheduling, small enough that the threads
# balance when other processes take a core now and then.
cdef Py_ssize_t _CHUNK_ROWS = 1024
cdef int _MAX_THREADS = 64
# A thread this late or this far behind the others (seconds, or this share of the scan) means the cores are busy.
cdef double _LATE = 0.001
cdef double _LATE_SHARE = 0.2
cdef double _SOLO_SECONDS = 1.0


def _default_threads():
    env = os.environ.get('OMP_NUM_THREADS', '')
    return max(1, int(env)) if env.isdigit() else max(1, os.cpu_count() or 1)


cdef int _threads = min(_default_threads(), _MAX_THREADS)
cdef double _solo_until = 0.0


def set_num_threads(n):
    """Threads used by scans of large codebooks (default: OMP_NUM_THREADS, else every core, at most 64)."""
    global _threads
    _threads = min(max(1, _int_arg(n, 'n')), _MAX_THREADS)


def get_num_threads():
    """Threads used by scans of large codebooks (the most; fewer while the cores are found busy)."""
    return _threads


# SAFETY: clock_gettime only writes the local struct.
cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef int _scan_threads(size_t words):
    """Threads for a scan of `words` words: one for small scans and while the cores were recently found busy."""
    if _threads == 1 or words < <size_t>_PARALLEL_WORDS or _now() < _solo_until:
        return 1
    return _threads


# SAFETY: first and last hold nt values each (the callers' per-thread arrays).
cdef bint _unbalanced(const double *first, const double *last, int nt, double t0) noexcept:
    """A thread without work, or one that started late or finished far behind the others: busy cores."""
    cdef double t1 = t0, lo = 0.0, slack
    cdef int i
    for i in range(nt):
        t1 = max(t1, last[i])
    slack = max(_LATE, _LATE_SHARE * (t1 - t0))
    for i in range(nt):
        if first[i] == 0.0 or first[i] - t0 > slack:
            return True
        lo = last[i] if i == 0 else min(lo, last[i])
    return t1 - lo > slack


# SAFETY: as _unbalanced.
cdef void _note_balance(const double *first, const double *last, int nt, double t0):
    """After a parallel scan: if it was unbalanced, scan on one thread for the next _SOLO_SECONDS."""
    global _solo_until
    if nt > 1 and _unbalanced(first, last, nt, t0):
        _solo_until = _now() + _SOLO_SECONDS


def _is_unbalanced(first, last, t0):
    """_unbalanced on Python lists of per-thread times (for tests)."""
    cdef double f[64]
    cdef double l[64]
    cdef int i, nt = min(len(first), _MAX_THREADS)
    for i in range(nt):
        f[i], l[i] = first[i], last[i]
    return bool(_unbalanced(f, l, nt, t0))


def read_words(words, threads=None):
    """XOR of every word of a 1-D uint64 array, on `threads` cores (default: the policy of the top-k scans).

    It only reads, as fast as the cores can load: the benchmark's measure of the machine's read bandwidth.
    """
    w = _word_array(words, len(words), 'words')
    cdef const uint64_t[::1] mw = w
    cdef Py_ssize_t n = mw.shape[0], c, r0, r1, step = _CHUNK_ROWS * 256
    cdef Py_ssize_t nchunks = (n + step - 1) // step
    cdef int nt = _scan_threads(n) if threads is None else min(max(1, _int_arg(threads, 'threads')), _MAX_THREADS)
    cdef int path = _path, tid
    cdef uint64_t x = 0
    cdef double t0 = _now()
    cdef double first[64]
    cdef double last[64]
    if n == 0:
        return 0
    for tid in range(_MAX_THREADS):
        first[tid] = last[tid] = 0.0
    # SAFETY: mw holds n > 0 words; each prange iteration reads its own [r0, r1) range; x is a reduction
    # variable (each thread has its own copy, combined at the end); first / last hold _MAX_THREADS >= nt slots
    # and each thread writes only its own (threadid() < nt).
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule='dynamic'):
            tid = threadid()
            if first[tid] == 0.0:
                first[tid] = _now()
            r0 = c * step
            r1 = min(r0 + step, n)
            x ^= krn_xor_words(path, &mw[r0], r1 - r0)
            last[tid] = _now()
    if threads is None:
        _note_balance(first, last, nt, t0)
    return int(x)
