"""Exports of a registry: a JSON-ready snapshot, and Prometheus text rendered by `prometheus_client`."""
from __future__ import annotations

import json

from embeddenator.obs.registry import REGISTRY, Registry


def snapshot(registry: Registry = REGISTRY) -> dict:
    """Every metric as plain data: {name: {kind, help, series: [{labels, value | count/sum/min/max/buckets}]}}."""
    return {family.name: {'kind': family.kind, 'help': family.help,
                          'series': [{'labels': labels, **series.snapshot()} for labels, series in family.items()]}
            for family in registry.families()}


def to_json(registry: Registry = REGISTRY, indent: int | None = 2) -> str:
    """`snapshot(registry)` as JSON under a top-level `metrics` key, keys sorted.

    >>> from embeddenator.obs import Registry, to_json
    >>> reg = Registry()
    >>> reg.gauge('queue_depth').set(3)
    >>> print(to_json(reg, indent=None))
    {"metrics": {"queue_depth": {"help": "", "kind": "gauge", "series": [{"labels": {}, "value": 3}]}}}
    """
    return json.dumps({'metrics': snapshot(registry)}, indent=indent, sort_keys=True)


class _Collector:
    """A prometheus_client custom collector over our registry (the library writes the exposition format)."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def collect(self):
        from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
                                            InfoMetricFamily)
        for family in self.registry.families():
            names = list(family.labelnames)
            doc = family.help or family.name
            if family.kind == 'info':
                out = InfoMetricFamily(family.name, doc)
                for _, series in family.items():
                    out.add_metric([], series.value)
                yield out
                continue
            out = {'counter': CounterMetricFamily, 'gauge': GaugeMetricFamily,
                   'histogram': HistogramMetricFamily}[family.kind](family.name, doc, labels=names)
            for labels, series in family.items():
                values = [labels[n] for n in names]
                if family.kind == 'histogram':
                    out.add_metric(values, buckets=series.cumulative(), sum_value=series.sum)
                else:
                    out.add_metric(values, series.value)
            yield out


def to_prometheus(registry: Registry = REGISTRY) -> str:
    """The registry in the Prometheus text exposition format (version 0.0.4).

    >>> from embeddenator.obs import Registry, to_prometheus
    >>> reg = Registry()
    >>> reg.counter('jobs_total', 'Jobs done.', queue='a').inc(2)
    >>> print(to_prometheus(reg), end='')
    # HELP jobs_total Jobs done.
    # TYPE jobs_total counter
    jobs_total{queue="a"} 2.0
    """
    from prometheus_client import CollectorRegistry, generate_latest
    target = CollectorRegistry(auto_describe=False)
    target.register(_Collector(registry))
    return generate_latest(target).decode('utf-8')
