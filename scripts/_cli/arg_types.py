"""Argument types: each raises ArgumentTypeError with a message that says what to type instead."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

from citypass.protocol.roles import ROLE_NAMES

from .terms import CATEGORIES, CATEGORY_NAMES


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number above zero")
    return value


def non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or a positive whole number")
    return value


def _whole_number(text: str) -> int:
    cleaned = text.replace(",", "").replace("_", "").strip()
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(cleaned)


def capped(
    whole: Callable[[str], int], limit: int, too_large: Callable[[str, int], str]
) -> Callable[[str], int]:
    """`whole` (positive_int or non_negative_int) with a ceiling; `too_large(text, value)` is
    the message above it."""

    def parse(text: str) -> int:
        value = whole(text)
        if value > limit:
            raise argparse.ArgumentTypeError(too_large(text, value))
        return value

    parse.__name__ = whole.__name__
    return parse


def krw(text: str) -> int:
    """A KRW amount: 50000, 50,000, 50_000, ₩50,000 or 50000KRW. Credits have no decimals."""
    cleaned = re.sub(r"(?i)^(₩|krw)\s*|\s*(₩|krw|won)$", "", text.strip())
    cleaned = cleaned.replace(",", "").replace("_", "")
    if re.fullmatch(r"-\d+", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r} is negative; amounts are above zero")
    if re.fullmatch(r"\d+\.\d*", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r}: credits are whole won, no decimals")
    if not re.fullmatch(r"\d+", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in won (e.g. 50000)")
    value = int(cleaned)
    if value == 0:
        raise argparse.ArgumentTypeError("the amount must be above zero")
    return value


def category(text: str) -> int:
    key = text.strip().lower().replace("-", "_")
    if key.isdigit() and int(key) < len(CATEGORIES):
        return int(key)
    if key not in CATEGORY_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown category {text!r}: use public, private, resident or personal"
        )
    return CATEGORY_NAMES[key]


def role_name(text: str) -> str:
    name = text.strip().upper().replace("-", "_")
    if name not in ROLE_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown role {text!r}: use one of {', '.join(ROLE_NAMES)}"
        )
    return name


def degrees(limit: float, what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{what} {text!r} is not a number of degrees (e.g. 37.5031)"
            ) from None
        if not math.isfinite(value) or abs(value) > limit:
            raise argparse.ArgumentTypeError(f"{what} {text!r} is outside -{limit}..{limit}")
        return value

    parse.__name__ = what
    return parse


def bytes32_text(what: str) -> Callable[[str], bytes]:
    """An opaque reference (receipt number, suspension code) as bytes32.

    Up to 32 characters are stored as right-padded UTF-8, so they stay readable on-chain; a
    0x-prefixed 64-hex-digit value is taken as it is (e.g. a hash of a longer document)."""

    def parse(text: str) -> bytes:
        if re.fullmatch(r"0x[0-9a-fA-F]{64}", text):
            return bytes.fromhex(text[2:])
        raw = text.encode()
        if not raw.strip():
            raise argparse.ArgumentTypeError(f"the {what} is empty")
        if len(raw) > 32:
            raise argparse.ArgumentTypeError(
                f"the {what} is {len(raw)} bytes; use at most 32 characters or a 0x-prefixed "
                "32-byte hash"
            )
        return raw.ljust(32, b"\x00")

    parse.__name__ = what
    return parse


def slot_ids(text: str) -> list[int]:
    """'7', '7-12' or '7,9,11-13'."""
    ids: list[int] = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a slot id or range (e.g. 7, 7-12 or 7,9,11-13)"
            )
        first, last = int(match[1]), int(match[2] or match[1])
        if first == 0 or last < first:
            raise argparse.ArgumentTypeError(
                f"{part!r}: slot ids start at 1 and ranges go low-high (e.g. 7-12)"
            )
        if last - first >= 1000:
            raise argparse.ArgumentTypeError(f"{part!r}: at most 1000 slots at a time")
        ids.extend(range(first, last + 1))
    return ids
