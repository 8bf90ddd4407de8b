"""Prometheus metrics of one edge daemon, in its own registry (several can live in one test
process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class EdgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.readings = Counter(
            "citypass_edge_readings", "Input lines read, by input format.", ["source"], registry=r
        )
        self.normalised = Counter(
            "citypass_edge_events_normalised",
            "Events produced, by event type.",
            ["event_type"],
            registry=r,
        )
        self.malformed = Counter(
            "citypass_edge_malformed_lines",
            "Input lines skipped as malformed, by reason.",
            ["reason"],
            registry=r,
        )
        self.personal_dropped = Counter(
            "citypass_edge_personal_fields_dropped",
            "Personal-looking input fields (plates, faces, names) dropped, never forwarded.",
            registry=r,
        )
        self.duplicates = Counter(
            "citypass_edge_duplicate_readings",
            "Readings repeating the known state (no event).",
            registry=r,
        )
        self.outbox_depth = Gauge(
            "citypass_edge_outbox_depth", "Signed events waiting for delivery.", registry=r
        )
        self.delivered = Counter(
            "citypass_edge_events_delivered",
            "Events the oracle daemon answered for, by outcome (accepted / duplicate).",
            ["outcome"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "citypass_edge_events_dead_lettered",
            "Events the oracle daemon refused for good, by reason.",
            ["reason"],
            registry=r,
        )
        self.retries = Counter(
            "citypass_edge_delivery_retries",
            "Delivery attempts to be repeated, by cause.",
            ["cause"],
            registry=r,
        )
        self.batch_size = Histogram(
            "citypass_edge_batch_events",
            "Events per delivered batch.",
            buckets=(1, 5, 10, 50, 100, 250, 500),
            registry=r,
        )
        self.latency = Histogram(
            "citypass_edge_delivery_latency_seconds",
            "From the event entering the outbox to the daemon's answer.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 14400),
            registry=r,
        )
