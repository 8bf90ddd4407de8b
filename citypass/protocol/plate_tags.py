"""Keyed-hash plate tags (DESIGN §6): what the API stores for a registered vehicle, what an edge
camera sends for a plate it read, and what the oracle compares. Never the plate itself.

    month key = HMAC-SHA256(secret, "citypass-plate-tag|YYYY-MM")      (the KST month)
    tag       = HMAC-SHA256(month key, the normalised plate in UTF-8)

The secret stays with the operator of the tag service (the API); devices hold month keys only,
so a stolen camera yields at most the keys of the months it was provisioned for, and a tag of
one month does not link to the same plate's tag in another month.

The plate grammar (docs/api.md, "Vehicles"), after removing spaces and hyphens (and Unicode
NFC normalisation, so a decomposed Hangul syllable is the same plate):

    plate   = [region] digits usage serial
    region  = one of REGIONS (the older regional plates; then digits is 1-2 digits)
    digits  = 2 or 3 digits (without a region)
    usage   = one Hangul syllable of USAGE_SYLLABLES
    serial  = 4 digits

No error message here contains the plate: a caller may log it or send it back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from pathlib import Path

from citypass.core.files import write_atomically

TAG_BYTES = 32
KEY_BYTES = 32
_CONTEXT = "citypass-plate-tag|"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# The 17 metropolitan cities and provinces printed on older regional plates.
REGIONS = (
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원", "충북", "충남",
    "전북", "전남", "경북", "경남", "제주",
)  # fmt: skip
# The usage syllables of private cars (가…주), rental cars (하 허 호), commercial vehicles
# (바 사 아 자) and delivery vehicles (배).
USAGE_SYLLABLES = (
    "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"
    + "하허호"
    + "바사아자"
    + "배"
)
_SEPARATORS = re.compile(r"[\s\-]+")
_PLATE = re.compile(
    rf"^(?:(?P<region>{'|'.join(REGIONS)})(?P<rdigits>[0-9]{{1,2}})|(?P<digits>[0-9]{{2,3}}))"
    rf"(?P<usage>[{USAGE_SYLLABLES}])(?P<serial>[0-9]{{4}})$"
)
GRAMMAR = (
    "a Korean plate: 2 or 3 digits, a usage syllable (가…주, 하 허 호, 바 사 아 자, 배) and 4 "
    "digits (like 12가3456 or 123가4567), or an older regional plate (a region such as 서울 or "
    "경기, 1 or 2 digits, the syllable, 4 digits, like 서울12가3456); spaces and hyphens are "
    "ignored"
)


class PlateFormatError(ValueError):
    """The text is not a plate of the grammar; the message never repeats the text."""


class MonthFormatError(ValueError):
    """Not a month written YYYY-MM."""


def normalise_plate(text: str) -> str:
    """The one spelling of a plate that is hashed: NFC, without spaces and hyphens, checked
    against the grammar. Digits are ASCII 0-9 only (a full-width digit is not a plate digit)."""
    if not isinstance(text, str):
        raise PlateFormatError(f"the plate must be text: {GRAMMAR}")
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFC", text))
    if _PLATE.match(compact) is None:
        raise PlateFormatError(f"not {GRAMMAR}")
    return compact


def check_month(month: str) -> str:
    if not isinstance(month, str) or _MONTH.match(month) is None:
        raise MonthFormatError(f"month {month!r} must be written YYYY-MM, like 2026-12")
    return month


def month_key(secret: bytes, month: str) -> bytes:
    """The key of one KST month 'YYYY-MM', derived from the operator's secret."""
    if len(secret) < 16:
        raise ValueError("the plate-tag secret must be at least 16 bytes")
    return hmac.new(secret, (_CONTEXT + check_month(month)).encode(), hashlib.sha256).digest()


def plate_tag(key: bytes, normalised: str) -> bytes:
    """The tag of a normalised plate under a month key (32 bytes)."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a month key is {KEY_BYTES} bytes")
    return hmac.new(key, normalised.encode(), hashlib.sha256).digest()


def next_month(month: str) -> str:
    year, number = (int(part) for part in check_month(month).split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def months_from(month: str, count: int) -> list[str]:
    """`count` consecutive months starting with `month`."""
    out = [check_month(month)]
    while len(out) < count:
        out.append(next_month(out[-1]))
    return out[:count]


# ------------------------------------------------------------------ the devices' month keys file
# What `citypass-api plate-keys` writes for an edge daemon and the edge reads: month keys only,
# JSON {"version": 1, "months": {"YYYY-MM": "<64 hex>"}}, 0600.
MONTH_KEYS_VERSION = 1


class MonthKeysError(ValueError):
    """The month keys file is missing, unreadable or malformed; the message says what to do."""


def load_month_keys(path: Path) -> dict[str, bytes]:
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise MonthKeysError(
            f"{path} does not exist: provision it with `citypass-api plate-keys --out {path}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise MonthKeysError(f"{path} is not a month keys file ({type(exc).__name__})") from exc
    months = raw.get("months") if isinstance(raw, dict) else None
    if (
        not isinstance(raw, dict)
        or raw.get("version") != MONTH_KEYS_VERSION
        or not isinstance(months, dict)
    ):
        raise MonthKeysError(f"{path} is not a version {MONTH_KEYS_VERSION} month keys file")
    keys: dict[str, bytes] = {}
    for month, text in months.items():
        try:
            key = bytes.fromhex(text) if isinstance(text, str) else b""
            check_month(month)
        except (ValueError, MonthFormatError) as exc:
            raise MonthKeysError(f"{path}: month {month!r} is malformed ({exc})") from None
        if len(key) != KEY_BYTES:
            raise MonthKeysError(f"{path}: the key of {month} is not {KEY_BYTES} bytes of hex")
        keys[month] = key
    return keys


def save_month_keys(path: Path, keys: dict[str, bytes]) -> None:
    """Write (atomically, 0600) the month keys file."""
    body = {"version": MONTH_KEYS_VERSION, "months": {m: keys[m].hex() for m in sorted(keys)}}
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(Path(path), json.dumps(body, indent=2) + "\n")
