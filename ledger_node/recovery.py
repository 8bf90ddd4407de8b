"""Recovery on start: the journal is checked against the head marker, its hash chain and the
witnesses' co-signatures (backfilling the chain of a journal from before it), then the newest good
snapshot is loaded and the journal after it replayed, then the accepted-but-unsealed
transactions go back to the engine.

Recovery works on the node's parts (journal, engine, permission gate, head marker) and returns
what it found; the node (ledger_node/node.py) takes its head, clock and pending count from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citypass.protocol.seals import seal_signer
from ledger_node.checkpoints import check_cosigned_within
from ledger_node.config import SNAPSHOT_DIR, NodeConfig
from ledger_node.engine import Engine
from ledger_node.errors import EngineError, RecoveryError
from ledger_node.integrity import (
    ACCESS_META,
    HeadMarker,
    IntegrityError,
    check_journal,
    confirm_access_on_chain,
    mark_journal,
)
from ledger_node.journal import Journal, JournalBlock, JournalTx
from ledger_node.journal_chain import BACKFILL_LABEL, check_chain
from ledger_node.permission import PermissionGate
from ledger_node.replay import ReplayMismatch, replay_block

log = logging.getLogger("ledger_node.recovery")
REPLAY_LABEL = "Replaying the journal"
# (done, total, label): one progress bar per long step of a start (daemon.py shows them).
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Recovered:
    head: JournalBlock | None  # the journal's last block, now the engine's head (None: genesis)
    pending: list[JournalTx]  # journaled, unsealed and back in the engine
    refused: list[bytes]  # hashes of journaled transactions the engine refused: to forget
    # The blocks after this one were re-executed and each hash, parent link and seal checked
    # (the ones before it came from a snapshot that matched the journal).
    replayed_from: int = 0
    journal_hash: bytes = b""  # journalHash(head), reproduced from every block and seal
    backfilled: int = 0  # links of the hash chain this start stored (a journal from before)

    def journal_check(self) -> dict[str, Any]:
        """What this start checked of the journal, as ledger_status.journalCheck tells it: its
        head marker and snapshots, then every block after `replayedFrom` re-executed up to
        `head`. Always ok: recovery refuses to start on any mismatch."""
        return {
            "checkedAt": int(time.time()),
            "head": self.head.number if self.head else 0,
            "replayedFrom": self.replayed_from,
            "journalHash": "0x" + self.journal_hash.hex(),
            "result": "ok",
        }


@dataclass(frozen=True)
class RecoveryParts:
    """The parts of a node that recovery works on (the node keeps them for its life)."""

    data_dir: Path
    config: NodeConfig
    journal: Journal
    engine: Engine
    gate: PermissionGate
    head_marker: HeadMarker


async def recover(parts: RecoveryParts, progress: Progress | None = None) -> Recovered:
    journal, engine = parts.journal, parts.engine
    try:
        check = check_journal(parts.data_dir, journal)
    except IntegrityError as exc:
        raise RecoveryError(f"refusing to start: {exc}") from exc
    genesis = bytes.fromhex((await engine.block(0))["hash"][2:])
    try:
        sealer = (parts.config.chain_id, parts.config.authority)
        chain = check_chain(
            journal,
            genesis,
            fill=True,
            progress=_labelled(progress, BACKFILL_LABEL),
            diagnose=lambda block, parent: _check_links(sealer, block, parent),
        )
        check_cosigned_within(journal, chain.head)
    except IntegrityError as exc:
        raise RecoveryError(f"refusing to start: {exc}") from exc
    if chain.missing and chain.head:  # (a new journal only gets its genesis link: no news)
        log.info("linked %d journal entries into the hash chain", chain.missing)
    access = journal.get_meta(ACCESS_META)
    parts.gate.set_access_contract(access)
    head = journal.head()
    replay_from = await replay_journal(
        journal,
        engine,
        parts.data_dir / SNAPSHOT_DIR,
        (parts.config.chain_id, parts.config.authority),
        _labelled(progress, REPLAY_LABEL),
    )
    if check.access_unconfirmed:
        try:
            await confirm_access_on_chain(engine, parts.config.authority, access)
        except IntegrityError as exc:
            raise RecoveryError(f"refusing to start: {exc}") from exc
    head_hash = head.hash if head else bytes.fromhex((await engine.block(0))["hash"][2:])
    if check.mark is None and head is not None:
        log.warning("the data directory has no head marker yet (an older version): writing one")
    try:
        parts.head_marker.write_now(head.number if head else 0, head_hash, access)
    except OSError as exc:
        raise RecoveryError(
            f"refusing to start: cannot write the head marker {parts.head_marker.path} "
            f"({exc.strerror}); make the data directory writable and free some space"
        ) from exc
    mark_journal(journal)
    pending = journal.pending_txs()
    refused: list[tuple[bytes, str]] = []
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
    # Left pending, refused ones would count as pending forever and be replayed at every start:
    # the node forgets them (on a full disk it raises its disk alarm and removes them once space
    # returns).
    gone = {tx_hash for tx_hash, _ in refused}
    kept = [tx for tx in pending if tx.hash not in gone]
    return Recovered(head, kept, list(gone), replay_from, chain.head_link, chain.missing)


def _labelled(progress: Progress | None, label: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(done, total, label)


async def replay_journal(
    journal: Journal,
    engine: Engine,
    snapshot_dir: Path,
    sealer: tuple[int, str],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Bring `engine` to the journal's head: the newest snapshot in `snapshot_dir` that matches
    the journal, then every block after it re-executed, each parent link and seal (`sealer`:
    chain id, authority) checked. Returns the block the replay started after (0: genesis).
    The node's recovery and a witness's start (ledger_node/witness/) share it."""
    head = journal.head()
    if head is None:
        return 0
    replay_from = await _load_snapshot(journal, engine, snapshot_dir, head.number)
    total = journal.block_count_after(replay_from)
    previous = journal.block(replay_from) if replay_from else None
    parent = previous.hash if previous else bytes.fromhex((await engine.block(0))["hash"][2:])
    for done, block in enumerate(journal.blocks_after(replay_from), start=1):
        _check_links(sealer, block, parent)
        parent = block.hash
        try:
            await replay_block(engine, journal, block)
        except ReplayMismatch as exc:
            raise RecoveryError(
                f"refusing to start: {exc}. The journal or the engine is not what it was"
            ) from exc
        if progress is not None:
            progress(done, total)
    return replay_from


