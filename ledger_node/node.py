"""The ledger node: permission gateway, sequencer and journal around a private anvil engine."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, SNAPSHOT_DIR, NodeConfig, fsync_dir
from ledger_node.engine import Engine
from ledger_node.errors import INVALID_PARAMS, TRANSACTION_REJECTED, RecoveryError, RpcError
from ledger_node.integrity import HeadMarker
from ledger_node.journal import Journal, JournalBlock, JournalTx, Snapshot
from ledger_node.permission import PermissionGate, allowed_call_data
from ledger_node.seal import sign_seal
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

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        await self.engine.start()
        from ledger_node.recovery import recover

        await recover(self, progress)
        self._sequencer = asyncio.create_task(self._run_sequencer(), name="sequencer")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._sequencer is not None:
            self._sequencer.cancel()
            # The node is going down either way; a failed sequencer has already logged why.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sequencer
        await self.engine.stop()
        self.journal.close()

    def add_listener(self, listener: BlockListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: BlockListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # ------------------------------------------------------------------------- transactions

    async def submit_raw(self, raw_txs: list[Any]) -> list[str | RpcError]:
        """Validate, permission-check and hand transactions to the engine; journal (fsync) the
        accepted ones in one commit; only then return their hashes."""
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
            replies = await self.engine.batch(
                [("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for _, tx in to_send]
            )
            accepted: list[JournalTx] = []
            for (index, tx), reply in zip(to_send, replies, strict=True):
                if "error" in reply:
                    message = reply["error"].get("message", "rejected by the engine")
                    results[index] = RpcError(
                        TRANSACTION_REJECTED, f"transaction rejected: {message}"
                    )
                    continue
                accepted.append(JournalTx(tx.hash, tx.raw, tx.sender, tx.nonce))
                self._nonces[tx.sender] = tx.nonce + 1
                results[index] = "0x" + tx.hash.hex()
            # Durable before any of these hashes leaves the node.
            self.journal.append_txs(accepted)
            self._pending += len(accepted)
        if accepted and self.config.block_period == 0:
            # Instant sealing: with no block period the caller's block is sealed before the
            # hash is returned, so a client polling for the receipt finds it at once.
            await self.seal_block()
        elif accepted:
            self._wake.set()
        return [r if r is not None else RpcError(INVALID_PARAMS, "unprocessed") for r in results]

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
            if self._pending == 0:
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
                log.exception("sealing failed; retrying in one block period")
                await asyncio.sleep(max(period, 0.5))
            last_seal = time.monotonic()

    async def seal_block(self, *, allow_empty: bool = False) -> JournalBlock | None:
        async with self._lock:
            if self._pending == 0 and not allow_empty:
                return None
            timestamp = max(self.last_timestamp + 1, int(time.time()) + self.clock_offset)
            await self.engine.mine(timestamp)
            engine_block = await self.engine.block("latest")
            block = self._journal_block(engine_block)
            self.journal.record_block(block)
            self._pending = self.journal.pending_count()
            self.last_timestamp = block.timestamp
            self.head_number = block.number
            # Still under the lock: no transaction is accepted until the gate has seen this
            # block's membership events (a suspension must bite at once).
            logs = await self._update_gate(engine_block, block)
            self.head_marker.record(block.number, block.hash, self.gate.access_address)
        await self._after_block(engine_block, block, logs)
        return block

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
            await self.snapshot()
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
            state = await self.engine.dump_state()
            head = await self.engine.block("latest")
        number = int(head["number"], 16)
        directory = self.data_dir / SNAPSHOT_DIR
        directory.mkdir(exist_ok=True)
        final = directory / f"state-{number:012d}.json"
        temporary = directory / f".state-{number:012d}.json.tmp"
        # anvil_dumpState answers gzip'd JSON in hex; anvil --load-state reads the plain JSON.
        with open(temporary, "wb") as handle:
            handle.write(gzip.decompress(bytes.fromhex(state.removeprefix("0x"))))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        fsync_dir(directory)
        snapshot = Snapshot(number, final.name, bytes.fromhex(head["hash"][2:]))
        self.journal.record_snapshot(snapshot)
        self._prune_snapshots(keep=3)
        return snapshot

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
