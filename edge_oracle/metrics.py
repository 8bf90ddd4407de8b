"""Prometheus metrics of one edge daemon, in its own registry (several can live in one test
process)."""

from __future__ import annotations

from citypass.core.prometheus import MetricSet, counter, gauge, histogram

EVENTS_PER_BATCH = (1, 5, 10, 50, 100, 250, 500)
LATENCY_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 14400)


class EdgeMetrics(MetricSet):
    readings = counter("citypass_edge_readings", "Input lines read, by input format.", "source")
    normalised = counter(
        "citypass_edge_events_normalised", "Events produced, by event type.", "event_type"
    )
    malformed = counter(
        "citypass_edge_malformed_lines", "Input lines skipped as malformed, by reason.", "reason"
    )
    personal_dropped = counter(
        "citypass_edge_personal_fields_dropped",
        "Personal-looking input fields (plates, faces, names) dropped, never forwarded.",
    )
    plates = counter(
        "citypass_edge_plates",
        "Plates cameras read, by outcome (hashed into a tag / bad_format / no_month_key); the "
        "plate itself is always dropped.",
        "outcome",
    )
    duplicates = counter(
        "citypass_edge_duplicate_readings", "Readings repeating the known state (no event)."
    )
    outbox_depth = gauge("citypass_edge_outbox_depth", "Signed events waiting for delivery.")
    delivered = counter(
        "citypass_edge_events_delivered",
        "Events the oracle daemon answered for, by outcome (accepted / duplicate).",
        "outcome",
    )
    dead_lettered = counter(
        "citypass_edge_events_dead_lettered",
        "Events the oracle daemon refused for good, by reason.",
        "reason",
    )
    retries = counter(
        "citypass_edge_delivery_retries", "Delivery attempts to be repeated, by cause.", "cause"
    )
    batch_size = histogram(
        "citypass_edge_batch_events", "Events per delivered batch.", EVENTS_PER_BATCH
    )
    latency = histogram(
        "citypass_edge_delivery_latency_seconds",
        "From the event entering the outbox to the daemon's answer.",
        LATENCY_SECONDS,
    )
