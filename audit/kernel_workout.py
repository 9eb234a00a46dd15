"""Kernel workout: every public operation of embeddenator.vsa on every SIMD path, for memory checkers.

Run under valgrind memcheck and under the sanitizer build (`doit audit`); it is small on purpose (a few
dimensions that hit the SIMD tails) and checks that every path returns what the scalar path returns, so a
checker sees each kernel run and a wrong result still fails. Prints one JSON line: the module file, the paths
run, the operations run and any failure; exits 1 on a failure.

    python audit/kernel_workout.py [--paths scalar,avx2]     # default: every path this CPU offers
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import traceback

import numpy as np

# Word counts around each SIMD width (4 and 8 words) and one default-sized vector.
DIMS = (63, 64, 65, 257, 513, 10_000)


def _digest(value) -> str:
    """A stable fingerprint of a result (vectors by their dense form)."""
    if hasattr(value, 'to_dense'):
        value = value.to_dense()
    if isinstance(value, tuple):
        return '|'.join(_digest(v) for v in value)
    if isinstance(value, np.ndarray):
        return hashlib.sha256(np.ascontiguousarray(value).tobytes() + str(value.dtype).encode()).hexdigest()[:16]
    return repr(round(value, 9) if isinstance(value, float) else value)


def _vector_ops(vsa, a, b):
    yield 'bundle', lambda: vsa.bundle(a, b)
    yield 'bind', lambda: vsa.bind(a, b)
    yield 'permute', lambda: vsa.permute(a, 7)
    yield 'inverse_permute', lambda: vsa.inverse_permute(vsa.permute(a, 7), 7)
    yield 'dot', lambda: vsa.dot(a, b)
    yield 'cosine', lambda: vsa.cosine(a, b)
    yield 'thin', lambda: vsa.thin(a, max(2, a.nnz // 2), 3)
    yield 'bundle_many', lambda: vsa.bundle_many([a, b, a])
    yield 'methods', lambda: (a.bundle(b), a.bind(b), a.permute(3), a.dot(b))
    yield 'dense', lambda: type(a).from_dense(a.to_dense())
    yield 'to_sparse', lambda: a.to_sparse() if hasattr(a, 'to_sparse') else a


def _matrix_ops(vsa, vectors):
    packed = [v.to_packed() for v in vectors]
    m = vsa.PackedMatrix.from_vectors(packed)
    yield 'matrix_from_dense', lambda: vsa.PackedMatrix.from_dense(np.stack([v.to_dense() for v in vectors])).words
    yield 'matrix_from_buffer', lambda: vsa.PackedMatrix.from_buffer(m.dim, len(m), m.words.copy()).row(1)
    yield 'top_k', lambda: m.top_k(packed[0], 3)
    yield 'top_k_all', lambda: m.top_k(packed[1], len(m) + 5)
    yield 'top_k_batch', lambda: m.top_k_batch(packed[:2], 2)
    yield 'top_k_batch_matrix', lambda: m.top_k_batch(m, 1)


def operations(vsa):
    """(name, thunk) for every operation on every representation and dimension of the workout."""
    for words in (0, 1, 3, 4, 5, 7, 8, 9, 157):
        data = np.arange(words, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        yield f'popcount[{words}]', lambda d=data: vsa.popcount(d)
    for width, length in ((1, 0), (1, 7), (8, 1), (8, 2043), (1250, 1250), (1250, 2600), (1250, 22_001)):
        data = (np.arange(length, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) >> np.uint64(56)).astype(np.uint8)
        sums = vsa.bit_sums(data, width)
        rank = np.random.default_rng(width).permutation(sums.size).astype(np.int64)
        yield f'bit_sums[{width},{length}]', lambda d=data, w=width: vsa.bit_sums(d, w)
        yield f'keep_largest[{width},{length}]', lambda s=sums, r=rank: vsa.keep_largest(s, 200, r)
    for dim in DIMS:
        nnz = min(vsa.DEFAULT_NNZ, (dim // 4) * 2)
        vectors = [vsa.random(dim, nnz, seed=s) for s in range(4)]
        a, b = vectors[:2]
        for rep, convert in (('sparse', lambda v: v), ('packed', lambda v: v.to_packed()),
                             ('block', lambda v: v.to_block_sparse())):
            for name, thunk in _vector_ops(vsa, convert(a), convert(b)):
                yield f'{rep}.{name}[{dim}]', thunk
        for name, thunk in _matrix_ops(vsa, vectors):
            yield f'{name}[{dim}]', thunk


def run(paths: list[str]) -> dict:
    import embeddenator.vsa as vsa
    from embeddenator.vsa import _kernels
    results, failures, reference = {}, [], {}
    for path in paths:
        _kernels.set_simd_path(path)
        for name, thunk in operations(vsa):
            try:
                results[name] = _digest(thunk())
            except Exception:    # report every failing operation, then fail the run
                failures.append(f'{path} {name}: {traceback.format_exc(limit=3).strip().splitlines()[-1]}')
                continue
            if reference.setdefault(name, results[name]) != results[name]:
                failures.append(f'{path} {name}: result differs from the {paths[0]} path')
    return {'module': _kernels.__file__, 'paths': paths, 'available': list(vsa.available_paths()),
            'operations': len(reference), 'failures': failures}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--paths', help='comma-separated SIMD paths (default: all this CPU offers)')
    args = parser.parse_args(argv)
    import embeddenator.vsa as vsa
    paths = args.paths.split(',') if args.paths else list(vsa.available_paths())
    report = run(paths)
    print(json.dumps(report))
    return 1 if report['failures'] else 0


if __name__ == '__main__':
    sys.exit(main())
