"""`POST /v1/prepare/<action>`: a resident's action from its plain fields to the ForwardRequest
typed data to sign (eth_signTypedData_v4), with the call data built by the server. The app posts
the signed request to /v1/relay/forward. A request bound to fail is refused at once with why
(403 not a member or not yours, 404 unknown, 409 not now, 422 wrong)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import LedgerDep, RelayerDep, SessionDep, StateDep
from api.prepare import Preparer
from api.schemas.common import hex_bytes
from api.schemas.prepare import (
    BookPrepare,
    EndTripPrepare,
    LeasePrepare,
    PrepaidDepositPrepare,
    PrepaidWithdrawPrepare,
    PrepareBase,
    StartTripPrepare,
    TripPrepare,
    WithdrawDepositPrepare,
)
from api.schemas.typed_data import TypedDataPublic

# Each route answers TypedDataPublic (its return annotation is its response model).
router = APIRouter(prefix="/v1/prepare", tags=["prepare"])


def get_preparer(relayer: RelayerDep, ledger: LedgerDep, state: StateDep) -> Preparer:
    return Preparer(relayer, ledger, state.settings)


PreparerDep = Annotated[Preparer, Depends(get_preparer)]


@router.post("/book", summary="Book a slot for a window (LeaseMarket.book)")
def book(preparer: PreparerDep, body: BookPrepare) -> TypedDataPublic:
    return preparer.book(body)


@router.post(
    "/deposit-prepaid",
    summary="Prepay credits for bookings (LeaseMarket.deposit; bookings then move no token)",
)
def deposit_prepaid(preparer: PreparerDep, body: PrepaidDepositPrepare) -> TypedDataPublic:
    return preparer.deposit_prepaid(body)


@router.post("/withdraw-prepaid", summary="Take credits back out of one's prepaid booking balance")
def withdraw_prepaid(preparer: PreparerDep, body: PrepaidWithdrawPrepare) -> TypedDataPublic:
    return preparer.typed_data(body.from_, "market", "withdraw", [body.amount])


# The lease actions differ only in the LeaseMarket function they call with the lease id.
LEASE_ACTIONS = (
    ("/cancel", "cancel", "Cancel one's own lease before it starts"),
    ("/check-in", "checkIn", "Check in to one's own lease (arrived)"),
    ("/check-out", "checkOut", "Check out of one's own lease (left; settles it)"),
    ("/pay-overstay-debt", "payOverstayDebt", "Pay a lease's recorded overstay debt"),
)


def _lease_action(function: str) -> Callable[[Preparer, LeasePrepare], TypedDataPublic]:
    def prepare_lease_action(preparer: PreparerDep, body: LeasePrepare) -> TypedDataPublic:
        return preparer.typed_data(body.from_, "market", function, [body.leaseId])

    return prepare_lease_action


for _path, _function, _summary in LEASE_ACTIONS:
    router.add_api_route(
        _path, _lease_action(_function), methods=["POST"], summary=_summary,
        response_model=TypedDataPublic,
    )  # fmt: skip


@router.post("/start-trip", summary="Start a trip on a vehicle (TripSettlement)")
def start_trip(
    preparer: PreparerDep, session: SessionDep, body: StartTripPrepare
) -> TypedDataPublic:
    return preparer.start_trip(session, body)


@router.post("/end-trip", summary="End one's own trip with the operator's signed end report")
def end_trip(preparer: PreparerDep, body: EndTripPrepare) -> TypedDataPublic:
    args = [body.endedAt, body.distanceM, hex_bytes(body.operatorSignature)]
    return preparer.end_trip(body.from_, body.tripId, args)


@router.post("/dispute-trip", summary="Dispute one's own trip's fare in its window")
def dispute_trip(preparer: PreparerDep, body: TripPrepare) -> TypedDataPublic:
    return preparer.typed_data(body.from_, "trips", "dispute", [body.tripId])


@router.post("/withdraw-deposit", summary="Withdraw from one's trip deposit balance")
def withdraw_deposit(preparer: PreparerDep, body: WithdrawDepositPrepare) -> TypedDataPublic:
    return preparer.typed_data(body.from_, "trips", "withdrawDeposit", [body.amount])


@router.post("/claim", summary="Claim one's revenue (a slot owner's share; RevenueSplit.claim)")
def claim(preparer: PreparerDep, body: PrepareBase) -> TypedDataPublic:
    return preparer.claim(body.from_)
