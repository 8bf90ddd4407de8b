"""The ledger node: permission gateway, sequencer and journal around a private anvil engine.

Here: sealing blocks, and the disk alarm around accepting and sealing. Apart: the accept path
(accept.py: journal first, then the engine), admission checks (admission.py), recovery (recovery.py), engine supervision
(supervisor.py), snapshots, the permission gate (gate_follower.py), journal views (journal_views.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from citypass.protocol.seals import sign_seal
from ledger_node.accept import Acceptor
from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, NodeConfig
from ledger_node.disk_guard import (
    CHECK_INTERVAL_SECONDS,
    DEFAULT_MIN_FREE_MB,
    MB,
    DiskGuard,
)
from ledger_node.engine import Engine
from ledger_node.errors import (
    INVALID_PARAMS,
    LIMIT_EXCEEDED,
    RecoveryError,
    RpcError,
)
from ledger_node.gate_follower import GateFollower
from ledger_node.integrity import HeadMarker
from ledger_node.journal import Journal, JournalBlock, Snapshot
from ledger_node.journal_views import journal_entry_view, seal_view
from ledger_node.permission import PermissionGate
from ledger_node.recovery import RecoveryParts, recover
from ledger_node.seal_lock import SealLock
from ledger_node.snapshots import SnapshotWriter
from ledger_node.supervisor import EngineSupervisor, SupervisionSettings

log = logging.getLogger("ledger_node")
BlockListener = Callable[[dict[str, Any], list[dict[str, Any]]], Awaitable[None]]


class LedgerNode:
    def __init__(
        self,
        data_dir: Path,
        config: NodeConfig,
        authority: Future[LocalAccount],
        *,
        dev_clock: bool = False,
        supervision: SupervisionSettings | None = None,
        min_free_bytes: int = DEFAULT_MIN_FREE_MB * MB,
    ) -> None:
        self.data_dir = data_dir
        self.config = config
        # The authority key, still being decrypted (keystore.unlock_authority) while start()
        # recovers: it is needed from the first seal on.
        self._unlocking = authority
        self._authority: LocalAccount | None = None
        self.journal = Journal(data_dir / JOURNAL_FILE)
        self.head_marker = HeadMarker(data_dir)
        self.engine = Engine(
            data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=config.chain_id
        )
        self.gate = PermissionGate(self.engine, config.authority)
        self.gate_follower = GateFollower(self.engine, self.gate, self.journal, config.authority)
        self.supervisor = EngineSupervisor(
            self.engine,
            self.restore_engine,
            lambda: (self.head_number, self._pending),
            supervision or SupervisionSettings(),
        )
        # Accepting holds it shared (batches overlap), sealing and restoring exclusive.
        self._lock = SealLock()
        self._wake = asyncio.Event()
        self._pending = 0
        self._listeners: list[BlockListener] = []
        self._stopping = False
        self._sequencer: asyncio.Task | None = None
        self.last_timestamp = config.genesis_timestamp
        self.head_number = 0
        self.started_at = time.time()
        self.journal_check: dict[str, Any] | None = None  # set by recovery at start
        # A development clock lets the demo simulate a day: the operator moves the time of the
        # next block forward through the admin listener. Timestamps are journaled, so replay
        # and verification are unaffected. Never on for a production ledger.
        self.dev_clock = dev_clock
        self.clock_offset = 0
        self.disk = DiskGuard(data_dir, min_free_bytes)
        self.snapshots = SnapshotWriter(data_dir, self.journal, self.disk)
        self.acceptor = Acceptor(
            config, self.journal, self.engine, self.gate, self.disk, self._lock, self._add_pending
        )
        # A block the engine mined but the journal could not record: it is recorded (this very
        # block) before anything else is mined, so the journal never has a gap.
        self._unrecorded: tuple[dict[str, Any], JournalBlock] | None = None
        self._disk_watch: asyncio.Task | None = None

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        await self.engine.start()
        await self._recover(progress)
        authority = await asyncio.wrap_future(self._unlocking)
        if authority.address != self.config.authority:
            raise RecoveryError(
                f"the keystore holds {authority.address}, but the data directory's authority is "
                f"{self.config.authority}"
            )
        self._authority = authority
        self.disk.check()
        self._sequencer = asyncio.create_task(self._run_sequencer(), name="sequencer")
        self._disk_watch = asyncio.create_task(self._watch_disk(), name="disk-watch")
        self.supervisor.start()

    async def restore_engine(self) -> None:
        """After the engine died: a new one, restored from snapshot and journal as on start
        (the journaled but unsealed transactions go back to it). Nothing is accepted or sealed
        meanwhile."""
        async with self._lock.exclusive():
            await self.engine.stop()
            self.engine.load_state_path = None
            await self.engine.start()
            self.acceptor.nonces.clear()
            # A mined block the journal could not record died with the engine; its
            # transactions are still pending in the journal and are sealed again.
            self._unrecorded = None
            await self._recover()

    async def _recover(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        """Engine and journal as they were (recovery.py); the node's head, clock and pending
        count from what recovery found."""
        parts = RecoveryParts(
            self.data_dir, self.config, self.journal, self.engine, self.gate, self.head_marker
        )
        recovered = await recover(parts, progress)
        head = recovered.head
        self.journal_check = recovered.journal_check()
        if head is not None:
            self.last_timestamp = head.timestamp
            self.head_number = head.number
            if self.dev_clock:
                # A simulation that had moved block time ahead goes on from where it was.
                self.clock_offset = max(0, head.timestamp - int(time.time()))
        if recovered.refused:
            self.acceptor.forget(recovered.refused)
        self._pending = len(recovered.pending)
        if recovered.pending:
            self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        await self.supervisor.stop()
        self._wake.set()
        for task in (self._sequencer, self._disk_watch):
            if task is not None:
                task.cancel()
                # The node is going down either way; a failed task has already logged why.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._unrecorded is not None:
            self._record_on_stop(*self._unrecorded)
        await self.engine.stop()
        self.journal.close()

    def add_listener(self, listener: BlockListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: BlockListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # ------------------------------------------------------------------------- transactions

    async def submit_raw(self, raw_txs: list[Any]) -> list[str | RpcError]:
        """Validate and permission-check transactions, journal (fsync) them in one commit, only
        then hand them to the engine (accept.py), and return the hashes of those it took."""
        results, accepted = await self.acceptor.submit(raw_txs)
        if accepted and self.config.block_period == 0:
            # Instant sealing: with no block period the caller's block is sealed before the
            # hash is returned, so a client polling for the receipt finds it at once.
            await self.seal_block()
        return results

    def _add_pending(self, count: int) -> None:
        self._pending += count
        if count:
            self._wake.set()  # the sequencer, not the request, finds out whether to seal

    async def pending_nonces(self, senders: list[bytes]) -> list[int | None]:
        """eth_getTransactionCount(sender, "pending"): the nonce the node accepts next (never
        counting a transaction the journal does not hold); None where the engine could not
        answer."""
        return await self.acceptor.nonces.pending(senders)

    # ---------------------------------------------------------------------------- sequencing

    async def _run_sequencer(self) -> None:
        period = self.config.block_period
        last_seal = time.monotonic()
        while not self._stopping:
            if self._pending == 0 or self.disk.alarmed:
                # Under the disk alarm the watcher wakes the sequencer once it has resumed.
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._pending < self.config.max_block_txs and period > 0:
                remaining = period - (time.monotonic() - last_seal)
                if remaining > 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=remaining)
                    if (
                        self._pending < self.config.max_block_txs
                        and time.monotonic() - last_seal < period
                    ):
                        continue
            try:
                await self.seal_block()
            except Exception:
                if not self.supervisor.available():  # the sealer pauses while it restarts
                    log.info("sealing paused: %s", self.supervisor.unavailable_error().message)
                    await self.supervisor.wait_available()
                    continue
                log.exception("sealing failed; retrying in one block period")
                await asyncio.sleep(max(period, 0.5))
            last_seal = time.monotonic()

    async def seal_block(self, *, allow_empty: bool = False) -> JournalBlock | None:
        async with self._lock.exclusive():
            if self._pending == 0 and not allow_empty:
                return None
            # Never mine a block the journal may not be able to record.
            if self._unrecorded is not None or not self.disk.check():
                return None
            timestamp = max(self.last_timestamp + 1, int(time.time()) + self.clock_offset)
            await self.engine.mine(timestamp)
            engine_block = await self.engine.block("latest")
            block = self._journal_block(engine_block)
            if not self._record(engine_block, block):
                return None
            logs = await self._after_record(engine_block, block)
        await self._after_block(engine_block, block, logs)
        return block

    def _record(self, engine_block: dict[str, Any], block: JournalBlock) -> bool:
        try:
            self.journal.record_block(block)
        except (sqlite3.Error, OSError) as exc:
            # The engine has the block: keep it and record this same block later; mining
            # another first would leave a gap in the journal.
            self._unrecorded = (engine_block, block)
            self.disk.write_failed(exc, f"recording block {block.number}")
            return False
        self._unrecorded = None
        return True

    def _record_on_stop(self, engine_block: dict[str, Any], block: JournalBlock) -> None:
        if self._recorded_already(block) or self._record(engine_block, block):
            log.info("block %d, mined under the disk alarm, is recorded", block.number)
            return
        log.error(
            "block %d was mined but could not be recorded; on restart its transactions are "
            "sealed again from the journal",
            block.number,
        )

    def _recorded_already(self, block: JournalBlock) -> bool:
        """A commit that reported an error may still have reached the disk."""
        try:
            existing = self.journal.block(block.number)
        except sqlite3.Error:
            return False
        return existing is not None and existing.hash == block.hash

    async def _after_record(
        self, engine_block: dict[str, Any], block: JournalBlock
    ) -> list[dict[str, Any]]:
        self._unrecorded = None
        self._pending = self.journal.pending_count()
        self.last_timestamp = block.timestamp
        self.head_number = block.number
        # Still under the lock: no transaction is accepted until the gate has seen this
        # block's membership events (a suspension must bite at once).
        logs = await self.gate_follower.after_block(engine_block, block)
        self.head_marker.record(block.number, block.hash, self.gate.access_address)
        return logs

    # ---------------------------------------------------------------------------- disk alarm

    async def _watch_disk(self) -> None:
        while not self._stopping:
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)
            try:
                await self._resume_if_space()
            except Exception:  # the watcher must outlive any one failed attempt
                log.exception("the disk check failed; retrying")

    async def _resume_if_space(self) -> None:
        """Under the alarm: once space is back, finish what the full disk interrupted (remove
        refused rows, record the mined block), then accept and seal again."""
        if self.disk.check() or not self.disk.may_resume():
            return
        finished: tuple[dict[str, Any], JournalBlock, list[dict[str, Any]]] | None = None
        async with self._lock.exclusive():
            if not self.acceptor.forget([]):
                return
            if self._unrecorded is not None:
                engine_block, block = self._unrecorded
                if not self._recorded_already(block) and not self._record(engine_block, block):
                    return
                logs = await self._after_record(engine_block, block)
                finished = (engine_block, block, logs)
            self.disk.clear()
        if finished is not None:
            await self._after_block(*finished)
        self._wake.set()

    def _journal_block(self, engine_block: dict[str, Any]) -> JournalBlock:
        number = int(engine_block["number"], 16)
        block_hash = bytes.fromhex(engine_block["hash"][2:])
        parent = bytes.fromhex(engine_block["parentHash"][2:])
        return JournalBlock(
            number=number,
            timestamp=int(engine_block["timestamp"], 16),
            hash=block_hash,
            parent_hash=parent,
            tx_hashes=tuple(bytes.fromhex(h[2:]) for h in engine_block["transactions"]),
            seal=sign_seal(self._sealer(), self.config.chain_id, number, block_hash, parent),
        )

    def _sealer(self) -> LocalAccount:
        if self._authority is None:  # start() sets it before the sequencer runs
            raise RecoveryError("the authority key is not unlocked yet: the node has not started")
        return self._authority

    async def _after_block(
        self, engine_block: dict[str, Any], block: JournalBlock, logs: list[dict[str, Any]]
    ) -> None:
        if block.number % self.config.snapshot_every == 0:
            try:
                await self.snapshot()
            except RpcError as error:  # already logged; the older snapshots serve recovery
                log.warning("snapshot at block %d skipped: %s", block.number, error.message)
            except Exception:
                log.exception("snapshot at block %d failed", block.number)
        for listener in list(self._listeners):
            try:
                await listener(engine_block, logs)
            except Exception:  # a broken subscriber must not stop the chain
                log.exception("a block listener failed")

    async def set_clock(self, timestamp: int) -> int:
        """Development clock: move block time forward to `timestamp` and seal an (empty) block
        there, so calls and gas estimates see the new time at once. Returns the block number."""
        now = int(time.time())
        current = max(self.last_timestamp, now + self.clock_offset)
        if timestamp < current:
            raise RpcError(
                INVALID_PARAMS,
                f"the clock only moves forward: it is at {current}, {timestamp} is earlier",
            )
        self.clock_offset = timestamp - now
        block = await self.seal_block(allow_empty=True)
        return block.number if block else self.head_number

    # ----------------------------------------------------------------------------- snapshots

    async def snapshot(self) -> Snapshot:
        """Dump the engine state atomically: temp file, fsync, rename, then journal it."""
        async with self._lock.exclusive():
            if self._unrecorded is not None:  # the engine is a block ahead of the journal
                raise RpcError(
                    LIMIT_EXCEEDED,
                    f"block {self._unrecorded[1].number} is not recorded yet (disk alarm): "
                    "free space; the node snapshots again once it has resumed",
                    self.disk.describe(),
                )
            state = await self.engine.dump_state()
            head = await self.engine.block("latest")
        return self.snapshots.write(state, head)

    # -------------------------------------------------------------------------- node methods

    def status(self) -> dict[str, Any]:
        snapshots = self.journal.snapshots()
        return {
            "chainId": hex(self.config.chain_id),
            "head": hex(self.head_number),
            "pending": self._pending,
            "journalBytes": self.journal.size_bytes(),
            "journalTransactions": self.journal.tx_count(),
            "lastSnapshot": hex(snapshots[0].block) if snapshots else None,
            "peers": [],
            "authority": self.config.authority,
            "accessContract": self.gate.access_address,
            "blockPeriod": self.config.block_period,
            "uptimeSeconds": round(time.time() - self.started_at, 1),
            "journalCheck": self.journal_check,  # what the last start checked (recovery.py)
        }

    def seal_of(self, number: int) -> dict[str, Any] | None:
        return seal_view(self.journal, self.config, number)

    def journal_entry(self, number: int) -> dict[str, Any] | None:
        return journal_entry_view(self.journal, number)
