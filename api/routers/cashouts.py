"""Cash-outs: a signed-in resident asks for credits back in won; the village enterprise's staff
(or a treasury holder) see every request and settle (burn on chain) or reject it
(api/payments/cashouts.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from api.payments.cashouts import CashOuts
from api.schemas.payments import AmountCreate, CashOutPublic, CashOutReject, CashOutsPublic
from api.siwe.deps import StaffSessionDep, require_role
from api.siwe.store import StaffSession

router = APIRouter(tags=["top-ups and cash-outs"])

# Who decides cash-outs: the treasury and the village enterprise that pays the won out.
CashOutStaff = Annotated[StaffSession, Depends(require_role("TREASURY", "VILLAGE_ENTERPRISE"))]


async def get_cashouts(request: Request) -> CashOuts:
    return request.app.state.cashouts


CashOutsDep = Annotated[CashOuts, Depends(get_cashouts)]


@router.post(
    "/v1/cashouts", response_model=CashOutPublic, status_code=201,
    summary="Ask to cash out `amount` KRW (approve the answered treasury address for it)",
)  # fmt: skip
def request_cashout(
    body: AmountCreate, cashouts: CashOutsDep, session: StaffSessionDep
) -> CashOutPublic:
    return cashouts.request(session.address, body.amount)


@router.get(
    "/v1/cashouts", response_model=CashOutsPublic,
    summary="The signed-in resident's own cash-out requests",
)  # fmt: skip
def my_cashouts(cashouts: CashOutsDep, session: StaffSessionDep) -> CashOutsPublic:
    return CashOutsPublic(cashOuts=cashouts.mine(session.address))


@router.get(
    "/v1/staff/cashouts", response_model=CashOutsPublic,
    summary="Every cash-out request (TREASURY or VILLAGE_ENTERPRISE)",
)  # fmt: skip
def all_cashouts(
    cashouts: CashOutsDep,
    _staff: CashOutStaff,
    status: Annotated[
        Literal["requested", "settled", "rejected"] | None,
        Query(description="only requests in this status"),
    ] = None,
) -> CashOutsPublic:
    return CashOutsPublic(cashOuts=cashouts.all(status))


@router.post(
    "/v1/staff/cashouts/{cashout_id}/settle", response_model=CashOutPublic,
    summary="Burn the credits on chain (CityCredit.cashOut, once) and mark the request settled",
)  # fmt: skip
def settle_cashout(cashout_id: str, cashouts: CashOutsDep, staff: CashOutStaff) -> CashOutPublic:
    return cashouts.settle(cashout_id, staff.address)


@router.post(
    "/v1/staff/cashouts/{cashout_id}/reject", response_model=CashOutPublic,
    summary="Reject an open request, with a reason the resident sees",
)  # fmt: skip
def reject_cashout(
    cashout_id: str, body: CashOutReject, cashouts: CashOutsDep, staff: CashOutStaff
) -> CashOutPublic:
    return cashouts.reject(cashout_id, staff.address, body.reason)
