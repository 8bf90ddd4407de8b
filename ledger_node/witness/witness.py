"""The witness's state: its own journal, engine and store, brought back on start from its own
data (a snapshot and the journal after it: ledger_node/recovery.replay_journal), and co-signing
(persisted before it is handed out; never below the co-signed head; nothing while alarmed).
Following the node is ledger_node/witness/follow.py."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from citypass.protocol.checkpoints import (
    CHECKPOINT_FIELDS,
    Checkpoint,
    CheckpointError,
    Cosignature,
    genesis_link,
    journal_link,
)
from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, SNAPSHOT_DIR
from ledger_node.disk_guard import MB, DiskGuard
from ledger_node.engine import Engine
from ledger_node.errors import RecoveryError
from ledger_node.journal import Journal
from ledger_node.recovery import replay_journal
from ledger_node.snapshots import SnapshotWriter
from ledger_node.witness.config import STORE_FILE, WitnessConfig
from ledger_node.witness.node_client import NodeClient
from ledger_node.witness.store import Cosigned, Executed, WitnessStore

log = logging.getLogger("ledger_node.witness")
MIN_FREE_BYTES = 64 * MB
_ATTRIBUTE = {
    "blockHash": "block_hash",
    "stateRoot": "state_root",
    "journalHash": "journal_hash",
}


class CosignRefused(Exception):
    """A co-signing request this witness refuses; nothing in its state changed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Recovery:
    """What this start brought back from the witness's own data (logged, on /health, metrics)."""

    head: int = 0
    replayed_from: int = 0  # the snapshot's block (0: replayed from genesis)
    replayed_blocks: int = 0


