"""Conversions between hypervectors and numpy arrays, .npy/.npz, JSON and float embeddings."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version('embeddenator-interop')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'
