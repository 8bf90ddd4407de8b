"""Prometheus metrics of the daemon (its own registry, served on /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "citypass_oracle_events_accepted", "Events verified and stored", registry=r
        )
        self.rejected = Counter(
            "citypass_oracle_events_rejected",
            "Events refused, by reason",
            ["reason"],
            registry=r,
        )
        self.duplicates = Counter(
            "citypass_oracle_events_duplicate", "Events received again (idempotent)", registry=r
        )
        self.requests_refused = Counter(
            "citypass_oracle_requests_refused",
            "Whole requests refused (400 malformed, 413 oversized)",
            ["reason"],
            registry=r,
        )
        self.batch_size = Histogram(
            "citypass_oracle_batch_events",
            "Events per ingest request",
            buckets=(1, 5, 10, 50, 100, 250, 500),
            registry=r,
        )
        self.report_slots = Histogram(
            "citypass_oracle_report_slots",
            "Observed slots per occupancy report",
            buckets=(1, 4, 16, 64, 256, 1024, 4096),
            registry=r,
        )
        self.reports = Counter(
            "citypass_oracle_reports_confirmed", "Occupancy reports applied on chain", registry=r
        )
        self.report_gas = Histogram(
            "citypass_oracle_report_gas",
            "Gas used per occupancy report",
            buckets=(50e3, 100e3, 200e3, 400e3, 800e3, 1.6e6, 3.2e6, 6.4e6),
            registry=r,
        )
        self.incidents = Counter(
            "citypass_oracle_incidents_filed", "Incidents sent to the IncidentRegistry", registry=r
        )
        self.lag = Histogram(
            "citypass_oracle_e2e_lag_seconds",
            "Sensor event time to report receipt",
            buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 300, 900, 3600),
            registry=r,
        )
        self.inbox_depth = Gauge(
            "citypass_oracle_inbox_depth", "Accepted events not yet in a report", registry=r
        )
        self.ledger_up = Gauge("citypass_oracle_ledger_up", "1 if the ledger answers", registry=r)
        self.submission_errors = Counter(
            "citypass_oracle_submission_errors",
            "Failed report/incident submissions, by kind",
            ["kind"],
            registry=r,
        )
        self.aggregation = Gauge(
            "citypass_oracle_aggregation_events",
            "Aggregation counters since the inbox was created (disagreement, flaps, ...)",
            ["kind"],
            registry=r,
        )
