"""Camera incidents → IncidentRegistry.reportIncidents, in batches. The registry skips ids it
already filed, so sending a batch again after a crash or an outage is safe."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from citypass.protocol.sensor_events import ZERO_HASH
from oracles.errors import SubmissionError
from oracles.inbox import Inbox, InboxEvent
from oracles.ledger import Ledger
from oracles.metrics import Metrics
from oracles.verify import INCIDENT_KINDS

log = logging.getLogger("oracles.incidents")


def incident_input(event: InboxEvent) -> tuple:
    """The IncidentInput tuple: only the CID and the plaintext's SHA-256 go on chain."""
    cid = event.evidence_cid or b""
    # A camera's arrival is filed only when its plate tag matched no lessee of the slot's lease
    # (oracles/plates): an unauthorised occupancy, with the arrival's still as evidence.
    kind = INCIDENT_KINDS.get(event.event_type, INCIDENT_KINDS["unauthorised_occupancy"])
    return (
        kind,
        event.slot_id,
        event.lat_e6,
        event.lon_e6,
        max(1, event.event_time_ms // 1000),
        event.confidence_bps,
        event.event_id,
        event.evidence_hash if cid else ZERO_HASH,
        cid,
    )


# A service object, compared and hashed by identity; no repr (it holds the submitter key).
@dataclass(eq=False, repr=False)
class IncidentFiler:
    inbox: Inbox
    ledger: Ledger
    submitter: LocalAccount
    metrics: Metrics
    batch: int

    def file_pending(self) -> int:
        filed = 0
        while True:
            events = self.inbox.pending_incidents(self.batch)
            if not events:
                return filed
            try:
                filed += self._file(events)
            except SubmissionError as exc:
                # One bad incident must not hold back the others: file them one by one and set
                # aside (state 'refused', logged and counted) those the chain will never take.
                if len(events) == 1:
                    self.inbox.incident_refused(events[0].event_id)
                    self.metrics.submission_errors.labels("incident_refused").inc()
                    log.error(
                        "incident refused by the chain",
                        extra={"event": "0x" + events[0].event_id.hex(), "error": str(exc)},
                    )
                    continue
                for event in events:
                    try:
                        filed += self._file([event])
                    except SubmissionError as single:
                        self.inbox.incident_refused(event.event_id)
                        self.metrics.submission_errors.labels("incident_refused").inc()
                        log.error(
                            "incident refused by the chain",
                            extra={"event": "0x" + event.event_id.hex(), "error": str(single)},
                        )

    def _file(self, events: list[InboxEvent]) -> int:
        call = self.ledger.incidents.functions.reportIncidents([incident_input(e) for e in events])
        tx_hash = self.ledger.send(call, self.submitter)
        receipt = self.ledger.receipt(tx_hash)
        if receipt["status"] != 1:
            raise SubmissionError(f"reportIncidents reverted in {tx_hash}")
        self.inbox.incidents_filed([e.event_id for e in events], tx_hash)
        self.metrics.incidents.inc(len(events))
        log.info("incidents filed", extra={"count": len(events), "tx": tx_hash})
        return len(events)
