"""Prometheus metrics of the daemon (its own registry, served on /metrics)."""

from __future__ import annotations

from citypass.core.prometheus import MetricSet, counter, gauge, histogram

EVENTS_PER_BATCH = (1, 5, 10, 50, 100, 250, 500)
SLOTS_PER_REPORT = (1, 4, 16, 64, 256, 1024, 4096)
GAS_PER_REPORT = (50e3, 100e3, 200e3, 400e3, 800e3, 1.6e6, 3.2e6, 6.4e6)
LAG_SECONDS = (0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 300, 900, 3600)


class Metrics(MetricSet):
    accepted = counter("citypass_oracle_events_accepted", "Events verified and stored")
    rejected = counter("citypass_oracle_events_rejected", "Events refused, by reason", "reason")
    duplicates = counter("citypass_oracle_events_duplicate", "Events received again (idempotent)")
    requests_refused = counter(
        "citypass_oracle_requests_refused",
        "Whole requests refused (400 malformed, 413 oversized)",
        "reason",
    )
    batch_size = histogram(
        "citypass_oracle_batch_events", "Events per ingest request", EVENTS_PER_BATCH
    )
    report_slots = histogram(
        "citypass_oracle_report_slots", "Observed slots per occupancy report", SLOTS_PER_REPORT
    )
    reports = counter("citypass_oracle_reports_confirmed", "Occupancy reports applied on chain")
    report_gas = histogram(
        "citypass_oracle_report_gas", "Gas used per occupancy report", GAS_PER_REPORT
    )
    incidents = counter("citypass_oracle_incidents_filed", "Incidents sent to the IncidentRegistry")
    lag = histogram(
        "citypass_oracle_e2e_lag_seconds", "Sensor event time to report receipt", LAG_SECONDS
    )
    plate_reads = counter(
        "citypass_oracle_plate_reads",
        "Cameras' plate tags settled, by outcome (checked_in, matched, mismatch, unregistered, "
        "no_lease, no_evidence, no_api)",
        "outcome",
    )
    inbox_depth = gauge("citypass_oracle_inbox_depth", "Accepted events not yet in a report")
    ledger_up = gauge("citypass_oracle_ledger_up", "1 if the ledger answers")
    submission_errors = counter(
        "citypass_oracle_submission_errors", "Failed report/incident submissions, by kind", "kind"
    )
    aggregation = gauge(
        "citypass_oracle_aggregation_events",
        "Aggregation counters since the inbox was created (disagreement, flaps, ...)",
        "kind",
    )
    shredded = counter(
        "citypass_oracle_records_shredded",
        "Records shredded by this daemon's retention sweeps (data key destroyed), by kind and"
        " reason",
        "kind",
        "reason",
    )
    deletion_records = gauge(
        "citypass_oracle_deletion_records",
        "Deletion records in the evidence key table (every sweep's, the CLI's too)",
        "kind",
        "reason",
    )
    held = gauge("citypass_oracle_evidence_held", "Evidence objects on an inspector's hold")
    # Independent oracles (oracles/quorum.py proposes, oracles/cosign.py co-signs).
    cosigned = counter("citypass_oracle_cosigned", "Peers' report proposals this daemon co-signed")
    cosign_refused = counter(
        "citypass_oracle_cosign_refused",
        "Peers' report proposals (or requests) this daemon refused to co-sign, by reason",
        "reason",
    )
    proposals = counter(
        "citypass_oracle_proposals",
        "This daemon's report proposals, by outcome (landed, no_quorum, duplicate, reverted)",
        "outcome",
    )
    peer_answers = counter(
        "citypass_oracle_peer_answers",
        "Peers' answers to this daemon's proposals: signed, a refusal reason, or unreachable",
        "answer",
    )
    superseded = counter(
        "citypass_oracle_reports_superseded",
        "Own pending reports whose sequence another daemon's report took (slots re-queued)",
    )
