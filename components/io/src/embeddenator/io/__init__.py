"""On-disk formats: engram and codebook files with a versioned, checksummed envelope."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version('embeddenator-io')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'
