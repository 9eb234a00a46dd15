"""Ternary hypervectors for vector symbolic architectures, with compiled SIMD kernels."""
from importlib.metadata import PackageNotFoundError, version as _version

from embeddenator.vsa._kernels import available_paths, popcount, simd_path

try:
    __version__ = _version('embeddenator-vsa')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'

__all__ = ['available_paths', 'popcount', 'simd_path', '__version__']
