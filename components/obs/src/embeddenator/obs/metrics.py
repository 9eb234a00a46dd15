"""Metric families and their labelled series: counters, gauges, histograms and info.

A family owns one lock shared by its series; every update is a few attribute operations under that lock, so
recording is thread-safe and costs well under a microsecond. Nothing is exported until someone asks.
"""
from __future__ import annotations

import re
import threading
from bisect import bisect_left
from typing import Iterator, Mapping

_NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
_LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*\Z')

# Durations from a microsecond to ten seconds: kernels take microseconds, ingests take seconds.
DURATION_BUCKETS = (1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
                    1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ObsError(ValueError):
    """A metric used inconsistently: bad name, other kind or other label names than at first use."""


def check_name(name: str, labelnames: tuple[str, ...]) -> None:
    """ObsError unless `name` and every label name are valid Prometheus names (labels may not start with `__`).

    >>> from embeddenator.obs.metrics import ObsError, check_name
    >>> check_name('retrieval_queries_total', ('strategy',))
    >>> try:
    ...     check_name('2fast', ())
    ... except ObsError as err:
    ...     print(err)
    metric name '2fast' is invalid: use letters, digits, "_" and ":", not starting with a digit
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ObsError(f'metric name {name!r} is invalid: use letters, digits, "_" and ":", not starting with a digit')
    for label in labelnames:
        if not _LABEL.match(label) or label.startswith('__'):
            raise ObsError(f'label name {label!r} of metric {name!r} is invalid: use letters, digits and "_"')


class Family:
    """All series of one metric name; `series(labels)` returns (creating once) the series for those values."""
    kind = 'untyped'

    def __init__(self, name: str, help: str, labelnames: tuple[str, ...], **options):
        self.name, self.help, self.labelnames = name, help, labelnames
        self.lock = threading.Lock()
        self._series: dict[tuple[str, ...], object] = {}
        self._options = options

    def series(self, labels: Mapping[str, object]):
        """The series for these label values, created on first use; ObsError if the label names differ."""
        if tuple(sorted(labels)) != self.labelnames:
            raise ObsError(f'metric {self.name!r} has labels {list(self.labelnames)}, got {sorted(labels)}: '
                           'pass the same label names at every use')
        key = tuple(str(labels[k]) for k in self.labelnames)
        found = self._series.get(key)
        if found is None:
            with self.lock:
                found = self._series.setdefault(key, self._new_series())
        return found

    def items(self) -> Iterator[tuple[dict[str, str], object]]:
        """(labels, series) pairs sorted by label values; a copy taken under the lock, safe while others record."""
        with self.lock:
            pairs = list(self._series.items())
        for key, series in sorted(pairs):
            yield dict(zip(self.labelnames, key)), series

    def _new_series(self):
        raise NotImplementedError


class Counter:
    """A value that only goes up (events, bytes, items)."""
    __slots__ = ('_lock', 'value')

    def __init__(self, lock: threading.Lock):
        self._lock, self.value = lock, 0

    def inc(self, amount: int | float = 1) -> None:
        """Add `amount`; ObsError if it is negative (a value that goes down is a gauge)."""
        if amount < 0:
            raise ObsError(f'a counter only goes up; got inc({amount}): use a gauge for values that go down')
        with self._lock:
            self.value += amount

    def snapshot(self) -> dict:
        """The current value as plain data, `{'value': ...}`."""
        return {'value': self.value}


class Gauge:
    """A value that goes up and down, or is set (sizes, ratios, the chosen SIMD path's width)."""
    __slots__ = ('_lock', 'value')

    def __init__(self, lock: threading.Lock):
        self._lock, self.value = lock, 0

    def set(self, value: int | float) -> None:
        """Replace the value."""
        self.value = value      # one store: atomic under the GIL and without it

    def inc(self, amount: int | float = 1) -> None:
        """Add `amount` (may be negative)."""
        with self._lock:
            self.value += amount

    def dec(self, amount: int | float = 1) -> None:
        """Subtract `amount`."""
        self.inc(-amount)

    def snapshot(self) -> dict:
        """The current value as plain data, `{'value': ...}`."""
        return {'value': self.value}


class Histogram:
    """Observations counted into cumulative buckets, with count, sum, min and max."""
    __slots__ = ('_lock', 'bounds', 'counts', 'count', 'sum', 'min', 'max')

    def __init__(self, lock: threading.Lock, bounds: tuple[float, ...]):
        self._lock, self.bounds = lock, bounds
        self.counts = [0] * (len(bounds) + 1)     # last slot: above every bound (+Inf)
        self.count, self.sum, self.min, self.max = 0, 0.0, None, None

    def observe(self, value: float) -> None:
        """Count `value` into the first bucket whose bound is >= value (bounds are inclusive, as in Prometheus).

        >>> from embeddenator.obs import Registry
        >>> h = Registry().histogram('payload_bytes', buckets=[10, 100])
        >>> for size in (5, 50, 500):
        ...     h.observe(size)
        >>> h.cumulative()
        [('10.0', 1), ('100.0', 2), ('+Inf', 3)]
        >>> h.count, h.sum, h.min, h.max
        (3, 555.0, 5, 500)
        """
        slot = bisect_left(self.bounds, value)    # bucket `le` bound is inclusive, as in Prometheus
        with self._lock:
            self.counts[slot] += 1
            self.count += 1
            self.sum += value
            self.min = value if self.min is None or value < self.min else self.min
            self.max = value if self.max is None or value > self.max else self.max

    def cumulative(self) -> list[tuple[str, int]]:
        """(bound, observations <= bound) per bucket, ending with '+Inf' (the total), as Prometheus exports them."""
        out, total = [], 0
        for bound, n in zip((*map(repr, self.bounds), '+Inf'), self.counts):
            total += n
            out.append((bound, total))
        return out

    def snapshot(self) -> dict:
        """Count, sum, min, max (None before any observation) and the cumulative buckets as plain data."""
        return {'count': self.count, 'sum': self.sum, 'min': self.min, 'max': self.max,
                'buckets': dict(self.cumulative())}


class Info:
    """Constant facts about the running process as string pairs (the SIMD path in use, versions)."""
    __slots__ = ('_lock', 'value')

    def __init__(self, lock: threading.Lock):
        self._lock, self.value = lock, {}

    def set(self, value: Mapping[str, object]) -> None:
        """Replace the facts; keys and values are stored as strings."""
        self.value = {str(k): str(v) for k, v in value.items()}

    def snapshot(self) -> dict:
        """A copy of the facts as plain data, `{'value': {...}}`."""
        return {'value': dict(self.value)}


class CounterFamily(Family):
    """All Counter series of one metric name."""
    kind = 'counter'

    def _new_series(self):
        return Counter(self.lock)


class GaugeFamily(Family):
    """All Gauge series of one metric name."""
    kind = 'gauge'

    def _new_series(self):
        return Gauge(self.lock)


class HistogramFamily(Family):
    """All Histogram series of one metric name; they share the bucket bounds given at first use."""
    kind = 'histogram'

    def _new_series(self):
        return Histogram(self.lock, self._options.get('buckets') or DURATION_BUCKETS)


class InfoFamily(Family):
    """The one Info series of one metric name (info metrics carry no labels)."""
    kind = 'info'

    def _new_series(self):
        return Info(self.lock)


KINDS = {f.kind: f for f in (CounterFamily, GaugeFamily, HistogramFamily, InfoFamily)}
