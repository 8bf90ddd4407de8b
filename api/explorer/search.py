"""The explorer's search box: where a query leads (a URL), or why nothing matches."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.explorer import inputs
from api.explorer.pages import BadInput, NotFoundPage
from indexer import models as m

# The keywords the box accepts, in English and Korean (the page's placeholder shows them in the
# page's language): each maps to the English one the routing below knows.
KEYWORDS = {
    "slot": "slot", "주차면": "slot", "lease": "lease", "임대": "lease", "예약": "lease",
    "block": "block", "블록": "block", "tx": "tx", "거래": "tx", "address": "address",
    "주소": "address",
}  # fmt: skip
KEYWORD = re.compile(
    rf"^({'|'.join(KEYWORDS)})?\s*(?:no\.?|번)?\s*#?\s*(\S+?)\s*(?:번)?$", re.IGNORECASE
)
SEARCH_HELP = "search a tx hash, an address, `slot 37`, `lease 812` or `block 12`"


def target(session: Session, query: str) -> str:
    """The page a query names. Hashes: a block hash goes to its block, anything else to the tx
    page (which says if the node does not know it). Bare numbers are slots (the common case for
    an inspector); `lease 812` goes to the lease's row on its slot's page."""
    text = " ".join(query.split())
    if not text:
        raise BadInput("type something to search: a tx hash, an address, `slot 37` or `lease 812`")
    found = KEYWORD.match(text)
    if found is None:
        raise NotFoundPage(f"nothing matches {text[:80]!r}: {SEARCH_HELP}")
    keyword, value = KEYWORDS.get((found.group(1) or "").lower(), ""), found.group(2)
    if value.lower().startswith("0x"):
        if len(value) == 66:
            tx = inputs.tx_hash(value)
            block = session.scalar(select(m.Block.number).where(m.Block.hash == tx))
            return f"/explorer/block/{block}" if block is not None else f"/explorer/tx/{tx}"
        if len(value) == 42:
            return f"/explorer/address/{inputs.address(value)}"
        raise BadInput(
            f"{value[:80]!r} is neither a hash (0x + 64 hex digits) nor an address (0x + 40)"
        )
    if keyword == "lease":
        lease_id = inputs.number(value, "lease id")
        slot = session.scalar(select(m.Lease.slot_id).where(m.Lease.lease_id == lease_id))
        if slot is None:
            raise NotFoundPage(f"lease {lease_id} is not in the read model (no LeaseBooked seen)")
        return f"/explorer/slot/{slot}#lease-{lease_id}"
    if keyword == "block":
        return f"/explorer/block/{inputs.number(value, 'block number')}"
    if keyword in ("", "slot"):
        slot_id = inputs.number(value, "slot id") if keyword else _bare_number(value, text)
        if session.get(m.Slot, slot_id) is None:
            raise NotFoundPage(f"slot {slot_id} is not registered (no SlotRegistered seen)")
        return f"/explorer/slot/{slot_id}"
    raise NotFoundPage(f"nothing matches {text[:80]!r}")


def _bare_number(value: str, text: str) -> int:
    if not value.isdigit():
        raise NotFoundPage(f"nothing matches {text[:80]!r}: {SEARCH_HELP}")
    return inputs.number(value, "slot id")
