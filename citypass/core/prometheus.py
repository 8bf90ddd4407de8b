"""Prometheus metrics with prometheus-client: one CollectorRegistry per daemon.

Two shapes, both exposed with `prometheus_client.generate_latest(registry)`:

* `MetricSet`: a daemon that counts events itself declares its metrics as class attributes
  (`counter`, `gauge`, `histogram`); each instance gets a registry of its own, so several
  daemons can live in one process (the tests run many).
* `LiveCollector`: a daemon whose figures already live in its state (a head block, a queue
  depth, counters kept by its parts) reads them at scrape time; `gauge_value`, `counter_value`
  and `counter_by` build the families it yields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar, overload

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

M = TypeVar("M", Counter, Gauge, Histogram)


class _Declared(Generic[M]):
    """A metric declared on a MetricSet class; MetricSet.__init__ makes it in the registry."""

    def __init__(self, make: Callable[[CollectorRegistry], M]) -> None:
        self.make: Callable[[CollectorRegistry], M] = make
        self.attribute = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Declared[M]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> M: ...
    def __get__(self, instance: object | None, owner: type) -> _Declared[M] | M:
        if instance is None:
            return self
        # MetricSet.__init__ stores the made metric on the instance, which shadows this.
        raise AttributeError(f"{self.attribute} is made by MetricSet.__init__")


class MetricSet:
    """The declared metrics of one daemon, in a CollectorRegistry of its own (`registry`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for klass in reversed(type(self).__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, _Declared):
                    setattr(self, name, value.make(self.registry))


def counter(name: str, documentation: str, *labels: str) -> _Declared[Counter]:
    return _Declared(lambda registry: Counter(name, documentation, labels, registry=registry))


def gauge(name: str, documentation: str, *labels: str) -> _Declared[Gauge]:
    return _Declared(lambda registry: Gauge(name, documentation, labels, registry=registry))


def histogram(name: str, documentation: str, buckets: Sequence[float]) -> _Declared[Histogram]:
    return _Declared(
        lambda registry: Histogram(name, documentation, buckets=buckets, registry=registry)
    )


class LiveCollector(Collector):
    """Families read from live state at every scrape: `read()` yields them in exposition order."""

    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        return list(self.read())

    @classmethod
    def registry(cls, read: Callable[[], Iterable[Metric]]) -> CollectorRegistry:
        """A registry holding only this collector."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(cls(read))
        return registry


def gauge_value(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def counter_value(name: str, documentation: str, value: float) -> CounterMetricFamily:
    """A counter named with its `_total` suffix, as it appears on /metrics."""
    return CounterMetricFamily(name, documentation, value=value)


def counter_by(
    name: str, documentation: str, label: str, values: Mapping[str, float]
) -> CounterMetricFamily:
    """One counter sample per label value, e.g. refused reads by reason."""
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family
