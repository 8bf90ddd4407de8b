"""`GET /v1/clock`: the ledger's time, which is what LeaseMarket and the other contracts compare
bookings, check-ins and deadlines with, beside the server's wall clock."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.deps import LedgerDep
from api.errors import LedgerUnavailable
from api.schemas.clock import ClockPublic
from api.schemas.common import kst_iso
from citypass.core.rpc_url import redacted

router = APIRouter(tags=["clock"])

NOTE = (
    "Bookings, check-ins and deadlines follow the ledger's time, not the wall clock. On a "
    "production ledger the two agree within a block interval; the demo's ledger clock is "
    "simulated (its village day is run ahead in fast time), so it can run days ahead: pick "
    "times from ledgerTime."
)


@router.get(
    "/v1/clock",
    response_model=ClockPublic,
    summary="The ledger's time (latest block) and the wall clock, and how far apart they are",
)
def clock(ledger: LedgerDep) -> ClockPublic:
    try:
        block = ledger.w3.eth.get_block("latest")
    except Exception as exc:
        raise LedgerUnavailable(
            f"the ledger node at {redacted(ledger.rpc_url)} did not answer; retry later"
        ) from exc
    wall = int(time.time())
    ledger_time = int(block["timestamp"])
    return ClockPublic(
        ledgerTime=ledger_time, ledgerTimeIso=kst_iso(ledger_time),
        blockNumber=int(block["number"]), wallTime=wall, wallTimeIso=kst_iso(wall),
        ledgerAheadSeconds=ledger_time - wall, note=NOTE,
    )  # fmt: skip
