"""/explorer: the auditor's landing page. The ledger day at a glance (bookings and revenue by
stakeholder, today and the latest complete day), the incidents still open, the latest sealed
block with the indexer's seal check of every block and the node's own journal check, the
witnesses (each one's latest co-signed block and how far behind the head it is), and the way
into the monthly statements. The block list it replaced is at /explorer/blocks."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web3.types import RPCEndpoint

from api.deps import SessionDep
from api.explorer.context import Explorer, ExplorerDep
from api.explorer.figures import BOOKINGS_DEFINITION, REVENUE_DEFINITION
from api.explorer.formatting import kst, kst_date
from api.explorer.kpis import AsOf, as_of, bookings_of, revenue
from api.explorer.pages import html_errors, render
from citypass.core.timeunits import DAY_SECONDS, day_start, local_day, month_bounds, month_of
from indexer import models as m

router = APIRouter(prefix="/explorer", tags=["explorer"], include_in_schema=False)

OPEN_INCIDENTS_SHOWN = 10


def day_figures(explorer: Explorer, session: Session, day: int) -> dict[str, Any]:
    start = day_start(day)
    end = start + DAY_SECONDS
    return {
        "day": kst_date(day),
        "bookings": bookings_of(session, day),
        "revenue": revenue(explorer, session, start, end)["byStakeholder"],
    }


def revenue_rows(today: list[dict], complete: list[dict]) -> list[tuple[str, int, int]]:
    """(stakeholder, today's, the latest complete day's) in today's order."""
    before = {r["stakeholder"]: r["earned"] for r in complete}
    rows = [(r["stakeholder"], r["earned"], before.pop(r["stakeholder"], 0)) for r in today]
    return rows + [(stakeholder, 0, amount) for stakeholder, amount in before.items()]


def open_incidents(session: Session) -> tuple[int, list[m.Incident], set[int]]:
    """How many incidents are open, the newest of them, and which of their places are
    registered slots (a street camera's bay is not: it gets no slot page to link to)."""
    where = m.Incident.status == "OPEN"
    total = session.scalar(select(func.count()).select_from(m.Incident).where(where)) or 0
    newest = session.scalars(
        select(m.Incident)
        .where(where)
        .order_by(m.Incident.observed_at.desc(), m.Incident.incident_id.desc())
        .limit(OPEN_INCIDENTS_SHOWN)
    ).all()
    places = {incident.slot_id for incident in newest}
    slots = set(session.scalars(select(m.Slot.slot_id).where(m.Slot.slot_id.in_(places))))
    return int(total), list(newest), slots


def seal_check(session: Session) -> dict[str, int]:
    """How many indexed blocks after genesis (which nobody seals) the indexer found sealed by
    the authority, invalid, or without a seal to check yet (then the explorer checks it live
    when the block is shown)."""
    status = func.coalesce(m.Block.seal_status, "unchecked")
    counts = dict(
        session.execute(
            select(status, func.count()).where(m.Block.number > 0).group_by(status)
        ).all()
    )
    return {
        "sealed": int(counts.get("sealed", 0)),
        "invalid": int(counts.get("invalid", 0)),
        "unchecked": int(counts.get("unchecked", 0)),
    }


def journal_check(explorer: Explorer) -> dict[str, Any] | None:
    """The node's own journal check at its last start (ledger_status.journalCheck), or None when
    the node does not say (an older node, or no answer: the page says so)."""
    try:
        reply = explorer.w3.provider.make_request(RPCEndpoint("ledger_status"), [])
    except Exception:  # the page still renders; it says the node did not answer
        return None
    check = (reply.get("result") or {}).get("journalCheck")
    return check if isinstance(check, dict) else None


def latest_sealed(explorer: Explorer, session: Session, when: AsOf) -> dict[str, Any] | None:
    row = session.get(m.Block, when.block)
    if row is None:
        return None
    return {"block": row, "seal": explorer.seals.status(row.number, row.hash, row.parent_hash)}


@router.get("", response_class=HTMLResponse)
@html_errors
def landing(request: Request, session: SessionDep, explorer: ExplorerDep) -> HTMLResponse:
    when = as_of(session)
    today = local_day(when.timestamp)
    month = month_of(when.timestamp)
    previous_month = month_of(month_bounds(month)[0] - 1)
    total_open, newest_open, slots = open_incidents(session)
    check = journal_check(explorer)
    now = day_figures(explorer, session, today)
    complete = day_figures(explorer, session, when.latest_complete_day)
    return render(
        request, "home.html", when=when.json(), today=now, complete=complete,
        revenue_rows=revenue_rows(now["revenue"], complete["revenue"]),
        bookings_definition=BOOKINGS_DEFINITION, revenue_definition=REVENUE_DEFINITION,
        open_total=total_open, open_incidents=newest_open, incident_slots=slots,
        head=latest_sealed(explorer, session, when), seals=seal_check(session),
        journal=check, journal_checked_at=kst(check["checkedAt"]) if check else None,
        month=month, previous_month=previous_month, chain_id=explorer.state.ledger.chain_id,
        witnesses=explorer.witnesses.status(), now=time.time(),
    )  # fmt: skip
