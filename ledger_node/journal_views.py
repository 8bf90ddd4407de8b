"""The journal's records as the node's own JSON-RPC methods answer them (ledger_getSeal,
ledger_getJournalEntry): quantities and bytes as 0x-hex."""

from __future__ import annotations

from typing import Any

from ledger_node.config import NodeConfig
from ledger_node.journal import Journal


def seal_view(journal: Journal, config: NodeConfig, number: int) -> dict[str, Any] | None:
    block = journal.block(number)
    if block is None:
        return None
    return {
        "number": hex(block.number),
        "hash": "0x" + block.hash.hex(),
        "parentHash": "0x" + block.parent_hash.hex(),
        "chainId": hex(config.chain_id),
        "authority": config.authority,
        "signature": "0x" + block.seal.hex(),
    }


def journal_entry_view(journal: Journal, number: int) -> dict[str, Any] | None:
    block = journal.block(number)
    if block is None:
        return None
    raws = journal.raw_txs(block.tx_hashes)
    link = journal.link(number)
    return {
        "number": hex(block.number),
        "timestamp": hex(block.timestamp),
        "hash": "0x" + block.hash.hex(),
        "parentHash": "0x" + block.parent_hash.hex(),
        "transactions": ["0x" + h.hex() for h in block.tx_hashes],
        "rawTransactions": ["0x" + r.hex() for r in raws],
        "seal": "0x" + block.seal.hex(),
        # journalHash(n), the hash chain a witness co-signs (null until the next start links a
        # block recorded without it)
        "journalHash": None if link is None else "0x" + link.hex(),
    }
