"""The registry of metric families, and the process-wide default one behind the module-level helpers."""
from __future__ import annotations

import threading
import time
from typing import Iterator, Sequence

from embeddenator.obs.metrics import KINDS, Counter, Family, Gauge, Histogram, Info, ObsError, check_name


class Registry:
    """Metric families by name; a name keeps the kind and label names of its first use."""

    def __init__(self):
        self._lock = threading.Lock()
        self._families: dict[str, Family] = {}

    def family(self, kind: str, name: str, help: str, labelnames: Sequence[str], **options) -> Family:
        """The family `name`, created on first use; ObsError for an invalid name or a different kind.

        `help` and `options` (histogram buckets) count only at first use.
        """
        found = self._families.get(name)
        if found is None:
            labelnames = tuple(sorted(labelnames))
            check_name(name, labelnames)
            with self._lock:
                found = self._families.setdefault(name, KINDS[kind](name, help, labelnames, **options))
        if found.kind != kind:
            raise ObsError(f'metric {name!r} is a {found.kind}, used here as a {kind}: give it another name')
        return found

    def counter(self, name: str, help: str = '', **labels) -> Counter:
        """The counter series `name` with these label values; every use must pass the same label names.

        >>> from embeddenator.obs import ObsError, Registry
        >>> reg = Registry()
        >>> reg.counter('jobs_total', 'Jobs done.', queue='a').inc(2)
        >>> reg.counter('jobs_total', queue='a').inc()
        >>> reg.counter('jobs_total', queue='a').value, reg.counter('jobs_total', queue='b').value
        (3, 0)
        >>> try:
        ...     reg.counter('jobs_total')
        ... except ObsError as err:
        ...     print(err)
        metric 'jobs_total' has labels ['queue'], got []: pass the same label names at every use
        """
        return self.family('counter', name, help, labels).series(labels)

    def gauge(self, name: str, help: str = '', **labels) -> Gauge:
        """The gauge series `name` with these label values."""
        return self.family('gauge', name, help, labels).series(labels)

    def histogram(self, name: str, help: str = '', buckets: Sequence[float] | None = None, **labels) -> Histogram:
        """The histogram series `name`; `buckets` (upper bounds, any order) default to DURATION_BUCKETS."""
        bounds = tuple(sorted(float(b) for b in buckets)) if buckets else None
        return self.family('histogram', name, help, labels, buckets=bounds).series(labels)

    def info(self, name: str, help: str = '', **value) -> Info:
        """Record constant facts under `name` (replacing earlier ones) and return the Info series."""
        series = self.family('info', name, help, ()).series({})
        series.set(value)
        return series

    def timer(self, name: str, help: str = '', **labels) -> 'Timer':
        """A Timer that records its block's duration, in seconds, into the histogram `name`.

        >>> from embeddenator.obs import Registry
        >>> reg = Registry()
        >>> with reg.timer('step_seconds', step='parse') as t:
        ...     total = sum(range(1000))
        >>> t.seconds >= 0, reg.histogram('step_seconds', step='parse').count
        (True, 1)
        """
        return Timer(self.histogram(name, help, **labels))

    def families(self) -> Iterator[Family]:
        """Every family, sorted by name (a copy taken under the lock)."""
        with self._lock:
            found = sorted(self._families.items())
        for _, family in found:
            yield family

    def reset(self) -> None:
        """Forget every metric (tests; a long-running process that exported and wants a fresh window)."""
        with self._lock:
            self._families.clear()


class Timer:
    """Context manager timing its block with the monotonic nanosecond clock into a histogram, in seconds."""
    __slots__ = ('histogram', 'start_ns', 'ns')

    def __init__(self, histogram: Histogram):
        self.histogram, self.start_ns, self.ns = histogram, 0, 0

    def __enter__(self) -> 'Timer':
        self.start_ns = time.perf_counter_ns()
        return self

    def __exit__(self, *exc) -> None:
        self.ns = time.perf_counter_ns() - self.start_ns
        self.histogram.observe(self.ns / 1e9)

    @property
    def seconds(self) -> float:
        return self.ns / 1e9


REGISTRY = Registry()
