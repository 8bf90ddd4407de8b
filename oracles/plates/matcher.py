"""Match the plate tags of cameras' arrivals against the slot's lease, in the daemon's ledger
thread after each report cycle.

For an arrival at `slot` at time `t` with tag `T`:
- no lease holds the slot now, or the lease found does not cover `t` (from its start less the
  policy's early check-in to its end): `no_lease`, nothing to match (a tag alone is no
  incident; an unleased occupied slot is the OccupancyOracle's business);
- the lessee has no vehicle tags for `t`'s KST month: `unregistered`, nothing to match;
- `T` is among the lessee's vehicle tags of `t`'s KST month: `checked_in` (LeaseMarket.checkIn
  from the ORACLE account; a lease already checked in, or checked in meanwhile, is `matched`);
- otherwise `mismatch`: an unauthorised occupancy is queued with the arrival's still as
  evidence (its CID) and filed by the IncidentFiler; without a still, `no_evidence` (logged).
A read whose tags cannot be fetched (the API is down) stays pending and is retried."""

from __future__ import annotations

import logging
from typing import Any

from eth_account.signers.local import LocalAccount

from citypass.core.timeunits import month_of
from citypass.protocol.reverts import decode_revert
from oracles.errors import SubmissionError
from oracles.inbox import Inbox, InboxEvent
from oracles.ledger import Ledger
from oracles.metrics import Metrics
from oracles.plates.tags_client import TagsUnavailable, VehicleTags

log = logging.getLogger("oracles.plates")
BOOKED, CHECKED_IN = 1, 2  # LeaseStatus
BATCH = 50


class PlateMatcher:
    """Settles plate reads; `tags` None when the daemon has no API to ask (reads: no_api)."""

    def __init__(
        self, inbox: Inbox, ledger: Ledger, submitter: LocalAccount, metrics: Metrics,
        tags: VehicleTags | None,
    ) -> None:  # fmt: skip
        self.inbox, self.ledger, self.metrics, self.tags = inbox, ledger, metrics, tags
        self._submitter = submitter  # sends checkIn; kept out of any repr

    def __repr__(self) -> str:
        return f"PlateMatcher(tags={self.tags!r})"

    def match_pending(self) -> int:
        """Settle the pending plate reads; returns how many were settled."""
        settled = 0
        while reads := self.inbox.pending_plate_reads(BATCH):
            for event, tag in reads:
                if self.tags is None or self.ledger.market is None:
                    self._done(event, "no_api", None)
                    continue
                try:
                    outcome, lease_id = self._match(event, tag)
                except TagsUnavailable as exc:
                    log.warning("vehicle tags unavailable; retrying", extra={"error": str(exc)})
                    return settled
                self._done(event, outcome, lease_id)
                settled += 1
        return settled

    def _done(self, event: InboxEvent, outcome: str, lease_id: int | None) -> None:
        self.inbox.plate_read_done(event.event_id, outcome, lease_id)
        self.metrics.plate_reads.labels(outcome).inc()
        log.info(
            "plate read settled",
            extra={"event": "0x" + event.event_id.hex(), "slot": event.slot_id,
                   "outcome": outcome, "lease": lease_id},
        )  # fmt: skip

    def _match(self, event: InboxEvent, tag: bytes) -> tuple[str, int | None]:
        market = self.ledger.market
        assert market is not None  # checked by the caller
        lease_id, lease = self._lease_at(market, event)
        if lease is None:
            return "no_lease", None
        lessee, status = lease[0], lease[2]
        registered = self.tags.tags(lessee, month_of(event.event_time_ms // 1000))  # type: ignore[union-attr]
        if not registered:
            # A lessee with no vehicle for that month cannot be told from an intruder: plates
            # are matched only for those who registered (the occupancy report checks in).
            return "unregistered", lease_id
        if tag not in registered:
            if not event.evidence_cid:
                log.error(
                    "a plate matched no lessee but the arrival has no still to file",
                    extra={"event": "0x" + event.event_id.hex(), "slot": event.slot_id},
                )
                return "no_evidence", lease_id
            self.inbox.file_incident(event.event_id)
            return "mismatch", lease_id
        if status != BOOKED:
            return "matched", lease_id
        return self._check_in(market, lease_id), lease_id

    def _lease_at(self, market: Any, event: InboxEvent) -> tuple[int, Any]:
        """The lease holding the slot now, if it covers the arrival's time."""
        lease_id = self.ledger.guard(
            lambda: int(market.functions.currentLeaseId(event.slot_id).call())
        )
        if lease_id == 0:
            return 0, None
        _slot, start, end, _generation = self.ledger.guard(
            lambda: market.functions.decodeLeaseId(lease_id).call()
        )
        early = self.ledger.guard(lambda: market.functions.policy().call())[4]
        if not start - early <= event.event_time_ms // 1000 < end:
            return lease_id, None
        return lease_id, self.ledger.guard(lambda: market.functions.leaseOf(lease_id).call())

    def _check_in(self, market: Any, lease_id: int) -> str:
        try:
            tx_hash = self.ledger.send(market.functions.checkIn(lease_id), self._submitter)
        except SubmissionError as exc:
            name = decode_revert(exc.data)[0] if exc.data else ""
            if name in ("LeaseMarketWrongStatus", "LeaseMarketOutsideLeaseTime"):
                return "matched"  # checked in meanwhile (the occupancy report), or too early
            raise
        receipt = self.ledger.receipt(tx_hash)
        if receipt["status"] != 1:
            raise SubmissionError(f"checkIn({lease_id}) reverted in {tx_hash}")
        log.info("lease checked in by plate", extra={"lease": lease_id, "tx": tx_hash})
        return "checked_in"
