"""Cash-outs: a resident asks for N KRW back; the village enterprise's staff (or the treasury)
settle or reject it.

On chain: the resident first approves the treasury's address for the amount
(CityCredit.approve, from their wallet). Settling burns the credits with
CityCredit.cashOut(resident, amount, keccak256("cashout:<id>")) from the treasury key, exactly
once (api/payments/treasury.py), and the village enterprise pays the won out off chain. A
rejected request burns nothing (the resident may revoke the approval).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, insert, select, update

from api.errors import Conflict, NotFound
from api.payments.limits import check_amount, require_allowed
from api.payments.service import PaymentsService
from api.payments.tables import cashouts
from api.payments.treasury import ChainRefused, Treasury, receipt_hash
from api.schemas.payments import CashOutPublic

STATUSES = ("requested", "settled", "rejected")


class CashOuts(PaymentsService):
    def request(self, address: str, amount: int) -> CashOutPublic:
        treasury = self._treasury
        check_amount(
            "amount", amount, self._settings.cashout_min_krw, self._settings.cashout_max_krw
        )
        require_allowed(self._access, address, "cash out")
        balance = int(treasury.credit.functions.balanceOf(address).call())
        with self._engine.begin() as conn:
            # Open requests count against the balance: two requests cannot promise it twice.
            open_total: int = conn.execute(
                select(func.coalesce(func.sum(cashouts.c.amount), 0)).where(
                    cashouts.c.address == address, cashouts.c.status == "requested"
                )
            ).scalar_one()
            if amount + int(open_total) > balance:
                raise Conflict(
                    f"amount: {address} holds {balance} KRW of credits and has {open_total} KRW "
                    "in open cash-out requests: ask for at most "
                    f"{max(balance - int(open_total), 0)} KRW",
                    code="insufficient_credits",
                )
            row = {
                "id": "co_" + secrets.token_hex(10), "address": address, "amount": amount,
                "status": "requested", "created_at": self._clock(),
            }  # fmt: skip
            conn.execute(insert(cashouts).values(**row))
        return self._public(row)

    def mine(self, address: str) -> list[CashOutPublic]:
        return self._list(cashouts.c.address == address)

    def all(self, status: str | None) -> list[CashOutPublic]:
        return self._list(cashouts.c.status == status if status else None)

    def settle(self, cashout_id: str, staff: str) -> CashOutPublic:
        treasury = self._treasury
        row = self._open(cashout_id)
        if row["status"] == "settled":
            return self._public(row)  # settled already (a double click): nothing burned again
        receipt = receipt_hash(f"cashout:{row['id']}")
        self._check_approved(treasury, row)
        call = treasury.credit.functions.cashOut(row["address"], row["amount"], receipt)
        try:
            tx_hash = treasury.send_once(f"cashout:{row['id']}", call, "CashOut", receipt)
        except ChainRefused as exc:
            raise Conflict(
                f"CityCredit refused the cash-out: {exc}; the request stays open",
                code="cashout_refused",
            ) from exc
        return self._decide(row["id"], staff, status="settled", tx_hash=tx_hash)

    def reject(self, cashout_id: str, staff: str, reason: str) -> CashOutPublic:
        row = self._open(cashout_id)
        if row["status"] == "settled" or (self._treasury.has_record(f"cashout:{row['id']}")):
            raise Conflict(
                f"cash-out {row['id']} is settled or being settled on chain: it cannot be rejected",
                code="cashout_closed",
            )
        return self._decide(row["id"], staff, status="rejected", reason=reason)

    def _check_approved(self, treasury: Treasury, row: Any) -> None:
        if treasury.has_record(f"cashout:{row['id']}"):
            return  # sent before a crash: the treasury completes it whatever the allowance now
        credit = treasury.credit.functions
        allowance = int(credit.allowance(row["address"], treasury.address).call())
        balance = int(credit.balanceOf(row["address"]).call())
        if allowance < row["amount"] or balance < row["amount"]:
            raise Conflict(
                f"{row['address']} must hold and approve {row['amount']} KRW for the treasury "
                f"{treasury.address} (CityCredit.approve) before settlement; it holds {balance} "
                f"and approved {allowance}",
                code="cashout_not_approved",
            )

    def _open(self, cashout_id: str) -> Any:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(cashouts).where(cashouts.c.id == cashout_id)).mappings().first()
            )
        if row is None:
            raise NotFound(f"no cash-out request {cashout_id}", code="unknown_cashout")
        if row["status"] == "rejected":
            raise Conflict(
                f"cash-out {cashout_id} was rejected ({row['reason']}): the resident may ask again",
                code="cashout_closed",
            )
        return row

    def _decide(self, cashout_id: str, staff: str, **values: Any) -> CashOutPublic:
        with self._engine.begin() as conn:
            conn.execute(
                update(cashouts).where(cashouts.c.id == cashout_id, cashouts.c.status == "requested")
                .values(decided_at=self._clock(), decided_by=staff, **values)
            )  # fmt: skip
            row = conn.execute(select(cashouts).where(cashouts.c.id == cashout_id)).mappings().one()
        return self._public(row)

    def _list(self, where: Any) -> list[CashOutPublic]:
        query = select(cashouts).order_by(cashouts.c.created_at)
        if where is not None:
            query = query.where(where)
        with self._engine.connect() as conn:
            return [self._public(row) for row in conn.execute(query).mappings()]

    def _public(self, row: Any) -> CashOutPublic:
        return CashOutPublic(
            id=row["id"], address=row["address"], amount=row["amount"], status=row["status"],
            createdAt=int(row["created_at"]),
            treasury=self._treasury.address,
            decidedAt=int(row["decided_at"]) if row.get("decided_at") else None,
            decidedBy=row.get("decided_by"), reason=row.get("reason"), txHash=row.get("tx_hash"),
        )  # fmt: skip
