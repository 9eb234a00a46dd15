"""Observability: counters, gauges, histograms and timers with JSON and Prometheus export.

Module-level helpers record into one process-wide registry::

    from embeddenator import obs
    obs.info('vsa_simd', path='avx2')                 # constant facts
    obs.counter('retrieval_queries_total', strategy='scan').inc()
    with obs.timer('retrieval_query_seconds', strategy='scan'):
        ...
    print(obs.to_prometheus())
"""
from importlib.metadata import PackageNotFoundError, version as _version

from embeddenator.obs.export import snapshot, to_json, to_prometheus
from embeddenator.obs.metrics import DURATION_BUCKETS, ObsError
from embeddenator.obs.registry import REGISTRY, Registry, Timer

try:
    __version__ = _version('embeddenator-obs')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'

counter = REGISTRY.counter
gauge = REGISTRY.gauge
histogram = REGISTRY.histogram
info = REGISTRY.info
timer = REGISTRY.timer
reset = REGISTRY.reset

__all__ = ['DURATION_BUCKETS', 'ObsError', 'REGISTRY', 'Registry', 'Timer', 'counter', 'gauge', 'histogram',
           'info', 'reset', 'snapshot', 'timer', 'to_json', 'to_prometheus', '__version__']
