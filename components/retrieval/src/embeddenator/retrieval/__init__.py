"""Exact top-k retrieval over codebooks of ternary hypervectors."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version('embeddenator-retrieval')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'
