"""Re-executing journal blocks on an engine: used by recovery on start, by auditors' verify and by
witnesses (ledger_node/witness/)."""

from __future__ import annotations

from ledger_node.engine import Engine
from ledger_node.journal import Journal, JournalBlock


class ReplayMismatch(Exception):
    def __init__(self, block: JournalBlock, replayed_hash: str, reason: str) -> None:
        super().__init__(reason)
        self.block = block
        self.replayed_hash = replayed_hash


async def replay_block(engine: Engine, journal: Journal, block: JournalBlock) -> dict:
    """Send the block's raw transactions in their recorded order, mine at the recorded time and
    return the engine's block; raises ReplayMismatch when the result differs from the journal."""
    try:
        raws = journal.raw_txs(block.tx_hashes)
    except KeyError as exc:
        raise ReplayMismatch(
            block, "", f"block {block.number}: a transaction it lists is missing from the journal"
        ) from exc
    return await replay_raws(engine, block, raws)


async def replay_raws(engine: Engine, block: JournalBlock, raws: list[bytes]) -> dict:
    """replay_block with the raw transactions at hand (a witness re-executes a block it has
    fetched before it journals it)."""
    # In the recorded order: anvil orders a block by arrival (FIFO), and pipelining on one
    # connection keeps that order where a JSON-RPC batch would not (engine_pipe.py).
    for reply in await engine.send_raw_ordered(raws):
        if "error" in reply:
            raise ReplayMismatch(
                block,
                "",
                f"block {block.number}: the engine refused a journaled transaction: "
                f"{reply['error'].get('message')}",
            )
    await engine.mine(block.timestamp)
    replayed = await engine.block(block.number)
    if replayed["hash"] != "0x" + block.hash.hex():
        raise ReplayMismatch(
            block,
            replayed["hash"],
            f"block {block.number} differs: the journal records 0x{block.hash.hex()}, replay gives {replayed['hash']}",
        )
    return replayed
