"""Recovery on start: the journal is checked against the head marker, then the newest good
snapshot is loaded and the journal after it replayed, then the accepted-but-unsealed
transactions go back to the engine."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from citypass.protocol.seals import seal_signer
from ledger_node.config import SNAPSHOT_DIR
from ledger_node.errors import EngineError, RecoveryError
from ledger_node.integrity import (
    IntegrityError,
    check_journal,
    confirm_access_on_chain,
    mark_journal,
)
from ledger_node.journal import JournalBlock
from ledger_node.replay import ReplayMismatch, replay_block

if TYPE_CHECKING:
    from ledger_node.node import LedgerNode

log = logging.getLogger("ledger_node.recovery")
ACCESS_META = "access_contract"


async def recover(node: LedgerNode, progress: Callable[[int, int], None] | None = None) -> None:
    journal, engine = node.journal, node.engine
    try:
        check = check_journal(node.data_dir, journal)
    except IntegrityError as exc:
        raise RecoveryError(f"refusing to start: {exc}") from exc
    access = journal.get_meta(ACCESS_META)
    node.gate.set_access_contract(access)
    head = journal.head()
    replay_from = 0
    if head is not None:
        replay_from = await _load_snapshot(node, head.number)
        total = journal.block_count_after(replay_from)
        previous = journal.block(replay_from) if replay_from else None
        parent = previous.hash if previous else bytes.fromhex((await engine.block(0))["hash"][2:])
        for done, block in enumerate(journal.blocks_after(replay_from), start=1):
            _check_links(node, block, parent)
            parent = block.hash
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
        if node.dev_clock:
            # A simulation that had moved block time ahead goes on from where it was.
            node.clock_offset = max(0, head.timestamp - int(time.time()))
    if check.access_unconfirmed:
        try:
            await confirm_access_on_chain(engine, node.config.authority, access)
        except IntegrityError as exc:
            raise RecoveryError(f"refusing to start: {exc}") from exc
    head_hash = head.hash if head else bytes.fromhex((await engine.block(0))["hash"][2:])
    if check.mark is None and head is not None:
        log.warning("the data directory has no head marker yet (an older version): writing one")
    try:
        node.head_marker.write_now(head.number if head else 0, head_hash, access)
    except OSError as exc:
        raise RecoveryError(
            f"refusing to start: cannot write the head marker {node.head_marker.path} "
            f"({exc.strerror}); make the data directory writable and free some space"
        ) from exc
    mark_journal(journal)
    pending = journal.pending_txs()
    if pending:
        replies = await engine.batch(
            [("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for tx in pending]
        )
        refused = [
            (tx.hash, reply["error"].get("message"))
            for tx, reply in zip(pending, replies, strict=True)
            if "error" in reply
        ]
        if refused:
            log.warning(
                "%d journaled transactions were refused on resubmission and leave the journal "
                "(they never executed): %s",
                len(refused),
                [message for _, message in refused[:3]],
            )
            # Left pending they would count as pending forever and be replayed at every start
            # (on a full disk the node raises its disk alarm and removes them once space returns).
            gone = {tx_hash for tx_hash, _ in refused}
            node._forget(list(gone))
            pending = [tx for tx in pending if tx.hash not in gone]
    node._pending = len(pending)
    if pending:
        node._wake.set()


def _check_links(node: LedgerNode, block: JournalBlock, parent: bytes) -> None:
    if block.parent_hash != parent:
        raise RecoveryError(
            f"refusing to start: block {block.number}'s parent link is broken in the journal "
            f"(records 0x{block.parent_hash.hex()}, the previous block is 0x{parent.hex()})"
        )
    config = node.config
    signer = seal_signer(block.seal, config.chain_id, block.number, block.hash, block.parent_hash)
    if signer != config.authority:
        raise RecoveryError(
            f"refusing to start: block {block.number}'s seal is not the authority's "
            f"(signed by {signer or 'nobody: invalid signature'}, expected {config.authority})"
        )


async def _load_snapshot(node: LedgerNode, head_number: int) -> int:
    """Restart the engine from the newest snapshot that matches the journal; returns the block
    it stands at (0 if none: the engine stays at genesis)."""
    for snapshot in node.journal.snapshots():
        if snapshot.block > head_number:
            continue
        recorded = node.journal.block(snapshot.block)
        path = node.data_dir / SNAPSHOT_DIR / snapshot.path
        if recorded is None or recorded.hash != snapshot.hash or not path.exists():
            log.warning("snapshot at block %d is unusable; trying an older one", snapshot.block)
            continue
        await node.engine.stop()
        node.engine.load_state_path = path
        try:
            await node.engine.start()
            loaded = await node.engine.block("latest")
        except (EngineError, OSError) as exc:
            log.warning(
                "snapshot at block %d failed to load (%s); trying an older one", snapshot.block, exc
            )
            loaded = None
        if loaded is not None and (
            int(loaded["number"], 16) == snapshot.block
            and loaded["hash"] == "0x" + recorded.hash.hex()
        ):
            # anvil --load-state starts its clock at the wall clock, and then refuses to mine
            # the next journal block at its recorded (older) time: restoring must not depend on
            # when it happens, so the clock goes back to the snapshot block's own time.
            await node.engine.call("evm_setTime", [recorded.timestamp])
            return snapshot.block
        log.warning(
            "snapshot at block %d does not match the journal; trying an older one", snapshot.block
        )
    if node.engine.load_state_path is not None:
        await node.engine.stop()
        node.engine.load_state_path = None
        await node.engine.start()
    return 0
