"""The impact KPIs the dashboard draws and /v1/kpis serves, each from the read model or the
chain at one block (`asOf`), with its definition and the inputs it used named in the answer.

- the pilot's impact figures as outcomes of the chain (api/explorer/impact.py): supply ratio,
  extra spaces a day, illegal parking before/after, jobs; each beside the pilot's figure;
- bookings of the chosen KST day (default: the latest complete day);
- the leased share of the shared spaces, per hour of the chosen day and per day;
- illegal-parking incidents per KST day, read model and IncidentRegistry.dailyCounts side by side;
- revenue per stakeholder (RevenueAllocated + FareAllocated);
- valet jobs per worker (ValetService events).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from api.address_book.facts import HOUSE, facts_of
from api.explorer import figures
from api.explorer.context import Explorer
from api.explorer.formatting import kst as kst_text
from api.explorer.formatting import kst_date
from api.explorer.impact import impact
from api.explorer.revenue import earned_in, raw_log_dict
from citypass.core.impact import complete_day as latest_complete_day
from citypass.core.timeunits import DAY_SECONDS, day_start, local_day
from indexer import models as m

ILLEGAL_PARKING = 0
VALET_EVENTS = ("ValetRequested", "ValetAccepted", "ValetReturned", "ValetCancelled")


@dataclass(frozen=True)
class AsOf:
    """The block every figure of one answer is computed at: the read model's indexed block, its
    time, and the KST days it makes complete. Contract calls are made at this block too, so a
    figure read from the chain and one from the read model speak of the same state."""

    block: int
    timestamp: int
    latest_complete_day: int

    def json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "timestamp": self.timestamp,
            "time": kst_text(self.timestamp),
            "latestCompleteDay": kst_date(self.latest_complete_day),
        }


def as_of(session: Session) -> AsOf:
    cursor = session.get(m.Cursor, 1)
    block = cursor.block_number if cursor else -1
    head = session.scalar(select(m.Block.timestamp).where(m.Block.number == block)) or 0
    return AsOf(block, int(head), latest_complete_day(int(head)))


def shared_slots(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(m.Slot)
            .where(m.Slot.active.is_(True), m.Slot.windows_packed != "0x0")
        )
        or 0
    )


def bookings_of(session: Session, day: int) -> int:
    """Leases booked (LeaseBooked) during the KST day (figures.BOOKINGS_DEFINITION)."""
    first = day_start(day)
    return int(
        session.scalar(
            select(func.count())
            .select_from(m.Lease)
            .where(m.Lease.booked_at >= first, m.Lease.booked_at < first + DAY_SECONDS)
        )
        or 0
    )


def utilisation(session: Session, day: int, days: int) -> dict[str, Any]:
    """Leased share of the shared spaces: per hour of `day`, and per day for the `days` KST days
    ending with it (figures.LEASED_DEFINITION)."""
    slots = shared_slots(session)
    first, end = day_start(day - days + 1), day_start(day + 1)
    spans = session.execute(
        select(m.Lease.start, m.Lease.end).where(
            m.Lease.status != "CANCELLED", m.Lease.start < end, m.Lease.end > first
        )
    ).all()
    return {
        "day": kst_date(day),
        "sharedSlots": slots,
        "hours": figures.leased_by_hour(spans, day, slots),
        "days": [
            {"day": kst_date(d), **figures.leased_over_day(spans, d, slots)}
            for d in range(day - days + 1, day + 1)
        ],
        "definition": figures.LEASED_DEFINITION,
        "inputs": "leases of the read model (LeaseBooked, LeaseCancelled); shared spaces: active "
        "slots with sharing windows",
    }


def bookings(session: Session, day: int) -> dict[str, Any]:
    return {
        "day": kst_date(day),
        "count": bookings_of(session, day),
        "definition": figures.BOOKINGS_DEFINITION,
    }


def incidents(
    explorer: Explorer, session: Session, when: AsOf, day: int, days: int
) -> dict[str, Any]:
    """Illegal parking per KST day for the `days` days ending with `day`: the read model's count
    beside IncidentRegistry.dailyCounts at the same block."""
    first, end = day_start(day - days + 1), day_start(day + 1)
    counts: dict[int, int] = defaultdict(int)
    for (observed,) in session.execute(
        select(m.Incident.observed_at).where(
            m.Incident.kind == "ILLEGAL_PARKING",
            m.Incident.observed_at >= first,
            m.Incident.observed_at < end,
        )
    ):
        counts[local_day(int(observed))] += 1
    registry = explorer.book.handle("incidents")
    series = []
    for d in range(day - days + 1, day + 1):
        reported, confirmed, dismissed = registry.functions.dailyCounts(ILLEGAL_PARKING, d).call(
            block_identifier=max(when.block, 0)
        )
        series.append(
            {
                "day": kst_date(d),
                "readModel": counts.get(d, 0),
                "chainReported": int(reported),
                "chainConfirmed": int(confirmed),
                "chainDismissed": int(dismissed),
            }
        )
    return {
        "kind": "ILLEGAL_PARKING",
        "days": series,
        "definition": figures.ILLEGAL_PARKING_DEFINITION,
        "inputs": "IncidentReported rows of the read model by KST day of observation, and "
        "IncidentRegistry.dailyCounts on chain at the same block",
    }


def revenue(
    explorer: Explorer, session: Session, start: int = 0, end: int = 2**62
) -> dict[str, Any]:
    """Credits allocated in [start, end) (default: all time) by stakeholder group (RevenueSplit's
    three payees, then the other payees grouped by what they are on chain) and per payee with
    its name (address book, else a short address: residents stay pseudonymous) and role."""
    earned = earned_in(explorer, session, start, end)
    facts = facts_of(session, earned)
    # /v1/kpis is English (pages translate the groups) and public: persons are not listed.
    label = explorer.labeller(session, "en", persons=False)
    groups: dict[str, int] = dict.fromkeys(HOUSE, 0)
    for payee, amount in earned.items():
        group = facts[payee].group
        groups[group] = groups.get(group, 0) + amount
    persons = {payee: amount for payee, amount in earned.items() if label.hidden(payee)}
    listed = {payee: amount for payee, amount in earned.items() if payee not in persons}
    return {
        "byStakeholder": [{"stakeholder": k, "earned": v} for k, v in groups.items()],
        "byPayee": [
            {"payee": payee, "name": label(payee), "role": facts[payee].described, "earned": amount}
            for payee, amount in sorted(listed.items(), key=lambda kv: -kv[1])[:50]
        ],  # fmt: skip
        # Residents and workers: counted in their groups above, summed here, never one by one.
        "persons": {"payees": len(persons), "earned": sum(persons.values())},
        "definition": figures.REVENUE_DEFINITION,
        "inputs": "RevenueAllocated rows and FareAllocated logs of the read model (all time); "
        "roles from on-chain facts (RevenueSplit's payees, roles, the mobility registry, slots "
        "owned), names from the staff's address book",
    }


def valet(explorer: Explorer, session: Session, when: AsOf) -> dict[str, Any]:
    events = _valet_events(explorer, session, when)
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
        # A worker is a person: her jobs are shown by rank (1 = the most completed), never by
        # address, so the public sees how the work is shared without following anyone.
        "workers": [
            {"rank": rank, **counts}
            for rank, counts in enumerate(
                sorted(per_worker.values(), key=lambda c: (-c["completed"], -c["accepted"])), 1
            )
        ],
        "inputs": "ValetService events (read model raw logs, else the node's logs)",
    }


def _valet_events(
    explorer: Explorer, session: Session, when: AsOf
) -> list[tuple[str, dict]] | None:
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
                    "toBlock": max(when.block, explorer.start_block),
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


def all_kpis(
    explorer: Explorer, session: Session, days: int, day: int | None = None
) -> dict[str, Any]:
    """Every figure as of the read model's indexed block. `day`: the KST day number the per-hour
    and per-day figures end with (default: the latest complete day)."""
    when = as_of(session)
    chosen = when.latest_complete_day if day is None else day
    return {
        "asOf": when.json(),
        "indexedBlock": when.block,
        "day": kst_date(chosen),
        "days": days,
        "impact": impact(explorer, session),
        "sharedSpaces": shared_slots(session),
        "bookings": bookings(session, chosen),
        "utilisation": utilisation(session, chosen, days),
        "illegalParkingPerDay": incidents(explorer, session, when, chosen, days),
        "revenue": revenue(explorer, session),
        "valet": valet(explorer, session, when),
    }
