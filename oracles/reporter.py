"""Occupancy reports: fold new inbox events into the aggregator, record the resulting reports
(with the aggregator checkpoint) in the inbox, then submit pending reports in sequence order.

Restart rule: before submitting, `lastSequence()` is read from the chain. A pending report whose
sequence is at or below it was applied (perhaps by a run that died before recording the
receipt) and is marked confirmed; the next one is sent with exactly the next sequence. So a
report is never applied twice and never skipped."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from citypass.protocol.occupancy_report import (
    OccupancyReport,
    ReportDomain,
    build_report,
    report_args,
    report_from_message,
    sign_report_quorum,
)
from citypass.protocol.reverts import decode_revert
from oracles.aggregate.aggregator import Aggregator
from oracles.aggregate.words import split_by_words
from oracles.errors import SubmissionError
from oracles.inbox import Inbox, ReportRecord
from oracles.ledger import Ledger
from oracles.metrics import Metrics

log = logging.getLogger("oracles.reporter")
STALE_MARGIN_SECONDS = 300


# A service object, compared and hashed by identity; no repr (it holds the submitter key).
@dataclass(eq=False, repr=False)
class Reporter:
    inbox: Inbox
    ledger: Ledger
    submitter: LocalAccount
    signer_keys: list[bytes]
    aggregator: Aggregator
    metrics: Metrics
    max_report_words: int
    # Restored from the inbox's checkpoint, not passed in.
    cursor: int = field(init=False)
    last_observed_at: int = field(init=False)
    domain: ReportDomain | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.cursor, snapshot = self.inbox.checkpoint()
        if snapshot is not None:
            self.aggregator.restore(snapshot)
        self.last_observed_at = self.inbox.last_observed_at()

    # ---------------------------------------------------------------------------- building

    def build(self, now_ms: int) -> int:
        """Fold events since the cursor; record the reports they produce. Returns how many."""
        events = self.inbox.events_after(self.cursor)
        for e in events:
            self.aggregator.feed(
                e.event_type, e.source_type, e.slot_id, e.occupied, e.confidence_bps,
                e.event_time_ms,
            )  # fmt: skip
        observed = self.aggregator.collect(now_ms)
        new_cursor = events[-1].row if events else self.cursor
        if not observed and new_cursor == self.cursor:
            return 0
        # Number after both our own records and the chain: a new data directory (or a restored
        # backup) must continue the chain's sequence, and observedAt never goes back.
        oracle = self.ledger.occupancy.functions
        chain_sequence = self.ledger.guard(lambda: oracle.lastSequence().call()) if observed else 0
        if observed:
            chain_observed = self.ledger.guard(lambda: oracle.lastObservedAt().call())
            self.last_observed_at = max(self.last_observed_at, int(chain_observed))
        sequence = max(self.inbox.last_report_sequence(), int(chain_sequence))
        payloads = []
        for chunk in split_by_words(observed, self.max_report_words):
            sequence += 1
            newest = max(o.event_time_ms for o in chunk.values()) // 1000
            # observedAt never goes backwards (the contract refuses that) nor ahead of now.
            observed_at = max(self.last_observed_at, min(newest, now_ms // 1000), 1)
            self.last_observed_at = observed_at
            report = build_report(
                sequence, observed_at, {slot: o.occupied for slot, o in chunk.items()}
            )
            payloads.append(
                {
                    **report.message(),
                    "eventTimesMs": [o.event_time_ms for o in chunk.values() if o.changed],
                }
            )
        self.inbox.record_report(payloads, new_cursor, self.aggregator.snapshot())
        self.cursor = new_cursor
        for kind, value in self.aggregator.counts.items():
            self.metrics.aggregation.labels(kind).set(value)
        for payload in payloads:
            self.metrics.report_slots.observe(sum(bin(m).count("1") for m in payload["masks"]))
        return len(payloads)

    # -------------------------------------------------------------------------- submitting

    def submit_pending(self) -> int:
        """Send every pending report in order; returns how many got confirmed."""
        pending = self.inbox.pending_reports()
        if not pending:
            return 0
        oracle = self.ledger.occupancy.functions
        on_chain = self.ledger.guard(lambda: oracle.lastSequence().call())
        confirmed = 0
        for record in pending:
            if record.sequence <= on_chain:
                self._confirmed(record, None, None)
                confirmed += 1
                continue
            receipt = self._send(record)
            if receipt["status"] != 1:
                # Look again: a report sent by a previous run may have landed meanwhile.
                on_chain = self.ledger.guard(lambda: oracle.lastSequence().call())
                if record.sequence <= on_chain:
                    self._confirmed(record, None, None)
                    confirmed += 1
                    continue
                self.metrics.submission_errors.labels("report").inc()
                raise RuntimeError(
                    f"report {record.sequence} reverted: {receipt['transactionHash']}"
                )
            self._confirmed(record, receipt, int(receipt["gasUsed"]))
            on_chain = record.sequence
            confirmed += 1
        return confirmed

    def _send(self, record: ReportRecord) -> dict[str, Any]:
        if record.tx_hash:
            # Sent by an earlier attempt: wait for that transaction before sending anew.
            found = self.ledger.find_receipt(record.tx_hash)
            if found is not None and found["status"] == 1:
                return found
            # Reverted (e.g. stale by the time it was sealed) or gone: build and send again.
        report = report_from_message(record.payload)
        try:
            tx_hash = self._submit(report)
        except SubmissionError as exc:
            error, args = decode_revert(exc.data)
            if error != "OccupancyOracleStaleReport" or len(args) != 2:
                raise
            # Pending for longer than the contract's maximum report age (a long ledger outage):
            # the same observations, same sequence, with observedAt moved up to the oldest time
            # the contract still takes. Nothing is dropped; freshness counts from the later time.
            # notBefore moves with every block; leave a margin, but never pass the clock.
            _observed_at, not_before = args
            not_before += STALE_MARGIN_SECONDS
            not_before = min(not_before, self.ledger.now_ms() // 1000)
            record.payload["observedAt"] = max(record.payload["observedAt"], not_before)
            self.inbox.report_payload(record.sequence, record.payload)
            self.last_observed_at = max(self.last_observed_at, not_before)
            log.warning(
                "stale pending report re-dated",
                extra={"sequence": record.sequence, "observedAt": not_before},
            )
            tx_hash = self._submit(report_from_message(record.payload))
        self.inbox.report_sent(record.sequence, tx_hash)
        return self.ledger.receipt(tx_hash)

    def _submit(self, report: OccupancyReport) -> str:
        signatures = sign_report_quorum(report, self.signer_keys, self._domain())
        call = self.ledger.occupancy.functions.submitReport(report_args(report), signatures)
        return self.ledger.send(call, self.submitter)

    def mark_confirmed(self, record: ReportRecord, tx_hash: str | None, gas: int | None) -> None:
        """Record a report of ours as applied (oracles/quorum.py, which submits it itself)."""
        self._confirmed(record, None if tx_hash is None else {"transactionHash": tx_hash}, gas)

    def _confirmed(
        self, record: ReportRecord, receipt: dict[str, Any] | None, gas: int | None
    ) -> None:
        tx_hash = None
        if receipt is not None:
            raw = receipt["transactionHash"]
            tx_hash = raw if isinstance(raw, str) else "0x" + bytes(raw).hex()
        self.inbox.report_confirmed(record.sequence, tx_hash, gas)
        self.metrics.reports.inc()
        if gas is not None:
            self.metrics.report_gas.observe(gas)
        now = time.time()
        for event_ms in record.payload.get("eventTimesMs", []):
            # Lag on the ledger's clock when it runs ahead (development clock).
            self.metrics.lag.observe(max(0.0, self.ledger.now_ms() / 1000 - event_ms / 1000))
        log.info(
            "report confirmed",
            extra={"sequence": record.sequence, "gas": gas, "tx": tx_hash, "at": now},
        )

    def _domain(self) -> ReportDomain:
        if self.domain is None:
            self.domain = ReportDomain(self.ledger.chain_id(), self.ledger.occupancy.address)
        return self.domain
