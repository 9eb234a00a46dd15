"""The holographic filesystem: directory trees as engrams, extracted bit-perfectly."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version('embeddenator-fs')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'
