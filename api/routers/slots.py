"""Slot search and details, answered from the read model (never from the chain directly)."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from api.booking_window import UNIT, check_window
from api.deps import SessionDep
from api.errors import ValidationFailed
from api.ledger import Ledger
from api.read_model import rows, slot_or_404, slot_public, window_public
from api.record_access import shown_address
from api.schemas.common import Timestamp, kst_iso
from api.schemas.slots import SlotPublic, SlotSearchPublic
from api.siwe.deps import SessionTokenDep, SiweDep
from api.state import AppState
from indexer import models as m
from indexer.search_index import SearchIndex, Snapshot

router = APIRouter(prefix="/v1/slots", tags=["slots"])

MAX_RADIUS_M = 5000
# A wallet app shows the nearest few; the whole village answered at once costs every client.
DEFAULT_RESULTS = 20
MAX_RESULTS = 200
# The index's refresher checks the read model every 0.1 s while searches come in; a snapshot not
# checked for this long (first search, first after a quiet spell, or a refresher held up) is
# refreshed before it answers.
STALE_AFTER_S = 1.0


@router.get("/search", response_model=SlotSearchPublic, summary="Bookable slots near a point")
async def search(
    request: Request,
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS84 latitude, degrees")],
    lon: Annotated[float, Query(ge=-180, le=180, description="WGS84 longitude, degrees")],
    radius_m: Annotated[float, Query(gt=0, le=MAX_RADIUS_M, description="metres, at most 5000")],
    start: Annotated[Timestamp, Query(description="on a half-hour: Unix seconds or ISO 8601")],
    end: Annotated[Timestamp, Query(description="on a half-hour: Unix seconds or ISO 8601")],
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_RESULTS, description=f"nearest slots to return, at most {MAX_RESULTS}"),
    ] = DEFAULT_RESULTS,
) -> Response:
    # Async and without dependencies: everything here is in memory but the ledger clock, whose
    # rare refresh (once a second) goes to a worker thread; a sync handler or dependency would
    # cost a threadpool hop on every request.
    check_window(start, end)
    state: AppState = request.app.state.citypass
    now = await request.app.state.ledger_clock.now()
    grace = state.settings.search_grace_seconds
    if start < now - grace:
        raise ValidationFailed(
            f"start {start} is in the past (ledger time {now}); start at "
            f"{now - now % UNIT} or later",
            code="start_in_past",
        )
    snapshot = await _fresh_snapshot(request.app.state.search_index)
    found, offers = snapshot.search_page(lat, lon, radius_m, start, end, limit)
    # The body SlotSearchPublic describes, as plain dicts serialised by pydantic's Rust core:
    # the bytes FastAPI would produce from the models (same float format), without building
    # and validating a model per offer, which was a measurable share of a search.
    body = {
        "lat": lat, "lon": lon, "radiusM": radius_m, "start": start, "end": end,
        "startIso": kst_iso(start), "endIso": kst_iso(end), "found": found,
        "slots": [
            {
                "slotId": o.slot_id, "lotId": o.lot_id, "category": o.category, "lat": o.lat,
                "lon": o.lon, "distanceM": round(o.distance_m, 1), "units": o.units,
                "price": o.price, "termsVersion": o.terms_version,
            }
            for o in offers
        ],
    }  # fmt: skip
    return Response(to_json(body), media_type="application/json")


class LedgerClock:
    """The ledger's clock for async handlers. Ledger.now() caches the head block's timestamp
    for a second but reads it with a blocking RPC call when its cache is stale, which must not
    stall the event loop: it runs in a worker thread, at most once per REUSE_S, and handlers
    reuse its answer in between (so the clock lags the head by at most 1 s + REUSE_S, against
    a 30-minute search grace)."""

    REUSE_S = 0.5

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._read_at = -math.inf
        self._value = 0

    async def now(self) -> int:
        if time.monotonic() - self._read_at > self.REUSE_S:
            read_at = time.monotonic()
            self._value = await run_in_threadpool(self.ledger.now)
            self._read_at = read_at
        return self._value


async def _fresh_snapshot(index: SearchIndex) -> Snapshot:
    """The index's snapshot; refreshed here (off the event loop) when the index's refresher
    has not checked the read model for STALE_AFTER_S (first search, or after a quiet spell)."""
    snapshot = index.current(max_age=STALE_AFTER_S)
    if snapshot is None:
        snapshot = await run_in_threadpool(index.refresh)
        index.start()
    return snapshot


@router.get(
    "/{slot_id}", response_model=SlotPublic,
    summary="One slot and its sharing windows (a person's space: its owner only to her and "
    "to record readers)",
)  # fmt: skip
def get_slot(
    session: SessionDep, siwe: SiweDep, credentials: SessionTokenDep,
    slot_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> SlotPublic:  # fmt: skip
    slot = slot_or_404(session, slot_id)
    windows = rows(session, m.SlotWindow, m.SlotWindow.slot_id == slot_id, m.SlotWindow.position)
    owner = shown_address(siwe, credentials, session, slot.owner)
    return slot_public(SlotPublic, slot, [window_public(w) for w in windows], owner=owner)
