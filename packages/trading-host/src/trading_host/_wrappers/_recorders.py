"""Where the usage counts go: plain numbers read at scrape time in one process, or
prometheus-client's shared values when several worker processes add theirs up.

A request is counted on the hot path of every module version, so in one process the counts are
plain integers that a custom collector (prometheus-client's documented extension point) turns into
metrics when ``/metrics`` is read: about half the cost per request of prometheus-client's own
metric objects, which take a lock per update. Several processes must share their numbers through
prometheus-client's multiprocess files, which only its metric objects write.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

REQUESTS = (
    "trading_api_requests",
    "Requests and WebSocket handshakes, by module version, global version and status class.",
)
LATENCY = ("trading_api_request_duration_seconds", "Time to answer an HTTP request, body included.")
DEPRECATED = ("trading_api_deprecated_requests", "Calls to a module version past its deprecation date, by client.")
ROLLOUT = ("trading_api_rollout_requests", "Requests through a rollout alias, by the global version chosen.")
MOUNT_LABELS = ("module", "version", "global_version")
BOUNDS = Histogram.DEFAULT_BUCKETS
# The "le" labels, written as prometheus-client writes them for its own histograms ("0.005", "+Inf").
_LE = [floatToGoString(b) for b in BOUNDS]  # type: ignore[no-untyped-call]
_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


def status_class(status: int) -> int:
    """1 to 5; anything outside 100-599 counts as a server error."""
    return status // 100 if 100 <= status < 600 else 5


class Series(Protocol):
    """The counts of one mounted module version."""

    def request(self, status: int, seconds: float | None) -> None:
        """Count one answer; ``seconds`` is the latency of an HTTP request, ``None`` for a handshake."""


class Recorder(Protocol):
    registry: CollectorRegistry

    def series(self, module: str, version: str, global_version: str) -> Series: ...

    def deprecated(self, module: str, version: str, client: str) -> None: ...

    def rollout(self, alias: str, global_version: str) -> None: ...


class _LocalSeries:
    __slots__ = ("buckets", "by_class", "labels", "total")

    def __init__(self, labels: tuple[str, str, str]) -> None:
        self.labels = labels
        self.by_class = [0] * 6
        self.buckets = [0] * len(BOUNDS)
        self.total = 0.0

    def request(self, status: int, seconds: float | None) -> None:
        # status_class() inlined: this runs on every request.
        self.by_class[status // 100 if 100 <= status < 600 else 5] += 1
        if seconds is not None:
            self.buckets[bisect_left(BOUNDS, seconds)] += 1
            self.total += seconds


class LocalRecorder:
    """Plain counts in this process, turned into metrics by :meth:`collect` at each scrape."""

    def __init__(self) -> None:
        self._series: list[_LocalSeries] = []
        self._deprecated: dict[tuple[str, str, str], int] = {}
        self._rollout: dict[tuple[str, str], int] = {}
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def series(self, module: str, version: str, global_version: str) -> Series:
        series = _LocalSeries((module, version, global_version))
        self._series.append(series)
        return series

    def deprecated(self, module: str, version: str, client: str) -> None:
        key = (module, version, client)
        self._deprecated[key] = self._deprecated.get(key, 0) + 1

    def rollout(self, alias: str, global_version: str) -> None:
        key = (alias, global_version)
        self._rollout[key] = self._rollout.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(*REQUESTS, labels=[*MOUNT_LABELS, "status_class"])
        latency = HistogramMetricFamily(*LATENCY, labels=list(MOUNT_LABELS))
        # Two apps of one factory may mount the same version under the same labels: add them up.
        merged: dict[tuple[str, str, str], tuple[list[int], list[int], float]] = {}
        for series in self._series:
            by_class, buckets, total = merged.get(series.labels, ([0] * 6, [0] * len(BOUNDS), 0.0))
            merged[series.labels] = (
                [a + b for a, b in zip(by_class, series.by_class, strict=True)],
                [a + b for a, b in zip(buckets, series.buckets, strict=True)],
                total + series.total,
            )
        for labels, (by_class, buckets, total) in merged.items():
            for kind, count in enumerate(by_class):
                if count:
                    requests.add_metric([*labels, _CLASSES[kind]], count)
            if any(buckets):
                counts = accumulate(buckets)
                cumulative = [(_LE[i], c) for i, c in enumerate(counts)]
                latency.add_metric(list(labels), cumulative, total)
        deprecated = CounterMetricFamily(*DEPRECATED, labels=["module", "version", "client"])
        for client_key, count in self._deprecated.items():
            deprecated.add_metric(list(client_key), count)
        rollout = CounterMetricFamily(*ROLLOUT, labels=["alias", "global_version"])
        for alias_key, count in self._rollout.items():
            rollout.add_metric(list(alias_key), count)
        yield from (requests, latency, deprecated, rollout)


class _SharedSeries:
    __slots__ = ("_latency", "by_class", "labels", "latency", "requests")

    def __init__(self, requests: Counter, latency: Histogram, labels: tuple[str, str, str]) -> None:
        self.requests = requests
        self.latency = latency
        self.labels = labels
        # Children are made on first use, so a version that only had handshakes shows no latency.
        self._latency: Any = None
        self.by_class: dict[int, Any] = {}

    def request(self, status: int, seconds: float | None) -> None:
        kind = status_class(status)
        child = self.by_class.get(kind)
        if child is None:
            child = self.by_class[kind] = self.requests.labels(*self.labels, _CLASSES[kind])
        child.inc()
        if seconds is not None:
            if self._latency is None:
                self._latency = self.latency.labels(*self.labels)
            self._latency.observe(seconds)


class SharedRecorder:
    """prometheus-client's metric objects, whose values its multiprocess mode keeps in files."""

    def __init__(self) -> None:
        # A registry of the factory's own, so that several factories in one process do not collide
        # in the global one; in multiprocess mode the scrape reads the files, not this registry.
        self.registry = CollectorRegistry()
        self._requests = Counter(*REQUESTS, [*MOUNT_LABELS, "status_class"], registry=self.registry)
        self._latency = Histogram(*LATENCY, list(MOUNT_LABELS), registry=self.registry)
        self._deprecated = Counter(*DEPRECATED, ["module", "version", "client"], registry=self.registry)
        self._rollout = Counter(*ROLLOUT, ["alias", "global_version"], registry=self.registry)

    def series(self, module: str, version: str, global_version: str) -> Series:
        return _SharedSeries(self._requests, self._latency, (module, version, global_version))

    def deprecated(self, module: str, version: str, client: str) -> None:
        self._deprecated.labels(module, version, client).inc()

    def rollout(self, alias: str, global_version: str) -> None:
        self._rollout.labels(alias, global_version).inc()
