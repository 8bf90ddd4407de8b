"""Compare the read model with the contracts' own state, at the indexed block.

Reading the chain at the cursor block (not at the head) means a follower that is a few blocks
behind is not reported as inconsistent: only a read model that disagrees with the chain is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer import models as m
from indexer.errors import IndexerError
from indexer.follower import NO_BLOCK, Indexer
from indexer.handlers import MEMBER_STATUS

LEASE_STATUS = ("NONE", "BOOKED", "CHECKED_IN", "SETTLED", "CANCELLED", "NO_SHOW")


@dataclass(frozen=True)
class Mismatch:
    kind: str  # member_status / slot_owner / lease_status / claimable / credit_balance
    key: str
    read_model: Any
    chain: Any


@dataclass
class ConsistencyReport:
    block: int
    checked: dict[str, int] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "ok": self.ok,
            "checked": self.checked,
            "mismatches": [vars(x) for x in self.mismatches],
        }


def check_consistency(
    indexer: Indexer, sample: int | None = None, seed: int | None = None
) -> ConsistencyReport:
    """Check every row (sample=None) or a random `sample` rows per kind."""
    block, _hash = indexer.cursor()
    if block == NO_BLOCK:
        raise IndexerError("nothing indexed yet: run `python -m indexer backfill` first")
    indexer.verify_chain()
    report = ConsistencyReport(block)
    pick = random.Random(seed)
    c = indexer.registry.contracts

    def rows(session: Session, stmt: Any) -> list[Any]:
        found = list(session.execute(stmt).all())
        return found if sample is None or len(found) <= sample else pick.sample(found, sample)

    def compare(kind: str, key: Any, ours: Any, theirs: Any) -> None:
        report.checked[kind] = report.checked.get(kind, 0) + 1
        if ours != theirs:
            report.mismatches.append(Mismatch(kind, str(key), ours, theirs))

    with Session(indexer.engine) as session:
        for address, status in rows(session, select(m.Member.address, m.Member.status)):
            chain = c["access"].functions.memberStatus(address).call(block_identifier=block)
            compare("member_status", address, status, MEMBER_STATUS[chain])
        for slot_id, owner in rows(session, select(m.Slot.slot_id, m.Slot.owner)):
            chain = c["slots"].functions.ownerOf(slot_id).call(block_identifier=block)
            compare("slot_owner", slot_id, owner, chain)
        for lease_id, status in rows(session, select(m.Lease.lease_id, m.Lease.status)):
            lease = c["market"].functions.leaseOf(lease_id).call(block_identifier=block)
            compare("lease_status", lease_id, status, LEASE_STATUS[lease[2]])
        for payee, claimable in rows(
            session, select(m.PayeeBalance.payee, m.PayeeBalance.claimable)
        ):
            chain = c["split"].functions.claimable(payee).call(block_identifier=block)
            compare("claimable", payee, claimable, chain)
        for account, balance in rows(
            session, select(m.CreditBalance.account, m.CreditBalance.balance)
        ):
            chain = c["credit"].functions.balanceOf(account).call(block_identifier=block)
            compare("credit_balance", account, balance, chain)
    return report
