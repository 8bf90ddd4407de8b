"""The impact KPIs the dashboard draws and /v1/kpis serves, each from the read model or the
chain, with the inputs it used named in the answer.

- the pilot's impact figures as outcomes of the chain (api/explorer/impact.py): supply ratio,
  extra spaces a day, illegal parking before/after, jobs; each beside the pilot's figure;
- utilisation by hour of day (KST): leased or sensed-occupied slot-hours / shared slot-hours;
- illegal-parking incidents per KST day, read model and IncidentRegistry.dailyCounts side by side;
- revenue per stakeholder (RevenueAllocated + FareAllocated);
- valet jobs per worker (ValetService events).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from eth_utils import event_abi_to_log_topic
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from api.explorer.context import Explorer
from api.explorer.formatting import kst_date
from api.explorer.impact import impact
from api.explorer.revenue import earned_in, raw_log_dict
from citypass.core.pilot import PILOT_REPORTED, PILOT_SOURCE
from citypass.core.timeunits import DAY_SECONDS, kst, local_day, next_local_midnight
from indexer import models as m

_PILOT_ILLEGAL = PILOT_REPORTED["illegalParkingPerDay"]
SEED_INCIDENTS = {
    "beforePerDay": _PILOT_ILLEGAL["before"],
    "afterPerDay": _PILOT_ILLEGAL["after"],
    "source": PILOT_SOURCE,
}
ILLEGAL_PARKING = 0
VALET_EVENTS = ("ValetRequested", "ValetAccepted", "ValetReturned", "ValetCancelled")


def period(session: Session, days: int) -> tuple[int, int, int]:
    """[start, end) of the `days` KST days ending with the indexed head's day, and that head's
    timestamp (the read model's 'now')."""
    head = session.scalar(select(func.max(m.Block.timestamp))) or 0
    end = next_local_midnight(int(head))
    return end - days * DAY_SECONDS, end, int(head)


def shared_slots(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(m.Slot)
            .where(m.Slot.active.is_(True), m.Slot.windows_packed != "0x0")
        )
        or 0
    )


def utilisation(session: Session, days: int) -> dict[str, Any]:
    start, end, now = period(session, days)
    slots = shared_slots(session)
    intervals: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for slot_id, a, b in session.execute(
        select(m.Lease.slot_id, m.Lease.start, m.Lease.end).where(
            m.Lease.status != "CANCELLED", m.Lease.start < end, m.Lease.end > start
        )
    ):
        intervals[slot_id].append((max(a, start), min(b, end)))
    for slot_id, spans in _occupied_spans(session, start, end, now).items():
        intervals[slot_id].extend(spans)
    seconds = [0] * 24
    for spans in intervals.values():
        for a, b in _merge(spans):
            _spread(a, b, seconds)
    capacity = 3600 * days * slots
    return {
        "days": days,
        "from": start,
        "to": end,
        "sharedSlots": slots,
        "hours": [
            {
                "hour": hour,
                "slotHours": round(seconds[hour] / 3600, 2),
                "utilisation": round(seconds[hour] / capacity, 4) if capacity else 0.0,
            }
            for hour in range(24)
        ],
        "inputs": "leases not cancelled and sensed occupancy (SlotOccupancyChanged), merged per "
        "slot, over shared slots × days × 1 h",
    }


