"""Prometheus metrics of one app instance (own registry, so several apps can live in a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "citypass_api_requests_total", "HTTP requests by route template, method and status",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "citypass_api_request_seconds", "Request latency by route template",
            ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.relays = Counter(
            "citypass_api_relays_total", "Relay attempts by outcome",
            ["outcome"], registry=self.registry,
        )  # fmt: skip

        self.relay_batch_size = Histogram(
            "citypass_api_relay_batch_requests", "ForwardRequests per executeBatch transaction",
            registry=self.registry, buckets=(1, 2, 5, 10, 20, 50, 100, 200),
        )  # fmt: skip
        self.relay_batch_seconds = Histogram(
            "citypass_api_relay_batch_seconds",
            "Time to check, simulate and send one batch (the relay's pipeline stage)",
            registry=self.registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
        )  # fmt: skip

        self.deletion_records = Gauge(
            "citypass_api_deletion_records",
            "Deletion records in the API's key table (its sweeps' and citypass-api sweep's)",
            ["kind", "reason"], registry=self.registry,
        )  # fmt: skip

    def relay_outcome(self, outcome: str) -> None:
        self.relays.labels(outcome).inc()

    def relay_batch(self, requests: int, seconds: float) -> None:
        self.relay_batch_size.observe(requests)
        self.relay_batch_seconds.observe(seconds)
