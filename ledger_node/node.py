"""The ledger node: permission gateway, sequencer and journal around a private anvil engine."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from citypass.core.files import fsync_path
from citypass.protocol.seals import sign_seal
from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, SNAPSHOT_DIR, NodeConfig
from ledger_node.disk_guard import (
    CHECK_INTERVAL_SECONDS,
    DEFAULT_MIN_FREE_MB,
    MB,
    DiskGuard,
    is_disk_error,
)
from ledger_node.engine import Engine
from ledger_node.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    LIMIT_EXCEEDED,
    TRANSACTION_REJECTED,
    RecoveryError,
    RpcError,
)
from ledger_node.integrity import HeadMarker
from ledger_node.journal import Journal, JournalBlock, JournalTx, Snapshot
from ledger_node.permission import PermissionGate, allowed_call_data
from ledger_node.rpc_policy import engine_refusal
from ledger_node.supervisor import EngineSupervisor, SupervisionSettings
from ledger_node.txcodec import DecodedTx, decode_raw_tx, intrinsic_gas

log = logging.getLogger("ledger_node")
BlockListener = Callable[[dict[str, Any], list[dict[str, Any]]], Awaitable[None]]
ACCESS_META = "access_contract"  # journal meta key, shared with recovery


class LedgerNode:
    def __init__(
        self,
        data_dir: Path,
        config: NodeConfig,
        authority: LocalAccount,
        *,
        dev_clock: bool = False,
        supervision: SupervisionSettings | None = None,
        min_free_bytes: int = DEFAULT_MIN_FREE_MB * MB,
    ) -> None:
        if authority.address != config.authority:
            raise RecoveryError(
                f"the keystore holds {authority.address}, but the data directory's authority is {config.authority}"
            )
        self.data_dir = data_dir
        self.config = config
        self.authority = authority
        self.journal = Journal(data_dir / JOURNAL_FILE)
        self.head_marker = HeadMarker(data_dir)
        self.engine = Engine(
            data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=config.chain_id
        )
        self.gate = PermissionGate(self.engine, config.authority)
        self.supervisor = EngineSupervisor(self, supervision or SupervisionSettings())
        self._lock = asyncio.Lock()  # accepting transactions and sealing never interleave
        self._wake = asyncio.Event()
        self._pending = 0
        self._nonces: dict[bytes, int] = {}
        self._listeners: list[BlockListener] = []
        self._discovery_backlog: list[JournalBlock] = []
        self._stopping = False
        self._sequencer: asyncio.Task | None = None
        self.last_timestamp = config.genesis_timestamp
        self.head_number = 0
        self.started_at = time.time()
        # A development clock lets the demo simulate a day: the operator moves the time of the
        # next block forward through the admin listener. Timestamps are journaled, so replay
        # and verification are unaffected. Never on for a production ledger.
        self.dev_clock = dev_clock
        self.clock_offset = 0
        self.disk = DiskGuard(data_dir, min_free_bytes)
        # A block the engine mined but the journal could not record: it is recorded (this very
        # block) before anything else is mined, so the journal never has a gap.
        self._unrecorded: tuple[dict[str, Any], JournalBlock] | None = None
        # Journaled transactions the engine refused, whose rows could not yet be removed.
        self._unforgotten: list[bytes] = []
        self._disk_watch: asyncio.Task | None = None

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        await self.engine.start()
        from ledger_node.recovery import recover

        await recover(self, progress)
        self.disk.check()
        self._sequencer = asyncio.create_task(self._run_sequencer(), name="sequencer")
        self._disk_watch = asyncio.create_task(self._watch_disk(), name="disk-watch")
        self.supervisor.start()

    async def restore_engine(self) -> None:
        """After the engine died: a new one, restored from snapshot and journal as on start
        (the journaled but unsealed transactions go back to it). Nothing is accepted or sealed
        meanwhile."""
        from ledger_node.recovery import recover

        async with self._lock:
            await self.engine.stop()
            self.engine.load_state_path = None
            await self.engine.start()
            self._nonces.clear()  # the journal decides them again
            # A mined block the journal could not record died with the engine; its
            # transactions are still pending in the journal and are sealed again.
            self._unrecorded = None
            await recover(self)

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
        then hand them to the engine, and return the hashes of those it took."""
        results: list[str | RpcError | None] = [None] * len(raw_txs)
        decoded: list[tuple[int, DecodedTx]] = []
        for index, raw in enumerate(raw_txs):
            try:
                tx = decode_raw_tx(raw)
                if tx.chain_id != self.config.chain_id:
                    raise RpcError(
                        TRANSACTION_REJECTED,
                        f"wrong chain id {tx.chain_id}: this ledger is chain {self.config.chain_id}; re-sign for it",
                    )
                if tx.gas < intrinsic_gas(tx):
                    raise RpcError(
                        TRANSACTION_REJECTED,
                        f"intrinsic gas too low: gas {tx.gas} does not cover the {intrinsic_gas(tx)} "
                        "the transaction costs before it runs",
                    )
                if tx.gas > self.config.gas_limit:
                    raise RpcError(
                        TRANSACTION_REJECTED,
                        f"gas {tx.gas} exceeds the block gas limit {self.config.gas_limit}",
                    )
                decoded.append((index, tx))
            except RpcError as error:
                results[index] = error
        async with self._lock:
            if decoded and not self.disk.check():
                for index, _ in decoded:
                    results[index] = self.disk.refusal()
                decoded = []
            allowed = await self.gate.allowed_many([tx for _, tx in decoded])
            to_send: list[tuple[int, DecodedTx]] = []
            seen_in_batch: dict[bytes, int] = {}
            for (index, tx), ok in zip(decoded, allowed, strict=True):
                if not ok:
                    results[index] = RpcError(
                        TRANSACTION_REJECTED,
                        f"account {to_checksum_address(tx.sender)} is not permitted to transact on this ledger "
                        "(not an active member or role holder of CityAccess)",
                    )
                    continue
                if self.journal.has_tx(tx.hash):
                    results[index] = "0x" + tx.hash.hex()  # idempotent resubmission
                    continue
                expected = seen_in_batch.get(tx.sender)
                if expected is None:
                    expected = await self._next_nonce(tx.sender)
                if tx.nonce < expected:
                    results[index] = RpcError(
                        TRANSACTION_REJECTED,
                        f"nonce {tx.nonce} too low (replay): the next nonce of this account is {expected}",
                    )
                    continue
                if tx.nonce > expected:
                    results[index] = RpcError(
                        TRANSACTION_REJECTED,
                        f"nonce gap: nonce {tx.nonce} given, the next nonce of this account is {expected}",
                    )
                    continue
                seen_in_batch[tx.sender] = expected + 1
                to_send.append((index, tx))
            accepted = await self._journal_then_execute(to_send, results)
        if accepted and self.config.block_period == 0:
            # Instant sealing: with no block period the caller's block is sealed before the
            # hash is returned, so a client polling for the receipt finds it at once.
            await self.seal_block()
        elif accepted:
            self._wake.set()
        return [r if r is not None else RpcError(INVALID_PARAMS, "unprocessed") for r in results]

    async def _journal_then_execute(
        self, to_send: list[tuple[int, DecodedTx]], results: list[str | RpcError | None]
    ) -> int:
        """Journal (one fsync'd commit), then execute; returns how many the engine took.
        Called under the lock, so a refused row is removed before anything is sealed."""
        if not to_send:
            return 0
        try:
            self.journal.append_txs(JournalTx(t.hash, t.raw, t.sender, t.nonce) for _, t in to_send)
        except (sqlite3.Error, OSError) as exc:
            self._write_failed(exc, f"journaling {len(to_send)} transactions")
            for index, _ in to_send:
                results[index] = self.disk.refusal()
            return 0
        try:
            replies = await self.engine.batch(
                [("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for _, tx in to_send]
            )
        except Exception as exc:
            # The engine may have taken some of them, so the journaled rows stay (removing one
            # it executed would break the journal); recovery or the next block runs them.
            log.error("the engine did not answer %d journaled transactions: %s", len(to_send), exc)
            for index, tx in to_send:
                results[index] = RpcError(
                    INTERNAL_ERROR,
                    f"the engine did not answer: transaction 0x{tx.hash.hex()} is journaled and "
                    "will execute when the engine is back; poll for its receipt, do not re-sign it",
                )
            self._pending += len(to_send)
            self._wake.set()  # the sequencer, not this request, finds out whether the engine is back
            return 0
        accepted = 0
        refused: list[bytes] = []
        for (index, tx), reply in zip(to_send, replies, strict=True):
            if "error" in reply:
                message = reply["error"].get("message", "rejected by the engine")
                results[index] = engine_refusal(tx.gas_price, message)
                refused.append(tx.hash)
                continue
            self._nonces[tx.sender] = tx.nonce + 1
            results[index] = "0x" + tx.hash.hex()
            accepted += 1
        if refused:
            self._forget(refused)
        self._pending += accepted
        return accepted

    def _forget(self, hashes: list[bytes]) -> bool:
        """Remove journal rows the engine refused (those of earlier failed attempts too)."""
        self._unforgotten.extend(hashes)
        if not self._unforgotten:
            return True
        try:
            self.journal.forget_txs(self._unforgotten)
        except (sqlite3.Error, OSError) as exc:
            self._write_failed(exc, "removing refused transactions from the journal")
            return False
        self._unforgotten.clear()
        return True

    def _write_failed(self, exc: BaseException, doing: str) -> None:
        if not is_disk_error(exc):
            log.exception("%s failed with an unexpected error; treated as a disk fault", doing)
        self.disk.trip(exc, doing)

    async def pending_nonces(self, senders: list[bytes]) -> list[int | None]:
        """eth_getTransactionCount(sender, "pending"): the nonce the node accepts next, from the
        tracking that accepts it (set in the same step as the journal write), so it never counts
        a transaction the journal does not hold; None where the engine could not answer.
        Read-only: only submit_raw, under the lock, fills the tracking (a read racing a
        submission must not put back an older count). Senders not tracked yet are asked of the
        engine in one batch."""
        counts: list[int | None] = [self._nonces.get(sender) for sender in senders]
        unknown = [i for i, count in enumerate(counts) if count is None]
        if unknown:
            replies = await self.engine.batch(
                [
                    ("eth_getTransactionCount", [to_checksum_address(senders[i]), "pending"])
                    for i in unknown
                ]
            )
            for i, reply in zip(unknown, replies, strict=True):
                result = reply.get("result")
                counts[i] = int(result, 16) if isinstance(result, str) else None
        return counts

    async def _next_nonce(self, sender: bytes) -> int:
        cached = self._nonces.get(sender)
        if cached is not None:
            return cached
        count = int(
            await self.engine.call(
                "eth_getTransactionCount", [to_checksum_address(sender), "pending"]
            ),
            16,
        )
        self._nonces[sender] = count
        return count

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
        async with self._lock:
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
            self._write_failed(exc, f"recording block {block.number}")
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
        logs = await self._update_gate(engine_block, block)
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
        async with self._lock:
            if not self._forget([]):
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

    async def _update_gate(
        self, engine_block: dict[str, Any], block: JournalBlock
    ) -> list[dict[str, Any]]:
        logs: list[dict[str, Any]] = []
        if block.tx_hashes:
            try:
                logs = (
                    await self.engine.call("eth_getLogs", [{"blockHash": engine_block["hash"]}])
                    or []
                )
            except Exception:
                log.exception(
                    "could not read block %d's logs; dropping every cached permission", block.number
                )
                self.gate.set_access_contract(self.gate.access_address)
        self.gate.invalidate_from_logs(logs)
        if self.gate.access_address is None and block.tx_hashes:
            self._discovery_backlog.append(block)
            try:
                while self._discovery_backlog and self.gate.access_address is None:
                    await self._discover_access_contract(self._discovery_backlog[0])
                    self._discovery_backlog.pop(0)
            except Exception:  # retried with the next block
                log.exception("looking for the permission contract failed; will retry")
        return logs

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
            seal=sign_seal(self.authority, self.config.chain_id, number, block_hash, parent),
        )

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

    async def _discover_access_contract(self, block: JournalBlock) -> None:
        """The first contract the authority deploys that answers transactionAllowed(authority)
        with true becomes the permission contract (recorded in the journal for restarts)."""
        replies = await self.engine.batch(
            [("eth_getTransactionReceipt", ["0x" + h.hex()]) for h in block.tx_hashes]
        )
        for reply in replies:
            receipt = reply.get("result") or {}
            created = receipt.get("contractAddress")
            if not created or to_checksum_address(receipt["from"]) != self.config.authority:
                continue
            if await self._answers_transaction_allowed(created):
                address = to_checksum_address(created)
                self.journal.set_meta(ACCESS_META, address)
                self.gate.set_access_contract(address)
                log.info("permission contract discovered at %s", address)
                return

    async def _answers_transaction_allowed(self, address: str) -> bool:
        data = allowed_call_data(bytes.fromhex(self.config.authority[2:]), None, 0, 0, 0, b"")
        reply = (
            await self.engine.batch([("eth_call", [{"to": address, "data": data}, "latest"])])
        )[0]
        result = reply.get("result")
        return isinstance(result, str) and len(result) == 66 and int(result, 16) == 1

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
        async with self._lock:
            if self._unrecorded is not None:  # the engine is a block ahead of the journal
                raise RpcError(
                    LIMIT_EXCEEDED,
                    f"block {self._unrecorded[1].number} is not recorded yet (disk alarm): "
                    "free space; the node snapshots again once it has resumed",
                    self.disk.describe(),
                )
            state = await self.engine.dump_state()
            head = await self.engine.block("latest")
        number = int(head["number"], 16)
        directory = self.data_dir / SNAPSHOT_DIR
        final = directory / f"state-{number:012d}.json"
        temporary = directory / f".state-{number:012d}.json.tmp"
        try:
            directory.mkdir(exist_ok=True)
            for stale in directory.glob(".state-*.json.tmp"):  # left by a crash
                stale.unlink(missing_ok=True)
            # anvil_dumpState answers gzip'd JSON in hex; anvil --load-state reads the plain JSON.
            with open(temporary, "wb") as handle:
                handle.write(gzip.decompress(bytes.fromhex(state.removeprefix("0x"))))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            fsync_path(directory)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise self._snapshot_failed(exc, number) from exc
        snapshot = Snapshot(number, final.name, bytes.fromhex(head["hash"][2:]))
        try:
            self.journal.record_snapshot(snapshot)
        except sqlite3.Error as exc:
            if all(s.block != number for s in self.journal.snapshots()):
                final.unlink(missing_ok=True)  # unrecorded, it would only take space
            raise self._snapshot_failed(exc, number) from exc
        self._prune_snapshots(keep=3)
        return snapshot

    def _snapshot_failed(self, exc: BaseException, number: int) -> RpcError:
        """The older snapshots stay; a full disk raises the alarm (lowered once space is back)."""
        if not is_disk_error(exc):
            log.exception("the snapshot at block %d failed", number)
            return RpcError(INTERNAL_ERROR, f"the snapshot at block {number} failed: {exc}")
        self.disk.trip(exc, f"writing the snapshot at block {number}")
        return RpcError(
            LIMIT_EXCEEDED,
            f"the snapshot at block {number} could not be written ({exc}): free space in the "
            "data directory; the older snapshots are kept",
            self.disk.describe(),
        )

    def _prune_snapshots(self, keep: int) -> None:
        for old in self.journal.snapshots()[keep:]:
            path = self.data_dir / SNAPSHOT_DIR / old.path
            if path.exists():
                path.unlink()

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
        }

    def seal_of(self, number: int) -> dict[str, Any] | None:
        block = self.journal.block(number)
        if block is None:
            return None
        return {
            "number": hex(block.number),
            "hash": "0x" + block.hash.hex(),
            "parentHash": "0x" + block.parent_hash.hex(),
            "chainId": hex(self.config.chain_id),
            "authority": self.config.authority,
            "signature": "0x" + block.seal.hex(),
        }

    def journal_entry(self, number: int) -> dict[str, Any] | None:
        block = self.journal.block(number)
        if block is None:
            return None
        raws = self.journal.raw_txs(block.tx_hashes)
        return {
            "number": hex(block.number),
            "timestamp": hex(block.timestamp),
            "hash": "0x" + block.hash.hex(),
            "parentHash": "0x" + block.parent_hash.hex(),
            "transactions": ["0x" + h.hex() for h in block.tx_hashes],
            "rawTransactions": ["0x" + r.hex() for r in raws],
            "seal": "0x" + block.seal.hex(),
        }
