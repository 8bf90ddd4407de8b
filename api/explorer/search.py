"""The explorer's search box: where a query leads (a URL), or why nothing matches."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.explorer import inputs
from api.explorer.pages import BadInput, NotFoundPage
from api.i18n.catalog import N_, gettext
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


def target(session: Session, query: str) -> str:
    """The page a query names. Hashes: a block hash goes to its block, anything else to the tx
    page (which says if the node does not know it). Bare numbers are slots (the common case for
    an inspector); `lease 812` goes to the lease's row on its slot's page."""
    text = " ".join(query.split())
    if not text:
        raise BadInput(
            gettext("type something to search: a tx hash, an address, `slot 37` or `lease 812`")
        )
    found = KEYWORD.match(text)
    if found is None:
        raise _nothing_matches(text)
    keyword, value = KEYWORDS.get((found.group(1) or "").lower(), ""), found.group(2)
    if value.lower().startswith("0x"):
        if len(value) == 66:
            tx = inputs.tx_hash(value)
            block = session.scalar(select(m.Block.number).where(m.Block.hash == tx))
            return f"/explorer/block/{block}" if block is not None else f"/explorer/tx/{tx}"
        if len(value) == 42:
            return f"/explorer/address/{inputs.address(value)}"
        message = gettext("{value} is neither a hash (0x + 64 hex digits) nor an address (0x + 40)")
        raise BadInput(message.format(value=repr(value[:80])))
    if keyword == "lease":
        lease_id = inputs.number(value, N_("lease id"))
        slot = session.scalar(select(m.Lease.slot_id).where(m.Lease.lease_id == lease_id))
        if slot is None:
            message = gettext("lease {lease} is not in the read model (no LeaseBooked seen)")
            raise NotFoundPage(message.format(lease=lease_id))
        return f"/explorer/slot/{slot}#lease-{lease_id}"
    if keyword == "block":
        return f"/explorer/block/{inputs.number(value, N_('block number'))}"
    if keyword in ("", "slot"):
        slot_id = inputs.number(value, N_("slot id")) if keyword else _bare_number(value, text)
        if session.get(m.Slot, slot_id) is None:
            raise NotFoundPage(slot_not_registered(slot_id))
        return f"/explorer/slot/{slot_id}"
    raise _nothing_matches(text)


def slot_not_registered(slot_id: int) -> str:
    message = gettext("slot {slot} is not registered (no SlotRegistered seen)")
    return message.format(slot=slot_id)


def _nothing_matches(text: str) -> NotFoundPage:
    message = gettext(
        "nothing matches {query}: search a tx hash, an address, `slot 37`, `lease 812` or "
        "`block 12`"
    )
    return NotFoundPage(message.format(query=repr(text[:80])))


def _bare_number(value: str, text: str) -> int:
    if not value.isdigit():
        raise _nothing_matches(text)
    return inputs.number(value, N_("slot id"))
