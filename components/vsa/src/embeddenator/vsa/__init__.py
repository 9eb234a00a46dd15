"""Ternary hypervectors for vector symbolic architectures, with compiled SIMD kernels.

Three representations of a vector in {-1, 0, +1}^dim with one meaning (`SparseVec`, `PackedVec`,
`BlockSparseVec`), a packed codebook with exact top-k (`PackedMatrix`), its inverted index for sparse queries
(`PostingLists`, fed by `sparse_rows`; `pack_rows` appends rows to a codebook buffer), and the operations both as
methods (`a.bind(b)`) and as functions (`bind(a, b)`); `bit_sums` bundles the bits of a byte string's
pieces and `keep_largest` thins such sums.
"""
import warnings as _warnings
from importlib.metadata import PackageNotFoundError, version as _version

from embeddenator.vsa._kernels import (
    DEFAULT_DIM, DEFAULT_NNZ, BlockSparseVec, PackedMatrix, PackedVec, PostingLists, SparseVec, aligned_words,
    available_paths, bind, bit_sums, bundle, bundle_many, cosine, dot, get_num_threads, inverse_permute, keep_largest,
    pack_rows, permute, popcount, random, row_layout, set_num_threads, simd_path, sparse_rows, thin, _PATH_WARNINGS,
)

from embeddenator import obs as _obs

for _why in _PATH_WARNINGS:   # EMBEDDENATOR_SIMD / _DISABLE_SIMD not honoured: the widest path the CPU has is used
    _warnings.warn(_why, RuntimeWarning, stacklevel=2)

try:
    __version__ = _version('embeddenator-vsa')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'


def report_simd_path() -> None:
    """Record the SIMD path the kernels dispatch to as the `vsa_simd` info metric of embeddenator.obs."""
    _obs.info('vsa_simd', 'SIMD path the vsa kernels dispatch to', path=simd_path(),
              available=','.join(available_paths()))


report_simd_path()  # the path is chosen once at import (EMBEDDENATOR_SIMD or the widest the CPU has)

__all__ = [
    'SparseVec', 'PackedVec', 'BlockSparseVec', 'PackedMatrix', 'PostingLists', 'sparse_rows', 'pack_rows',
    'bundle', 'bundle_many', 'bind', 'permute', 'inverse_permute', 'dot', 'cosine', 'random', 'thin',
    'simd_path', 'available_paths', 'DEFAULT_DIM', 'DEFAULT_NNZ',
    'popcount', 'bit_sums', 'keep_largest', 'row_layout', 'aligned_words', 'set_num_threads', 'get_num_threads',
    'report_simd_path',
    '__version__',
]
