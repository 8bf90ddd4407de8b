"""`GET /v1/slots/{slotId}/quote`: the price LeaseMarket would charge for a window, whether it
would book it now (and why not), and the overage and cancellation terms that would apply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.booking_window import check_window
from api.deps import LedgerDep
from api.lease_terms import OVERAGE_STEP_SECONDS, late_refund, lease_policy, quote, slot_terms
from api.schemas.common import Timestamp, kst_iso
from api.schemas.quote import CancellationTermsPublic, OverageTermsPublic, QuotePublic
from citypass.core.timeunits import UNIT_SECONDS

router = APIRouter(tags=["slots"])


@router.get(
    "/v1/slots/{slot_id}/quote",
    response_model=QuotePublic,
    summary="Price, bookability, overage and cancellation terms of a slot for one window",
)
def slot_quote(
    ledger: LedgerDep,
    slot_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    start: Annotated[Timestamp, Query(description="on a half-hour: Unix seconds or ISO 8601")],
    end: Annotated[Timestamp, Query(description="on a half-hour: Unix seconds or ISO 8601")],
) -> QuotePublic:
    check_window(start, end)
    terms = slot_terms(ledger, slot_id)
    answer = quote(ledger, terms, slot_id, start, end)
    policy = lease_policy(ledger)
    now = ledger.now()
    free_until = start - policy.free_cancel_cutoff
    refund = late_refund(answer.price, policy)
    grace_min = policy.booking_grace_period // 60
    rules = [
        f"Free cancellation (full refund of {answer.price} KRW) until {kst_iso(free_until)}, "
        f"{policy.free_cancel_cutoff // 60} minutes before the start.",
        f"Free cancellation within {grace_min} minutes of booking, whenever you book.",
        f"After the cut-off and before the start: {policy.late_cancel_refund_bps / 100:g}% "
        f"refunded ({refund} KRW).",
        f"From the start ({kst_iso(start)}) a lease cannot be cancelled; one never checked in "
        "is a no-show and is paid in full.",
        "If the owner takes the slot out of sharing for the window, cancelling refunds all.",
    ]
    return QuotePublic(
        slotId=slot_id, start=start, end=end, startIso=kst_iso(start), endIso=kst_iso(end),
        units=(end - start) // UNIT_SECONDS, price=answer.price, pricePerUnit=terms.price_per_unit,
        termsVersion=terms.terms_version, bookable=answer.bookable,
        reasonCode=answer.reason_code, reason=answer.reason,
        ledgerTime=now, ledgerTimeIso=kst_iso(now),
        checkInFrom=start - policy.check_in_early,
        checkInFromIso=kst_iso(start - policy.check_in_early),
        overage=OverageTermsPublic(
            per10Min=terms.overage_per_10min, penalty=policy.overstay_penalty,
            text=f"Leaving after {kst_iso(end)} costs {terms.overage_per_10min} KRW per started "
            f"{OVERAGE_STEP_SECONDS // 60} minutes plus a one-off {policy.overstay_penalty} KRW.",
        ),
        cancellation=CancellationTermsPublic(
            freeUntil=free_until, freeUntilIso=kst_iso(free_until),
            bookingGraceSeconds=policy.booking_grace_period,
            lateRefundBps=policy.late_cancel_refund_bps, lateRefund=refund,
            noCancelFrom=start, noCancelFromIso=kst_iso(start), rules=rules,
        ),
    )  # fmt: skip
