"""Parsing of what an auditor types into the explorer's URLs and search box; each failure says
what the input should look like."""

from __future__ import annotations

import re

from eth_utils import to_checksum_address

from api.explorer.pages import BadInput
from api.i18n.catalog import gettext

HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_ID = 2**63 - 1


def tx_hash(text: str) -> str:
    if not HASH.match(text):
        message = gettext("{text} is not a transaction hash: give 0x followed by 64 hex digits")
        raise BadInput(message.format(text=repr(text[:80])))
    return text.lower()


def address(text: str) -> str:
    if not ADDRESS.match(text):
        message = gettext("{text} is not an address: give 0x followed by 40 hex digits")
        raise BadInput(message.format(text=repr(text[:80])))
    return to_checksum_address(text)


def number(text: str, what: str) -> int:
    """`what` names the number (an N_-marked msgid such as N_("slot id"))."""
    if not text.isdigit() or int(text) > MAX_ID:
        message = gettext("{text} is not a {what}: give a whole number from 0 to 2^63-1")
        raise BadInput(message.format(text=repr(text[:80]), what=gettext(what)))
    return int(text)


def month(text: str) -> str:
    found = MONTH.match(text or "")
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
        message = gettext("month {text} is not valid: give it as YYYY-MM, e.g. 2026-03")
        raise BadInput(message.format(text=repr(text[:40])))
    return text


def next_path(text: str) -> str:
    """Where the sign-in page returns to: an explorer page of this site (never another site,
    so the page cannot be used to send someone elsewhere after signing in)."""
    if not (text == "/explorer" or text.startswith("/explorer/")) or "//" in text or "\\" in text:
        message = gettext("next={text} is not an explorer page: give a path starting /explorer/")
        raise BadInput(message.format(text=repr(text[:80])))
    return text