def _check_links(sealer: tuple[int, str], block: JournalBlock, parent: bytes) -> None:
    if block.parent_hash != parent:
        raise RecoveryError(
            f"refusing to start: block {block.number}'s parent link is broken in the journal "
            f"(records 0x{block.parent_hash.hex()}, the previous block is 0x{parent.hex()})"
        )
    chain_id, authority = sealer
    signer = seal_signer(block.seal, chain_id, block.number, block.hash, block.parent_hash)
    if signer != authority:
        raise RecoveryError(
            f"refusing to start: block {block.number}'s seal is not the authority's "
            f"(signed by {signer or 'nobody: invalid signature'}, expected {authority})"
        )


async def _load_snapshot(
    journal: Journal, engine: Engine, snapshot_dir: Path, head_number: int
) -> int:
    """Restart the engine from the newest snapshot that matches the journal; returns the block
    it stands at (0 if none: the engine stays at genesis)."""
    for snapshot in journal.snapshots():
        if snapshot.block > head_number:
            continue
        recorded = journal.block(snapshot.block)
        path = snapshot_dir / snapshot.path
        if recorded is None or recorded.hash != snapshot.hash or not path.exists():
            log.warning("snapshot at block %d is unusable; trying an older one", snapshot.block)
            continue
        await engine.stop()
        engine.load_state_path = path
        try:
            await engine.start()
            loaded = await engine.block("latest")
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
            await engine.call("evm_setTime", [recorded.timestamp])
            return snapshot.block
        log.warning(
            "snapshot at block %d does not match the journal; trying an older one", snapshot.block
        )
    if engine.load_state_path is not None:
        await engine.stop()
        engine.load_state_path = None
        await engine.start()
    return 0
