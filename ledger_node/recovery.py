"""Recovery on start: newest good snapshot, then replay of the journal after it, then the
accepted-but-unsealed transactions go back to the engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ledger_node.config import SNAPSHOT_DIR
from ledger_node.errors import EngineError, RecoveryError
from ledger_node.replay import ReplayMismatch, replay_block

if TYPE_CHECKING:
    from ledger_node.node import LedgerNode

log = logging.getLogger("ledger_node.recovery")
ACCESS_META = "access_contract"


async def recover(node: LedgerNode, progress: Callable[[int, int], None] | None = None) -> None:
    journal, engine = node.journal, node.engine
    node.gate.set_access_contract(journal.get_meta(ACCESS_META))
    head = journal.head()
    replay_from = 0
    if head is not None:
        replay_from = await _load_snapshot(node, head.number)
        total = journal.block_count_after(replay_from)
        for done, block in enumerate(journal.blocks_after(replay_from), start=1):
            try:
                await replay_block(engine, journal, block)
            except ReplayMismatch as exc:
                raise RecoveryError(
                    f"refusing to start: {exc}. The journal or the engine is not what it was"
                ) from exc
            if progress is not None:
                progress(done, total)
        node.last_timestamp = head.timestamp
        node.head_number = head.number
    pending = journal.pending_txs()
    if pending:
        replies = await engine.batch(
            [("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for tx in pending]
        )
        refused = [reply["error"].get("message") for reply in replies if "error" in reply]
        if refused:
            log.warning(
                "%d journaled transactions were refused on resubmission: %s",
                len(refused),
                refused[:3],
            )
    node._pending = len(pending)
    if pending:
        node._wake.set()


async def _load_snapshot(node: LedgerNode, head_number: int) -> int:
    """Load the newest snapshot that matches the journal; returns the block it stands at (0 if none)."""
    for snapshot in node.journal.snapshots():
        if snapshot.block > head_number:
            continue
        recorded = node.journal.block(snapshot.block)
        path = node.data_dir / SNAPSHOT_DIR / snapshot.path
        if recorded is None or recorded.hash != snapshot.hash or not path.exists():
            log.warning("snapshot at block %d is unusable; trying an older one", snapshot.block)
            continue
        try:
            await node.engine.load_state(path.read_text())
            loaded = await node.engine.block("latest")
        except (EngineError, OSError) as exc:
            log.warning(
                "snapshot at block %d failed to load (%s); trying an older one", snapshot.block, exc
            )
            await node.engine.stop()
            await node.engine.start()
            continue
        if (
            int(loaded["number"], 16) != snapshot.block
            or loaded["hash"] != "0x" + recorded.hash.hex()
        ):
            log.warning(
                "snapshot at block %d does not match the journal; trying an older one",
                snapshot.block,
            )
            await node.engine.stop()
            await node.engine.start()
            continue
        return snapshot.block
    return 0
