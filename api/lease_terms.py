"""What LeaseMarket would do with a booking, read from the chain: the price (LeaseMarket.quote,
whose checks are the booking's own but for the member and the payment), why a window is not
bookable, and the slot's overage and the market's cancellation terms (LeasePolicy)."""

from __future__ import annotations

from dataclasses import dataclass

from web3.exceptions import ContractCustomError, ContractLogicError

from api.errors import LedgerUnavailable, NotFound
from api.ledger import Ledger
from citypass.core.timeunits import UNIT_SECONDS
from citypass.protocol.reverts import decode_revert, revert_data, revert_text

BPS_FULL = 10_000
OVERAGE_STEP_SECONDS = 600  # LeaseMarket.OVERAGE_STEP: overage is charged per started 10 minutes

# LeaseMarket's refusals of a well-formed window, in words a resident reads.
WHY_NOT = {
    "LeaseMarketStartInPast": "the window starts before the ledger's current half-hour",
    "LeaseMarketTooFarAhead": "the window starts further ahead than bookings open",
    "LeaseMarketTooLong": "the window is longer than the market's longest lease",
    "LeaseMarketSlotUnavailable": (
        "the owner has taken the slot out of sharing, or blacked out a day of the window"
    ),
    "LeaseMarketOutsideWindow": (
        "part of the window lies outside the slot's weekly sharing windows (GET /v1/slots/{id})"
    ),
    "LeaseMarketOverlap": "part of the window is already leased",
}


@dataclass(frozen=True)
class SlotTerms:
    active: bool
    category: int
    terms_version: int
    price_per_unit: int
    overage_per_10min: int


@dataclass(frozen=True)
class LeasePolicy:
    free_cancel_cutoff: int
    booking_grace_period: int
    late_cancel_refund_bps: int
    overstay_penalty: int
    check_in_early: int


@dataclass(frozen=True)
class Quote:
    price: int
    bookable: bool
    reason_code: str | None
    reason: str | None


def slot_terms(ledger: Ledger, slot_id: int) -> SlotTerms:
    """The slot's booking terms on chain; 404 for a slot that does not exist."""
    exists, active, _blackouts, category, version, price, overage, _windows = _call(
        ledger.contracts["slots"].functions.bookingTerms(slot_id)
    )
    if not exists:
        raise NotFound(
            f"slot {slot_id} does not exist; find slots with /v1/slots/search",
            code="unknown_slot",
        )
    return SlotTerms(bool(active), int(category), int(version), int(price), int(overage))


def lease_policy(ledger: Ledger) -> LeasePolicy:
    return LeasePolicy(*(int(v) for v in _call(ledger.contracts["market"].functions.policy())))


def quote(ledger: Ledger, terms: SlotTerms, slot_id: int, start: int, end: int) -> Quote:
    """LeaseMarket.quote of the window: its price, or why the market would refuse it now (the
    price then is what the slot's current terms give the window)."""
    units = (end - start) // UNIT_SECONDS
    try:
        price = int(ledger.contracts["market"].functions.quote(slot_id, start, end).call())
    except (ContractCustomError, ContractLogicError) as exc:
        data = revert_data(exc)
        name, _args = decode_revert(data)
        text = WHY_NOT.get(name, revert_text(data))
        return Quote(units * terms.price_per_unit, False, name, f"{text} ({name})")
    except Exception as exc:
        raise LedgerUnavailable("the ledger node did not answer the quote; retry later") from exc
    return Quote(price, True, None, None)


def late_refund(price: int, policy: LeasePolicy) -> int:
    """What a cancellation after the free cut-off returns (BasisPoints.share rounds down)."""
    return price * policy.late_cancel_refund_bps // BPS_FULL


def _call(function: object) -> tuple:
    try:
        return tuple(function.call())  # type: ignore[attr-defined]
    except Exception as exc:
        raise LedgerUnavailable("the ledger node did not answer; retry later") from exc
