"""Earnings per payee from the read model, and the monthly statements reconciled to the chain.

Read-model side: RevenueAllocated rows (parking) plus FareAllocated logs (valet and trips,
decoded from the raw log table) in the KST month. Chain side, per payee: the MonthlyStatement
event RevenueSplit emitted when the month closed for that payee; while the month is still open,
`accountOf(payee)` for a slot owner or worker, and for the three house payees (whose open
figures no view exposes) the sum of the split's own allocation logs read from the node.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from eth_abi import encode
from eth_typing import ABIEvent
from eth_utils import event_abi_to_log_topic
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.address_book.facts import facts_of
from api.explorer.context import Explorer, Labeller
from api.i18n.catalog import gettext
from citypass.core.timeunits import epoch_of_month, month_bounds
from indexer import models as m


@dataclass
class StatementLine:
    payee: str
    name: str  # the payee's label (api/explorer/context.py): a short address for a resident
    role: str  # what the payee is, from on-chain facts (api/address_book/facts.py)
    read_model: int
    chain: int
    chain_source: str
    # A line folding several payees' lines agrees only if each of them did: two disagreements
    # of opposite sign must not cancel out in the sums.
    parts_agree: bool = True

    @property
    def agrees(self) -> bool:
        return self.read_model == self.chain and self.parts_agree


def earned_in(explorer: Explorer, session: Session, start: int, end: int) -> dict[str, int]:
    """payee → credits earned in [start, end) according to the read model."""
    house = {role: addr for addr, role in explorer.house(session).items()}
    if not house:  # nothing indexed yet
        return {}
    earned: dict[str, int] = defaultdict(int)
    rows = session.execute(
        select(
            m.RevenueAllocation.owner,
            func.sum(m.RevenueAllocation.owner_share),
            func.sum(m.RevenueAllocation.village_share),
            func.sum(m.RevenueAllocation.city_share),
            func.sum(m.RevenueAllocation.platform_share),
        )
        .where(m.RevenueAllocation.timestamp >= start, m.RevenueAllocation.timestamp < end)
        .group_by(m.RevenueAllocation.owner)
    ).all()
    for owner, own, village, city, platform in rows:
        earned[owner] += int(own or 0)
        earned[house["village enterprise"]] += int(village or 0)
        earned[house["city fund"]] += int(city or 0)
        earned[house["platform"]] += int(platform or 0)
    for args in _fare_allocations(explorer, session, start, end):
        earned[args["payee"]] += int(args["payeeShare"])
        earned[house["village enterprise"]] += int(args["villageShare"])
        earned[house["platform"]] += int(args["platformShare"])
    return {payee: amount for payee, amount in earned.items() if amount or payee in house.values()}


def _fare_allocations(
    explorer: Explorer, session: Session, start: int, end: int
) -> list[dict[str, Any]]:
    logs = session.scalars(
        select(m.RawLog)
        .join(m.Block, m.Block.number == m.RawLog.block_number)
        .where(
            m.RawLog.contract == "RevenueSplit",
            m.RawLog.event == "FareAllocated",
            m.Block.timestamp >= start,
            m.Block.timestamp < end,
        )
    ).all()
    found = []
    for row in logs:
        decoded = explorer.book.decode(raw_log_dict(row))
        if decoded is not None:
            found.append(decoded.args)
    return found


def raw_log_dict(row: m.RawLog) -> dict[str, Any]:
    return {
        "address": row.address,
        "topics": [row.topic0, row.topic1, row.topic2, row.topic3],
        "data": row.data,
        "logIndex": row.log_index,
        "blockNumber": row.block_number,
    }


def _event_abi(contract: Any, name: str) -> ABIEvent:
    return cast(
        ABIEvent,
        next(i for i in contract.abi if i.get("type") == "event" and i["name"] == name),
    )


def _month_blocks(session: Session, start: int, end: int) -> tuple[int, int] | None:
    low, high = session.execute(
        select(func.min(m.Block.number), func.max(m.Block.number)).where(
            m.Block.timestamp >= start, m.Block.timestamp < end
        )
    ).one()
    return None if low is None else (int(low), int(high))


def statement(
    explorer: Explorer, session: Session, month: str, persons: bool = True
) -> list[StatementLine]:
    """One line per payee with earnings or a statement in `month` ('YYYY-MM'). With `persons`
    False (a page for the public, docs/privacy.md) the persons' lines are folded into one line
    of their sums: each person's earnings are hers, the total is the public's to check."""
    start, end = month_bounds(month)
    epoch = epoch_of_month(month)
    split = explorer.book.handle("split")
    house = explorer.house(session)
    ours = earned_in(explorer, session, start, end)
    closed = _closed_statements(explorer, split, epoch)
    payees = sorted(set(ours) | set(closed) | set(house), key=lambda a: (a not in house, a))
    label = explorer.labeller(session, persons=persons)
    facts = facts_of(session, payees)
    house_open: dict[str, int] | None = None
    lines = []
    for payee in payees:
        if payee in closed:
            chain, source = closed[payee], "MonthlyStatement event"
        elif payee in house:
            if house_open is None:
                house_open = _house_from_logs(explorer, session, split, start, end)
            chain, source = house_open.get(payee, 0), "month open: split's allocation logs"
        else:
            account_epoch, earned, _claimed, _balance = split.functions.accountOf(payee).call()
            if int(account_epoch) == epoch:
                chain, source = int(earned), "month open: accountOf()"
            else:
                chain, source = 0, "no statement for this month"
        lines.append(
            StatementLine(
                payee, label(payee), facts[payee].described, ours.get(payee, 0), int(chain), source
            )
        )
    return lines if persons else _persons_folded(lines, label)


def _persons_folded(lines: list[StatementLine], label: Labeller) -> list[StatementLine]:
    """The organisations' lines as they are, then one line for every person together: the read
    model's and the chain's sums (each person's line agreeing is checked before folding, so a
    disagreement cannot hide in the sums)."""
    shown = [line for line in lines if not label.hidden(line.payee)]
    folded = [line for line in lines if label.hidden(line.payee)]
    if not folded:
        return shown
    roles = sorted({role for line in folded for role in line.role.split(", ")})
    return [
        *shown,
        StatementLine(
            payee="",
            name=gettext("{count} persons together").format(count=len(folded)),
            role=", ".join(roles),
            read_model=sum(line.read_model for line in folded),
            chain=sum(line.chain for line in folded),
            chain_source="the persons' lines summed (sign in as an auditor for each line)",
            parts_agree=all(line.agrees for line in folded),
        ),
    ]


def _closed_statements(explorer: Explorer, split: Any, epoch: int) -> dict[str, int]:
    abi = _event_abi(split, "MonthlyStatement")
    logs = explorer.w3.eth.get_logs(
        {
            "address": split.address,
            "fromBlock": explorer.start_block,
            "toBlock": "latest",
            "topics": [event_abi_to_log_topic(abi), None, encode(["uint32"], [epoch])],
        }
    )
    found: dict[str, int] = {}
    for log in logs:
        decoded = explorer.book.decode(dict(log))
        if decoded is not None:
            found[decoded.args["payee"]] = int(decoded.args["earned"])
    return found


def _house_from_logs(
    explorer: Explorer, session: Session, split: Any, start: int, end: int
) -> dict[str, int]:
    blocks = _month_blocks(session, start, end)
    if blocks is None:
        return {}
    roles = {role: addr for addr, role in explorer.house(session).items()}
    topics = [
        event_abi_to_log_topic(_event_abi(split, "RevenueAllocated")),
        event_abi_to_log_topic(_event_abi(split, "FareAllocated")),
    ]
    logs = explorer.w3.eth.get_logs(
        {
            "address": split.address,
            "fromBlock": blocks[0],
            "toBlock": blocks[1],
            "topics": [topics],
        }
    )
    totals: dict[str, int] = defaultdict(int)
    for log in logs:
        decoded = explorer.book.decode(dict(log))
        if decoded is None:
            continue
        a = decoded.args
        totals[roles["village enterprise"]] += int(a["villageShare"])
        totals[roles["platform"]] += int(a["platformShare"])
        totals[roles["city fund"]] += int(a.get("cityShare", 0))
    return totals