def _occupied_spans(
    session: Session, start: int, end: int, now: int
) -> dict[int, list[tuple[int, int]]]:
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    opened: dict[int, int] = {}
    rows = session.execute(
        select(
            m.SlotOccupancyChange.slot_id,
            m.SlotOccupancyChange.occupied,
            m.SlotOccupancyChange.observed_at,
        )
        .where(m.SlotOccupancyChange.observed_at < end)
        .order_by(m.SlotOccupancyChange.slot_id, m.SlotOccupancyChange.observed_at)
    )
    for slot_id, occupied, at in rows:
        if occupied:
            opened.setdefault(slot_id, at)
        elif slot_id in opened:
            spans[slot_id].append((opened.pop(slot_id), at))
    for slot_id, since in opened.items():
        spans[slot_id].append((since, min(end, max(now, since))))
    return {
        slot: [(max(a, start), min(b, end)) for a, b in found if b > start and a < end]
        for slot, found in spans.items()
    }


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _spread(a: int, b: int, seconds: list[int]) -> None:
    """Add [a, b) to the KST hour-of-day buckets."""
    while a < b:
        hour_end = (a // 3600 + 1) * 3600
        seconds[kst(a).hour] += min(b, hour_end) - a
        a = hour_end


def incidents(explorer: Explorer, session: Session, days: int) -> dict[str, Any]:
    start, end, _now = period(session, days)
    counts: dict[int, int] = defaultdict(int)
    for (observed,) in session.execute(
        select(m.Incident.observed_at).where(
            m.Incident.kind == "ILLEGAL_PARKING",
            m.Incident.observed_at >= start,
            m.Incident.observed_at < end,
        )
    ):
        counts[local_day(int(observed))] += 1
    registry = explorer.book.handle("incidents")
    series = []
    for day in range(local_day(start), local_day(end - 1) + 1):
        reported, confirmed, dismissed = registry.functions.dailyCounts(ILLEGAL_PARKING, day).call()
        series.append(
            {
                "day": kst_date(day),
                "readModel": counts.get(day, 0),
                "chainReported": int(reported),
                "chainConfirmed": int(confirmed),
                "chainDismissed": int(dismissed),
            }
        )
    return {
        "kind": "ILLEGAL_PARKING",
        "days": series,
        "seed": SEED_INCIDENTS,
        "inputs": "IncidentReported rows of the read model by KST day of observation, and "
        "IncidentRegistry.dailyCounts on chain",
    }


def revenue(explorer: Explorer, session: Session) -> dict[str, Any]:
    house = explorer.house(session)
    earned = earned_in(explorer, session, 0, 2**62)
    groups: dict[str, int] = {role: 0 for role in house.values()}
    groups["slot owners and workers"] = 0
    for payee, amount in earned.items():
        groups[house.get(payee, "slot owners and workers")] += amount
    return {
        "byStakeholder": [{"stakeholder": k, "earned": v} for k, v in groups.items()],
        "byPayee": [
            {"payee": payee, "role": house.get(payee, "slot owner / worker"), "earned": amount}
            for payee, amount in sorted(earned.items(), key=lambda kv: -kv[1])[:50]
        ],
        "inputs": "RevenueAllocated rows and FareAllocated logs of the read model (all time)",
    }


def valet(explorer: Explorer, session: Session) -> dict[str, Any]:
    events = _valet_events(explorer, session)
    if events is None:
        return {"deployed": False, "requests": 0, "completed": 0, "cancelled": 0, "workers": []}
    per_worker: dict[str, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "completed": 0})
    totals = dict.fromkeys(VALET_EVENTS, 0)
    for name, args in events:
        totals[name] += 1
        if name == "ValetAccepted":
            per_worker[args["worker"]]["accepted"] += 1
        elif name == "ValetReturned":
            per_worker[args["worker"]]["completed"] += 1
    return {
        "deployed": True,
        "requests": totals["ValetRequested"],
        "completed": totals["ValetReturned"],
        "cancelled": totals["ValetCancelled"],
        "workers": [
            {"worker": worker, **counts}
            for worker, counts in sorted(per_worker.items(), key=lambda kv: -kv[1]["completed"])
        ],
        "inputs": "ValetService events (read model raw logs, else the node's logs)",
    }


def _valet_events(explorer: Explorer, session: Session) -> list[tuple[str, dict]] | None:
    contract = explorer.book.optional_handle("valet")
    if contract is None:
        return None
    rows = session.scalars(
        select(m.RawLog).where(
            and_(
                m.RawLog.contract == "ValetService",
                or_(*(m.RawLog.event == e for e in VALET_EVENTS)),
            )
        )
    ).all()
    if rows:
        logs = [raw_log_dict(row) for row in rows]
    else:  # the indexer registry does not list ValetService yet: ask the node
        topics = [
            event_abi_to_log_topic(i)
            for i in contract.abi
            if i.get("type") == "event" and i["name"] in VALET_EVENTS
        ]
        logs = [
            dict(log)
            for log in explorer.w3.eth.get_logs(
                {
                    "address": contract.address,
                    "fromBlock": explorer.start_block,
                    "toBlock": "latest",
                    "topics": [topics],
                }
            )
        ]
    found = []
    for log in logs:
        decoded = explorer.book.decode(log)
        if decoded is not None:
            found.append((decoded.event, decoded.args))
    return found


def all_kpis(explorer: Explorer, session: Session, days: int) -> dict[str, Any]:
    cursor = session.get(m.Cursor, 1)
    outcomes = impact(explorer, session)
    return {
        "indexedBlock": cursor.block_number if cursor else -1,
        "impact": outcomes,
        "supply": _supply_view(outcomes),
        "sharedSpaces": shared_slots(session),
        "utilisationByHour": utilisation(session, days),
        "illegalParkingPerDay": incidents(explorer, session, days),
        "revenue": revenue(explorer, session),
        "valet": valet(explorer, session),
    }


def _supply_view(outcomes: dict[str, Any]) -> dict[str, Any]:
    """The supply ratio as the dashboard reads it (`supply`), taken from `impact`."""
    figure = next(f for f in outcomes["figures"] if f["key"] == "supplyRatio")
    return {
        "before": figure["before"] or 0.0,
        "after": figure["after"] or 0.0,
        "sharedSpaces": figure["counts"]["sharedSpaces"],
        "seed": figure["pilot"],
    }
