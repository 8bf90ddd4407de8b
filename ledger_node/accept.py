"""The node's accept path: decode, check, journal (fsync'd) and only then hand transactions to
the engine; and removing journaled transactions the engine refused.

Batches are accepted concurrently (ledger_node/seal_lock.py): each holds the seal lock shared,
so their engine hand-offs overlap, while sealing waits until every hand-off is answered. What
must not interleave runs without an await in between: the idempotency and nonce checks, the
nonce reservations and the journal commit. So two batches never take the same nonce, and no
transaction reaches the engine before its commit. A sender's later nonce may reach the engine
before an earlier one still in flight; anvil holds it until the gap closes, and the block is
mined only after both were answered, so blocks keep each sender's nonce order.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from ledger_node.admission import NonceTracker, check_envelope, nonce_refusal, not_permitted
from ledger_node.config import NodeConfig
from ledger_node.disk_guard import DiskGuard
from ledger_node.engine import Engine
from ledger_node.errors import INTERNAL_ERROR, INVALID_PARAMS, RpcError
from ledger_node.journal import Journal, JournalTx
from ledger_node.permission import PermissionGate
from ledger_node.rpc_policy import engine_refusal
from ledger_node.seal_lock import SealLock
from ledger_node.txcodec import DecodedTx, decode_raw_tx

log = logging.getLogger("ledger_node")
Results = list[str | RpcError | None]


class Acceptor:
    def __init__(
        self,
        config: NodeConfig,
        journal: Journal,
        engine: Engine,
        gate: PermissionGate,
        disk: DiskGuard,
        lock: SealLock,
        add_pending: Callable[[int], None],
    ) -> None:
        self.config = config
        self.journal = journal
        self.engine = engine
        self.gate = gate
        self.disk = disk
        self.lock = lock
        self.nonces = NonceTracker(engine)
        # Counts journaled transactions now waiting for a block, and wakes the sealer.
        self._add_pending = add_pending
        # Journaled transactions the engine refused, whose rows could not yet be removed.
        self._unforgotten: list[bytes] = []

    async def submit(self, raw_txs: list[Any]) -> tuple[list[str | RpcError], int]:
        """Validate and permission-check transactions, journal (fsync) them in one commit, only
        then hand them to the engine. Returns each one's hash or refusal, and how many the
        engine took."""
        results: Results = [None] * len(raw_txs)
        decoded: list[tuple[int, DecodedTx]] = []
        for index, raw in enumerate(raw_txs):
            try:
                tx = decode_raw_tx(raw)
                check_envelope(tx, self.config)
                decoded.append((index, tx))
            except RpcError as error:
                results[index] = error
        accepted = 0
        async with self.lock.shared():
            if decoded and not self.disk.check():
                for index, _ in decoded:
                    results[index] = self.disk.refusal()
                decoded = []
            if decoded:
                allowed = await self.gate.allowed_many([tx for _, tx in decoded])
                decoded = self._permitted(decoded, allowed, results)
                await self.nonces.fetch({tx.sender for _, tx in decoded})
                # From here to the commit nothing awaits: checks, reservations and the journal
                # write are one step as far as any other batch can tell.
                to_send = self._admit(decoded, results)
                if self._journal(to_send, results):
                    accepted = await self._execute(to_send, results)
        answers = [r if r is not None else RpcError(INVALID_PARAMS, "unprocessed") for r in results]
        return answers, accepted

    def _permitted(
        self, decoded: list[tuple[int, DecodedTx]], allowed: list[bool], results: Results
    ) -> list[tuple[int, DecodedTx]]:
        permitted = []
        for (index, tx), ok in zip(decoded, allowed, strict=True):
            if ok:
                permitted.append((index, tx))
            else:
                results[index] = not_permitted(tx)
        return permitted

    def _admit(
        self, decoded: list[tuple[int, DecodedTx]], results: Results
    ) -> list[tuple[int, DecodedTx]]:
        """Idempotent resubmissions answered with their hash; each other transaction must carry
        its sender's next nonce, which it then reserves."""
        known = self.journal.known_txs([tx.hash for _, tx in decoded])
        to_send: list[tuple[int, DecodedTx]] = []
        for index, tx in decoded:
            if tx.hash in known:
                results[index] = "0x" + tx.hash.hex()  # idempotent resubmission
                continue
            refusal = nonce_refusal(tx, self.nonces.expected(tx.sender))
            if refusal is not None:
                results[index] = refusal
                continue
            self.nonces.reserve(tx.sender, tx.nonce)
            to_send.append((index, tx))
        return to_send

    def _journal(self, to_send: list[tuple[int, DecodedTx]], results: Results) -> bool:
        """One fsync'd commit; on failure the reservations are undone and all are refused."""
        if not to_send:
            return False
        try:
            self.journal.append_txs(JournalTx(t.hash, t.raw, t.sender, t.nonce) for _, t in to_send)
        except (sqlite3.Error, OSError) as exc:
            self.disk.write_failed(exc, f"journaling {len(to_send)} transactions")
            for index, tx in reversed(to_send):  # latest first: each restores the one before
                self.nonces.release(tx.sender, tx.nonce)
                results[index] = self.disk.refusal()
            return False
        return True

    async def _execute(self, to_send: list[tuple[int, DecodedTx]], results: Results) -> int:
        """Hand the journaled transactions to the engine; returns how many it took. Still under the shared lock, so a refused row is removed before anything is sealed."""
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
            self._add_pending(len(to_send))
            return 0
        accepted = 0
        refused: list[bytes] = []
        for (index, tx), reply in zip(to_send, replies, strict=True):
            if "error" in reply:
                message = reply["error"].get("message", "rejected by the engine")
                results[index] = engine_refusal(tx.gas_price, message)
                refused.append(tx.hash)
                self.nonces.release(tx.sender, tx.nonce)
                continue
            results[index] = "0x" + tx.hash.hex()
            accepted += 1
        if refused:
            self.forget(refused)
        self._add_pending(accepted)
        return accepted

    def forget(self, hashes: list[bytes]) -> bool:
        """Remove journal rows the engine refused (those of earlier failed attempts too)."""
        self._unforgotten.extend(hashes)
        if not self._unforgotten:
            return True
        try:
            self.journal.forget_txs(self._unforgotten)
        except (sqlite3.Error, OSError) as exc:
            self.disk.write_failed(exc, "removing refused transactions from the journal")
            return False
        self._unforgotten.clear()
        return True
