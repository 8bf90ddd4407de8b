"""Why an inspector confirmed or dismissed an incident: IncidentRegistry's ReviewReason codes.

No free text goes on chain (DESIGN §6): a review carries one of these codes and, where details
are needed, the CID of details sealed in the evidence store. The names are the Solidity enum's
(contracts/types/SensorTypes.sol), in its order: a code's position is its on-chain value. The
contract enforces which codes fit which outcome; the API checks the same table first so that an
inspector's bad choice gets a 422 naming the codes that fit, not a revert.
"""

from __future__ import annotations

from typing import Literal, get_args

# ReviewReason, in the enum's order.
ReviewReasonName = Literal[
    "EVIDENCE_CLEAR",
    "VERIFIED_ON_SITE",
    "FALSE_DETECTION",
    "AUTHORISED_USE",
    "DUPLICATE",
    "INSUFFICIENT_EVIDENCE",
    "OTHER",
]
REVIEW_REASONS: tuple[str, ...] = get_args(ReviewReasonName)
ReviewAction = Literal["confirm", "dismiss"]
# The codes each review function accepts (IncidentRegistry._reason).
REASONS_FOR: dict[ReviewAction, tuple[str, ...]] = {
    "confirm": ("EVIDENCE_CLEAR", "VERIFIED_ON_SITE", "OTHER"),
    "dismiss": ("FALSE_DETECTION", "AUTHORISED_USE", "DUPLICATE", "INSUFFICIENT_EVIDENCE", "OTHER"),
}
# OTHER says nothing by itself: the contract requires the details CID with it.
NEEDS_DETAILS = frozenset({"OTHER"})


def reason_code(name: str) -> int:
    """The on-chain value of a ReviewReason name (ValueError for an unknown name)."""
    return REVIEW_REASONS.index(name)


def reason_name(code: int) -> str:
    """The name of an on-chain ReviewReason value; `#n` for a value outside the enum."""
    return REVIEW_REASONS[code] if 0 <= code < len(REVIEW_REASONS) else f"#{code}"
