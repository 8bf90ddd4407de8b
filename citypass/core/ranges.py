"""Range checks of settings, with the one wording every daemon's messages use:
`--rpc-gas-cap 5 is out of range: use 1000000 … 2000000000`."""

from __future__ import annotations


def check_range(
    name: str,
    value: float,
    low: float,
    high: float,
    *,
    unit: str = "",
    low_text: str | None = None,
    high_text: str | None = None,
    error: type[Exception] = ValueError,
) -> None:
    """Raises `error` naming the setting when `value` is not in [low, high].

    `unit` follows the value ("s"); `low_text` / `high_text` say a bound in words when it is
    another setting or has a meaning ("0 (off)", "the gas cap (50000000)")."""
    if not low <= value <= high:
        shown = f"{value} {unit}" if unit else f"{value}"
        low_shown = f"{low}" if low_text is None else low_text
        high_shown = f"{high}" if high_text is None else high_text
        raise error(f"{name} {shown} is out of range: use {low_shown} … {high_shown}")
