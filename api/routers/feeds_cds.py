"""Curb Data Specification 1.0 Events API: /v1/cds/events (curb events in a bounded time range)
and /v1/cds/status (each monitored curb space's sensor and occupancy now).

Responses are `application/vnd.cds+json;version=1.0`; a request whose Accept header admits
neither that nor JSON gets 406, as CDS requires.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from api.deps import SessionDep
from api.errors import NotAcceptable, NotFound, ValidationFailed
from api.feeds import cds
from api.feeds.service import FeedsDep
from indexer import models as m

router = APIRouter(prefix="/v1/cds", tags=["feeds"])

HOUR_MS = 3_600_000
MAX_RANGE_MS = 24 * HOUR_MS
MAX_LIMIT = 5000
# Bounds keep every value inside the read model's 64-bit columns (ms up to year 287,000).
MAX_TIME_MS = 2**53
MAX_OFFSET = 10**9
_ACCEPTED = ("*/*", "application/*", "application/json", "application/vnd.cds+json")


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept")
    if not accept:
        return
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media not in _ACCEPTED:
            continue
        versions = [p.split("=", 1)[1] for p in params if p.startswith("version=")]
        if media != "application/vnd.cds+json" or not versions or versions[0] in ("1.0", "1"):
            return
    raise NotAcceptable(
        f"Accept {accept!r} admits nothing served here: ask for {cds.MEDIA_TYPE} (or "
        "application/json)",
    )


def _reply(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, media_type=cds.MEDIA_TYPE)


def _slot_filter(
    where: dict[int, cds.SlotPlace], zone: uuid.UUID | None, space: uuid.UUID | None
) -> set[int] | None:
    selected: set[int] | None = None
    if zone is not None:
        zones = cds.group_by_zone(where)
        if str(zone) not in zones:
            raise NotFound(
                f"curb_zone_id {zone} is not a zone of this ledger; the zones are the "
                "curb_zone_id values of /v1/cds/status",
                code="unknown_curb_zone",
            )
        selected = zones[str(zone)]
    if space is not None:
        slots = {p.slot_id for p in where.values() if p.curb_space_id == str(space)}
        if not slots:
            raise NotFound(
                f"curb_space_id {space} is not a space of this ledger; the spaces are the "
                "curb_space_id values of /v1/cds/status",
                code="unknown_curb_space",
            )
        selected = slots if selected is None else selected & slots
    return selected


# Answers carry the CDS media type; documented so clients (and the schema fuzzer) expect it.
CDS_RESPONSE: dict[int | str, dict] = {
    200: {"content": {cds.MEDIA_TYPE.split(";")[0]: {}}, "description": "CDS JSON"}
}


def _indexed_time(session: SessionDep) -> int:
    """The timestamp of the newest indexed block: what `last_updated` can honestly claim."""
    return int(session.scalar(select(func.max(m.Block.timestamp))) or 0)


@router.get(
    "/events",
    summary="CDS curb events (park_start, park_end) in a time range",
    responses=CDS_RESPONSE,
)
def events(
    request: Request,
    session: SessionDep,
    feeds: FeedsDep,
    start_time: Annotated[
        int | None,
        Query(ge=0, le=MAX_TIME_MS, description="ms since the epoch, inclusive; default end − 1 h"),
    ] = None,
    end_time: Annotated[
        int | None,
        Query(ge=0, le=MAX_TIME_MS, description="ms since the epoch, exclusive; default now"),
    ] = None,
    curb_zone_id: Annotated[uuid.UUID | None, Query()] = None,
    curb_space_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JSONResponse:
    _check_accept(request)
    end = end_time if end_time is not None else (feeds.state.ledger.now() + 1) * 1000
    start = start_time if start_time is not None else max(0, end - HOUR_MS)
    if end <= start:
        raise ValidationFailed(
            f"end_time {end} must be after start_time {start} (both ms since the epoch)",
            code="empty_range",
        )
    if end - start > MAX_RANGE_MS:
        raise ValidationFailed(
            f"the range is {(end - start) / HOUR_MS:.1f} h; ask for at most 24 h "
            f"(end_time − start_time ≤ {MAX_RANGE_MS} ms) and page through longer periods",
            code="range_too_long",
        )
    where = cds.places(session, feeds.chain_id)
    slots = _slot_filter(where, curb_zone_id, curb_space_id)
    page, more = cds.events(
        session, feeds.chain_id, feeds.state.ledger.address("occupancy"),
        -(-start // 1000), -(-end // 1000), slot_ids=slots, limit=limit, offset=offset,
    )  # fmt: skip
    next_url = None
    if more:
        next_url = str(request.url.include_query_params(offset=offset + limit))
    body = cds.envelope({"events": page}, _indexed_time(session), links={"next": next_url})
    return _reply(body)


@router.get(
    "/status",
    summary="CDS status: each monitored curb space's sensor and occupancy now",
    responses=CDS_RESPONSE,
)
def status(
    request: Request,
    session: SessionDep,
    feeds: FeedsDep,
    curb_zone_id: Annotated[uuid.UUID | None, Query()] = None,
    curb_space_id: Annotated[uuid.UUID | None, Query()] = None,
) -> JSONResponse:
    _check_accept(request)
    where = cds.places(session, feeds.chain_id)
    slots = _slot_filter(where, curb_zone_id, curb_space_id)
    spots = [s for s in feeds.spots() if s.slot_id in where]
    if slots is not None:
        spots = [s for s in spots if s.slot_id in slots]
    entries = cds.status(
        feeds.chain_id, spots, cds.devices_by_slot(session), where,
        feeds.state.ledger.address("occupancy"),
    )  # fmt: skip
    return _reply(cds.envelope({"status": entries}, feeds.state.ledger.now()))
