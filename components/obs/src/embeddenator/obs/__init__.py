"""Observability: counters, gauges, histograms and timers with JSON and Prometheus export."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version('embeddenator-obs')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'
