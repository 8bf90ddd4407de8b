"""The node's journal entries (ledger_getJournalEntry) as the witness reads them: parsed into a
journal block and its transactions, their seal and links checked, compared with its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak

from citypass.protocol.seals import seal_signer
from ledger_node.errors import RpcError
from ledger_node.journal import Journal, JournalBlock, JournalTx
from ledger_node.journal_views import journal_entry_view
from ledger_node.txcodec import decode_raw_tx

_HEX = re.compile(r"0x[0-9a-fA-F]*")
ENTRY_FIELDS = (
    "number",
    "timestamp",
    "hash",
    "parentHash",
    "transactions",
    "rawTransactions",
    "seal",
)


class EntryError(Exception):
    """An entry the node served that is not a well-formed, consistent journal entry."""


@dataclass(frozen=True)
class Entry:
    block: JournalBlock
    txs: tuple[JournalTx, ...]
    raws: tuple[bytes, ...]
    journal_hash: bytes | None  # what the node claims (W1's journalHash), if it says
    served: dict[str, Any]  # as served: kept as evidence


def _bytes(entry: dict[str, Any], name: str, length: int | None = None) -> bytes:
    value = entry.get(name)
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
        raise EntryError(f"its {name} is not 0x-hex")
    data = bytes.fromhex(value[2:])
    if length is not None and len(data) != length:
        raise EntryError(f"its {name} is not {length} bytes")
    return data


def _quantity(entry: dict[str, Any], name: str) -> int:
    value = entry.get(name)
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) < 3:
        raise EntryError(f"its {name} is not a hex quantity")
    return int(value, 16)


def parse_entry(entry: Any, number: int) -> Entry:
    """Raise EntryError naming what is wrong with the node's entry for block `number`."""
    if not isinstance(entry, dict) or any(name not in entry for name in ENTRY_FIELDS):
        raise EntryError(f"block {number}: the entry lacks one of {', '.join(ENTRY_FIELDS)}")
    try:
        if _quantity(entry, "number") != number:
            raise EntryError(f"block {number}: the node answered block {entry['number']}")
        hashes = entry["transactions"]
        raws = entry["rawTransactions"]
        if not isinstance(hashes, list) or not isinstance(raws, list) or len(hashes) != len(raws):
            raise EntryError(f"block {number}: transactions and rawTransactions do not pair up")
        txs = []
        for listed, raw in zip(hashes, raws, strict=True):
            decoded = decode_raw_tx(raw)
            if not isinstance(listed, str) or listed.lower() != "0x" + keccak(decoded.raw).hex():
                raise EntryError(
                    f"block {number}: transaction {listed} is not its raw transaction's hash"
                )
            txs.append(JournalTx(decoded.hash, decoded.raw, decoded.sender, decoded.nonce))
        block = JournalBlock(
            number=number,
            timestamp=_quantity(entry, "timestamp"),
            hash=_bytes(entry, "hash", 32),
            parent_hash=_bytes(entry, "parentHash", 32),
            tx_hashes=tuple(tx.hash for tx in txs),
            seal=_bytes(entry, "seal", 65),
        )
        # Null for a block an older node recorded and has not linked yet: nothing to compare.
        claimed = _bytes(entry, "journalHash", 32) if entry.get("journalHash") is not None else None
    except RpcError as exc:
        raise EntryError(
            f"block {number}: a raw transaction does not decode ({exc.message})"
        ) from exc
    return Entry(block, tuple(txs), tuple(tx.raw for tx in txs), claimed, entry)


def sealed_by(block: JournalBlock, chain_id: int) -> str | None:
    return seal_signer(block.seal, chain_id, block.number, block.hash, block.parent_hash)


def same_block(a: JournalBlock, b: JournalBlock) -> bool:
    return (a.hash, a.parent_hash, a.seal, a.timestamp, a.tx_hashes) == (
        b.hash, b.parent_hash, b.seal, b.timestamp, b.tx_hashes,
    )  # fmt: skip


def held_entry(journal: Journal, number: int, journal_hash: bytes | None) -> dict[str, Any] | None:
    """The witness's own entry for `number`, in the node's shape (kept beside a conflicting one)."""
    view = journal_entry_view(journal, number)
    if view is not None and journal_hash is not None:
        view["journalHash"] = "0x" + journal_hash.hex()
    return view
