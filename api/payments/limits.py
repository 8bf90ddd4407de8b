"""Checks top-ups and cash-outs share: the amount within the API's limits, and the resident
allowed to hold credits on CityAccess (a mint or burn for anyone else reverts)."""

from __future__ import annotations

from typing import Any

from api.errors import LedgerUnavailable, PermissionDenied, ValidationFailed


def check_amount(field: str, amount: int, low: int, high: int) -> None:
    if not low <= amount <= high:
        raise ValidationFailed(
            f"{field}: {amount} KRW is outside this API's limits: use {low} … {high} KRW",
            code="amount_out_of_range",
        )


def require_allowed(access: Any, address: str, doing: str) -> None:
    """403 unless `address` is an active member (or an unsuspended role holder) now."""
    try:
        allowed = bool(access.functions.isAllowed(address).call())
    except Exception as exc:
        raise LedgerUnavailable(
            f"could not read {address}'s membership on CityAccess ({type(exc).__name__}); "
            "retry later"
        ) from exc
    if not allowed:
        raise PermissionDenied(
            f"{address} is not an active member on CityAccess, so it cannot {doing}: join "
            "first (or ask the village enterprise why the membership is suspended)",
            code="not_member",
        )