class Witness:
    def __init__(self, data_dir: Path, config: WitnessConfig, account: LocalAccount) -> None:
        self.data_dir, self.config, self.account = data_dir, config, account
        self.journal = Journal(data_dir / JOURNAL_FILE)
        self.store = WitnessStore(data_dir / STORE_FILE, config.chain_id, account.address)
        self.engine = Engine(
            data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=config.chain_id
        )
        self.disk = DiskGuard(data_dir, MIN_FREE_BYTES)
        self.snapshots = SnapshotWriter(data_dir, self.journal, self.disk)
        self.client = NodeClient(config.node_url)
        self.head = Executed(0, b"", b"", b"")
        self.cosigned: Cosigned | None = None
        self.recovery = Recovery()
        self.started = False
        self.alarm: str | None = None  # why it refused the node's history (survives restarts)
        self.node_head: int | None = None
        self.node_error: str | None = None  # why the node answered nothing (it may be restarting)
        self.refusals: Counter[str] = Counter()
        self.submissions: Counter[str] = Counter()
        self.refused_submission: tuple[int, float] | None = None  # (block, when) the node refused
        self.executed_blocks = 0
        self._lock = asyncio.Lock()

    # --------------------------------------------------------------------------------- start

    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        await self.engine.start()
        genesis = await self.engine.block(0)
        if genesis["hash"] != self.config.genesis_hash:
            raise RecoveryError(
                f"refusing to start: {self.data_dir / GENESIS_FILE} gives block 0 {genesis['hash']}, "
                f"not {self.config.genesis_hash} as at init: restore the genesis file"
            )
        head_block = self.journal.head()
        head_number = head_block.number if head_block else 0
        cosigned = self.store.latest_cosigned()
        if cosigned is not None and cosigned.checkpoint.number > head_number:
            raise RecoveryError(
                f"refusing to start: {STORE_FILE} co-signed block {cosigned.checkpoint.number} "
                f"but {JOURNAL_FILE} ends at block {head_number}: restore both from one backup"
            )
        started = time.monotonic()
        replayed_from = await replay_journal(
            self.journal,
            self.engine,
            self.data_dir / SNAPSHOT_DIR,
            (self.config.chain_id, self.config.authority),
            progress,
        )
        genesis_row = Executed(
            0,
            bytes.fromhex(genesis["hash"][2:]),
            genesis_link(bytes.fromhex(genesis["hash"][2:])),
            bytes.fromhex(genesis["stateRoot"][2:]),
        )
        self.store.record_executed([genesis_row])
        self.head = await self._rows_up_to(head_number, genesis_row)
        self.store.forget_executed_after(head_number)
        if cosigned is not None:
            mine = self.store.executed(cosigned.checkpoint.number)
            if mine is None or mine.block_hash != cosigned.checkpoint.block_hash:
                raise RecoveryError(
                    f"refusing to start: the co-signed block {cosigned.checkpoint.number} is not "
                    f"the one in {JOURNAL_FILE}: restore both from one backup"
                )
        self.cosigned = cosigned
        evidence = self.store.evidence()
        if evidence:
            last = evidence[-1]
            self.alarm = (
                f"kept evidence of a {last['kind']} at block {last['number']}: {last['reason']}"
            )
        self.recovery = Recovery(head_number, replayed_from, head_number - replayed_from)
        self.started = True
        log.info(
            "recovered from the witness's own journal: head %d, engine from %s, %d blocks "
            "re-executed in %.1f s",
            head_number,
            f"the snapshot at block {replayed_from}" if replayed_from else "genesis",
            head_number - replayed_from,
            time.monotonic() - started,
            extra={
                "head": head_number,
                "replayed_from": replayed_from,
                "cosigned": cosigned.checkpoint.number if cosigned else None,
                "alarm": self.alarm,
            },
        )

    async def _rows_up_to(self, head_number: int, genesis_row: Executed) -> Executed:
        """The executed rows from the last one recorded up to the journal's head (a crash may
        leave the store a few blocks behind the journal): state roots from the engine, which
        has just re-executed them."""
        row = genesis_row
        start = 0
        for number in range(head_number, 0, -1):
            found = self.store.executed(number)
            if found is not None:
                row, start = found, number
                break
        rows = []
        for block in self.journal.blocks_after(start):
            engine_block = await self.engine.block(block.number)
            if engine_block["hash"] != "0x" + block.hash.hex():
                raise RecoveryError(f"refusing to start: the engine's block {block.number} differs")
            row = Executed(
                block.number,
                block.hash,
                journal_link(row.journal_hash, block.number, block.hash, block.seal),
                bytes.fromhex(engine_block["stateRoot"][2:]),
            )
            rows.append(row)
        if rows:
            self.store.record_executed(rows)
        return row

    async def stop(self) -> None:
        await self.client.close()
        await self.engine.stop()
        self.journal.close()
        self.store.close()

    # ------------------------------------------------------------------------------ co-signing

    def checkpoint_at(self, number: int) -> Checkpoint | None:
        row = self.store.executed(number)
        if row is None:
            return None
        return Checkpoint(
            self.config.chain_id, number, row.block_hash, row.state_root, row.journal_hash
        )

    async def cosign(self, number: int) -> Cosigned:
        """Co-sign this witness's own checkpoint at `number` (≤ its head), persisted first."""
        async with self._lock:
            if self.alarm is not None:
                raise CosignRefused(
                    409,
                    "alarm",
                    f"this witness refused the node's history ({self.alarm}): it co-signs "
                    "nothing until its operator acts (GET /v1/evidence)",
                )
            latest = self.cosigned
            if latest is not None and number < latest.checkpoint.number:
                raise CosignRefused(
                    409,
                    "older",
                    f"checkpoint.number {number} is older than the head I co-signed, "
                    f"{latest.checkpoint.number}",
                )
            if latest is not None and number == latest.checkpoint.number:
                return latest
            checkpoint = self.checkpoint_at(number)
            if checkpoint is None or number > self.head.number:
                raise CosignRefused(
                    409,
                    "not_executed",
                    f"checkpoint.number {number} is not re-executed yet: re-executed up to block "
                    f"{self.head.number}",
                )
            signature = Cosignature(self.account.address, checkpoint.sign(self.account))
            self.cosigned = self.store.record_cosigned(checkpoint, signature)
            log.info("co-signed block %d", number, extra={"checkpoint": checkpoint.to_json()})
            return self.cosigned

    async def cosign_request(self, body: Any) -> Cosigned:
        """POST /v1/cosign: co-sign `body` (Checkpoint JSON) only if it is this witness's own
        checkpoint at that number; CosignRefused names what is wrong."""
        try:
            asked = Checkpoint.from_json(body)
        except CheckpointError as exc:
            raise CosignRefused(400, "malformed", str(exc)) from exc
        if asked.chain_id != self.config.chain_id:
            raise CosignRefused(
                400,
                "other_chain",
                f"checkpoint.chainId {asked.chain_id} is another chain: this witness follows "
                f"chain {self.config.chain_id}",
            )
        latest = self.cosigned
        if latest is not None and asked.number < latest.checkpoint.number:
            raise CosignRefused(
                409,
                "older",
                f"checkpoint.number {asked.number} is older than the head I co-signed, "
                f"{latest.checkpoint.number}",
            )
        mine = self.checkpoint_at(asked.number) if asked.number <= self.head.number else None
        if mine is None:
            raise CosignRefused(
                409,
                "not_executed",
                f"checkpoint.number {asked.number} is not re-executed yet: re-executed up to "
                f"block {self.head.number}",
            )
        for field in CHECKPOINT_FIELDS[2:]:
            attribute = _ATTRIBUTE[field]
            if getattr(asked, attribute) != getattr(mine, attribute):
                raise CosignRefused(
                    409,
                    "differs",
                    f"checkpoint.{field} differs from this witness's at block {asked.number}: "
                    f"mine is 0x{getattr(mine, attribute).hex()}, "
                    f"given 0x{getattr(asked, attribute).hex()}",
                )
        return await self.cosign(asked.number)

    # ---------------------------------------------------------------------------------- alarm

    def raise_alarm(self, code: str, reason: str, evidence: dict[str, Any] | None = None) -> None:
        """Refuse the node's history from now on; `evidence` (authority-signed) is kept first."""
        if evidence is not None:
            self.store.keep_evidence(
                code, int(evidence.pop("number")), {"reason": reason, **evidence}
            )
        self.alarm = reason
        self.refusals[code] += 1
        log.error("ALARM: %s", reason, extra={"alarm": code})

    def status(self) -> dict[str, Any]:
        """/health's body (ok is False while starting, alarmed or cut off from the node)."""
        lag = max(0, self.node_head - self.head.number) if self.node_head is not None else None
        if not self.started:
            state, reason = "starting", "re-executing its own journal"
        elif self.alarm is not None:
            state, reason = "alarm", self.alarm
        elif self.node_error is not None:
            state, reason = "node-unreachable", self.node_error
        else:
            state, reason = ("caught-up" if lag == 0 else "following"), None
        return {
            "ok": state in ("caught-up", "following"),
            "state": state,
            "reason": reason,
            "witness": self.account.address,
            "chainId": self.config.chain_id,
            "head": self.head.number,
            "cosigned": self.cosigned.checkpoint.number if self.cosigned else None,
            "nodeHead": self.node_head,
            "lag": lag,
            "alarm": self.alarm is not None,
            "evidence": len(self.store.evidence()) if self.alarm else 0,
            "recovered": {
                "head": self.recovery.head,
                "replayedFrom": self.recovery.replayed_from,
                "replayedBlocks": self.recovery.replayed_blocks,
            },
        }
