"""The follower: backfill the read model from the chain in block ranges, then follow new blocks.

Every block range is one database transaction that also moves the cursor (last block + hash),
so a crash leaves the read model at a block boundary and a restart continues from the cursor.
Our ledger is final (no forks), so a cursor hash that differs from the chain's block means the
node was re-initialised: the follower stops and the operator re-indexes into an empty database.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, event, insert, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from citypass.core.node_web3 import node_web3
from citypass.core.rpc_url import redacted
from citypass.protocol.abi import ArtefactError, DecodedEvent, Registry, checksum
from citypass.protocol.deployment_record import Deployment
from indexer import models as m
from indexer.db import make_engine
from indexer.errors import ChainMismatchError, IndexerError, NodeUnreachableError
from indexer.handler_base import LogContext, insert_queued, write_tallies
from indexer.handlers import apply_event, prefetch_for
from indexer.heads import HeadWatcher, ws_url_for
from indexer.rpc import RpcClient
from indexer.seals import verify_seal

log = logging.getLogger("indexer")

NO_BLOCK = -1
# Calls a node may refuse (a plain engine serves no seals): None instead of an error.
OPTIONAL_CALLS = frozenset({"ledger_getSeal"})
# Pause before trying an unreachable node again (on top of the RPC client's own retries).
NODE_RETRY_S = 1.0


@dataclass
class IndexStats:
    blocks: int = 0
    transactions: int = 0
    logs: int = 0
    events: int = 0  # logs applied to a domain table
    seconds: float = 0.0
    last_block: int = NO_BLOCK

    def add(self, other: IndexStats) -> None:
        self.blocks += other.blocks
        self.transactions += other.transactions
        self.logs += other.logs
        self.events += other.events
        self.last_block = max(self.last_block, other.last_block)

    def as_dict(self) -> dict[str, Any]:
        rate = self.seconds or 1e-9
        return {
            "blocks": self.blocks, "transactions": self.transactions, "logs": self.logs,
            "events": self.events, "seconds": round(self.seconds, 3),
            "blocks_per_s": round(self.blocks / rate, 1), "logs_per_s": round(self.logs / rate, 1),
            "events_per_s": round(self.events / rate, 1),
            "last_block": self.last_block,
        }  # fmt: skip


@dataclass
class _Fetched:
    block: dict[str, Any]
    receipts: list[dict[str, Any]] = field(default_factory=list)
    seal: dict[str, Any] | None = None  # ledger_getSeal's answer; None: none or not served


class Indexer:
    """Builds and keeps the read model of one deployment on one chain."""

    def __init__(
        self,
        engine_url: str,
        rpc_url: str,
        deployment: Deployment | Path | str,
        *,
        chunk_size: int = 200,
        poll_interval: float = 1.0,
        ws_url: str | None = None,
        progress: bool = False,
    ) -> None:
        try:
            if not isinstance(deployment, Deployment):
                deployment = Deployment.load(Path(deployment))
            self.deployment = deployment
            self.engine = make_engine(engine_url)
            self.rpc = RpcClient(rpc_url)
            self.w3 = node_web3(rpc_url, timeout=30)
            self.registry = Registry(self.w3, deployment.addresses)
        except ArtefactError as exc:  # the indexer's callers catch its own root error
            raise IndexerError(str(exc)) from exc
        self.chunk_size = chunk_size
        self.poll_interval = poll_interval
        # None: the node's WebSocket on the RPC address; "": poll only.
        self.ws_url = ws_url_for(rpc_url) if ws_url is None else ws_url
        self.heads: HeadWatcher | None = None
        self.progress = progress
        self._stop = threading.Event()
        # Set by a newHeads notification or stop(): the follower looks for blocks at once.
        self._wake = threading.Event()
        # Blocks indexed from the checks' batch (read ahead on a newHeads notification).
        self.read_ahead = 0

    # ------------------------------------------------------------------ cursor and checks

    def cursor(self) -> tuple[int, str]:
        """(last indexed block, its hash); (-1, "") before the first block."""
        with Session(self.engine) as session:
            row = session.get(m.Cursor, 1)
            return (row.block_number, row.block_hash) if row else (NO_BLOCK, "")

    def head(self) -> int:
        return int(self.rpc.call("eth_blockNumber", []), 16)

    def verify_chain(self) -> int:
        """Refuse a different chain: wrong chain id, or the cursor block's hash changed.
        Returns the node's head block number, asked in the same batch."""
        return self._verified_batch([])[0]

    def _verified_batch(self, calls: list[tuple[str, list[Any]]]) -> tuple[int, list[Any]]:
        """verify_chain's checks and `calls` in one JSON-RPC batch (one round trip: the follower
        checks before every block range, and a busy node answers each request slowly): the
        head and the answers to `calls`, once the checks passed."""
        with Session(self.engine) as session:
            cursor = session.get(m.Cursor, 1)
            stored = (cursor.chain_id, cursor.block_number, cursor.block_hash) if cursor else None
        checks: list[tuple[str, list[Any]]] = [("eth_chainId", []), ("eth_blockNumber", [])]
        if stored is not None and stored[1] != NO_BLOCK:
            checks.append(("eth_getBlockByNumber", [hex(stored[1]), False]))
        answers = self.rpc.batch(checks + calls, optional=OPTIONAL_CALLS)
        chain_id = int(answers[0], 16)
        if chain_id != self.deployment.chain_id:
            raise ChainMismatchError(
                f"the node serves chain {chain_id} but the deployment record is for chain "
                f"{self.deployment.chain_id}: point --rpc-url at the right node"
            )
        if stored is not None:
            if stored[0] != chain_id:
                raise ChainMismatchError(
                    f"the read model was built from chain {stored[0]}, the node serves "
                    f"{chain_id}: use another database or re-index into an empty one"
                )
            if stored[1] != NO_BLOCK:
                _same_block(stored[1], stored[2], answers[2])
        return int(answers[1], 16), answers[len(checks) :]

    def _check_block_hash(self, number: int, stored: str) -> None:
        if number != NO_BLOCK:
            _same_block(number, stored, self.rpc.call("eth_getBlockByNumber", [hex(number), False]))

    def _house_payees(self) -> dict[str, str]:
        split = self.registry.contracts["split"].functions
        return {
            "village_enterprise": split.villageEnterprise().call(),
            "city_fund": split.cityFund().call(),
            "platform": split.platform().call(),
        }

    # ---------------------------------------------------------------------------- backfill

    def backfill(self, to_block: int | None = None) -> IndexStats:
        """Index every block after the cursor up to `to_block` (default: the head)."""
        started = time.monotonic()
        indexed = self.cursor()[0]
        first = max(indexed + 1, self.deployment.start_block)
        # The blocks newHeads announced ride in the checks' batch: following, a new block then
        # costs one round trip to the node, not two.
        announced = self.heads.latest if self.heads is not None else NO_BLOCK
        if to_block is not None:
            announced = min(announced, to_block)
        last_announced = min(announced, first + self.chunk_size - 1)
        head, answers = self._verified_batch(_fetch_calls(first, last_announced))
        prefetched = _fetched(first, answers, partial=True)
        target = head if to_block is None else to_block
        total = IndexStats(last_block=indexed)
        bar = tqdm(
            total=max(0, target - first + 1), unit="block", desc="indexing",
            disable=not self.progress, mininterval=0.5,
        )  # fmt: skip
        low = first
        with bar:
            while low <= target and not self._stop.is_set():
                if prefetched:
                    high = min(low + len(prefetched) - 1, target)
                    stats = self.index_range(low, high, prefetched[: high - low + 1])
                    self.read_ahead += stats.blocks
                    prefetched = []
                else:
                    high = min(low + self.chunk_size - 1, target)
                    stats = self.index_range(low, high)
                total.add(stats)
                bar.update(high - low + 1)
                low = high + 1
        total.seconds = time.monotonic() - started
        return total

    def index_range(
        self, first: int, last: int, fetched: list[_Fetched] | None = None
    ) -> IndexStats:
        """Index blocks first..last in one database transaction (with the cursor); `fetched`:
        those blocks as already read from the node (default: read them now)."""
        if fetched is None:
            fetched = _fetched(first, self.rpc.batch(_fetch_calls(first, last), OPTIONAL_CALLS))
        stats = IndexStats()
        with Session(self.engine) as session, session.begin():
            cursor = session.get(m.Cursor, 1)
            if cursor is None:
                cursor = m.Cursor(
                    id=1, chain_id=self.deployment.chain_id, block_number=NO_BLOCK, block_hash="",
                    **self._house_payees(),
                )  # fmt: skip
                session.add(cursor)
            known = dict(
                session.execute(
                    select(m.Block.number, m.Block.hash).where(m.Block.number.between(first, last))
                ).all()
            )
            ctx_payees = (cursor.village_enterprise, cursor.city_fund, cursor.platform)
            previous_hash = cursor.block_hash
            rows = _ChainRows()
            hold_rows(session)
            decoded = [self._decoded_logs(item) for item in fetched]
            prefetch_for(session, (log.event for logs in decoded for log in logs if log.event))
            for item, logs in zip(fetched, decoded, strict=True):
                number = int(item.block["number"], 16)
                block_hash = item.block["hash"]
                if number in known:
                    # Already indexed (a forced re-run): never apply its events twice.
                    if known[number] != block_hash:
                        self._check_block_hash(number, known[number])
                    previous_hash = block_hash
                    continue
                if (
                    previous_hash
                    and number == cursor.block_number + 1
                    and item.block["parentHash"] != previous_hash
                ):
                    raise ChainMismatchError(
                        f"block {number}'s parent is {item.block['parentHash']} but the read model "
                        f"holds {previous_hash} for block {number - 1}: the node was re-initialised; "
                        "drop the read-model database and re-index"
                    )
                self._index_block(session, item, logs, ctx_payees, stats, rows)
                cursor.block_number, cursor.block_hash = number, block_hash
                previous_hash = block_hash
                stats.blocks += 1
                stats.last_block = number
            # Before the commit that moves the cursor: the queued rows are in this transaction.
            insert_queued(session)
            write_tallies(session)
            rows.insert(session)
        return stats

    def _decoded_logs(self, item: _Fetched) -> list[_Log]:
        """Every log of the block, in order, with its event where it is one of ours."""
        decode = self.registry.decode_raw
        return [
            _Log(receipt["transactionHash"], raw, decode(raw))
            for receipt in item.receipts
            for raw in receipt["logs"]
        ]

    def _index_block(
        self,
        session: Session,
        item: _Fetched,
        logs: list[_Log],
        payees: tuple[str, str, str],
        stats: IndexStats,
        rows: _ChainRows,
    ) -> None:
        block = item.block
        number = int(block["number"], 16)
        timestamp = int(block["timestamp"], 16)
        rows.blocks.append(
            {
                "number": number, "hash": block["hash"], "parent_hash": block["parentHash"],
                "timestamp": timestamp, "tx_count": len(block["transactions"]),
                "seal_status": _seal_column(self.deployment.chain_id, block, item.seal),
            }
        )  # fmt: skip
        for receipt in item.receipts:
            rows.transactions.append(
                {
                    "hash": receipt["transactionHash"], "block_number": number,
                    "tx_index": int(receipt["transactionIndex"], 16),
                    "sender": checksum(receipt["from"]),
                    "to": checksum(receipt["to"]) if receipt.get("to") else None,
                    "contract_address": (
                        checksum(receipt["contractAddress"])
                        if receipt.get("contractAddress") else None
                    ),
                    "status": int(receipt["status"], 16), "gas_used": int(receipt["gasUsed"], 16),
                }
            )  # fmt: skip
            stats.transactions += 1
        for tx_hash, raw, ours in logs:
            stats.logs += 1
            log_index = int(raw["logIndex"], 16)
            topics = [t.lower() for t in raw["topics"]] + [None] * 4
            rows.logs.append(
                {
                    "block_number": number, "tx_hash": tx_hash, "log_index": log_index,
                    "address": checksum(raw["address"]),
                    "topic0": topics[0], "topic1": topics[1], "topic2": topics[2],
                    "topic3": topics[3], "data": bytes.fromhex(raw["data"][2:]),
                    "contract": ours.contract if ours else None,
                    "event": ours.event if ours else None,
                }
            )  # fmt: skip
            if ours is None:
                continue
            # Later events read what earlier ones wrote through session.get: autoflush
            # sends pending rows first whenever a key is not already in the session.
            ctx = LogContext(number, timestamp, tx_hash, log_index, *payees)
            if apply_event(session, ctx, ours):
                stats.events += 1

    # ------------------------------------------------------------------------------ follow

    def follow(self, max_blocks: int | None = None) -> IndexStats:
        """Backfill, then index each new block as it appears until stop() (or max_blocks).

        A newHeads subscription wakes the loop as soon as a block is sealed; polling every
        poll_interval goes on regardless, so a lost socket only delays, never skips."""
        total = IndexStats()
        started = time.monotonic()
        log.info(
            "following",
            extra={
                "rpc": redacted(self.rpc.url),
                "ws": redacted(self.ws_url) or None,
                "cursor": self.cursor()[0],
            },
        )
        if self.ws_url:
            self.heads = HeadWatcher(self.ws_url, self._wake).start()
        try:
            while not self._stop.is_set():
                # Cleared before looking, so a head sealed during the range wakes the next one.
                self._wake.clear()
                try:
                    stats = self.backfill()
                except NodeUnreachableError as exc:
                    # A node restart: the cursor is at a block boundary, so just try again.
                    log.warning("ledger node unreachable; retrying", extra={"error": str(exc)})
                    self._stop.wait(max(self.poll_interval, NODE_RETRY_S))
                    continue
                total.add(stats)
                if stats.blocks:
                    log.info("indexed", extra=stats.as_dict())
                if max_blocks is not None and total.blocks >= max_blocks:
                    break
                self._wake.wait(self.poll_interval)
        finally:
            if self.heads is not None:
                self.heads.stop()
        total.seconds = time.monotonic() - started
        log.info("stopped", extra={"cursor": self.cursor()[0]})
        return total

    def stop(self) -> None:
        """Ask follow()/backfill() to return after the block range under way (thread-safe)."""
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        self.engine.dispose()


class _Log(NamedTuple):
    tx_hash: str
    raw: dict[str, Any]  # as JSON-RPC gives it
    event: DecodedEvent | None  # None: not one of our contracts' events


@dataclass
class _ChainRows:
    """Blocks, transactions and raw logs of a block range, inserted in bulk at its end: plain
    Core executemany, since nothing in the range reads them back."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)

    def insert(self, session: Session) -> None:
        connection = session.connection()
        # Parents first (foreign keys): blocks, then transactions, then logs.
        for table, rows in (
            (m.Block.__table__, self.blocks),
            (m.Transaction.__table__, self.transactions),
            (m.RawLog.__table__, self.logs),
        ):
            if rows:
                connection.execute(insert(cast(Table, table)), rows)


def hold_rows(session: Session) -> None:
    """Keep every row the session loads or writes strongly referenced until it closes.

    The session's identity map is weak: a flushed, unmodified row (a member's credit balance,
    say) would be dropped and read again by the next event that touches it. Held, the next
    session.get finds it without SQL, and autoflush runs only when a key is truly new."""
    held: list[Any] = []
    session.info["held_rows"] = held
    event.listen(session, "loaded_as_persistent", lambda _s, row: held.append(row))
    event.listen(session, "pending_to_persistent", lambda _s, row: held.append(row))


def _fetch_calls(first: int, last: int) -> list[tuple[str, list[Any]]]:
    """The JSON-RPC calls that read blocks first..last (none when last < first)."""
    calls: list[tuple[str, list[Any]]] = []
    for number in range(first, last + 1):
        calls.append(("eth_getBlockByNumber", [hex(number), False]))
        calls.append(("eth_getBlockReceipts", [hex(number)]))
        # The authority's seal, verified when the block is indexed (blocks.seal_status);
        # optional: a plain engine without our node's journal has none.
        calls.append(("ledger_getSeal", [number]))
    return calls


def _fetched(first: int, answers: list[Any], partial: bool = False) -> list[_Fetched]:
    """The blocks from first on in `answers` to _fetch_calls. A block the node does not have
    (or not yet its receipts) ends the list when `partial` (announced blocks read ahead: the
    backfill then reads them as usual), else it is an error."""
    fetched = []
    for i in range(0, len(answers), 3):
        block, receipts, seal = answers[i], answers[i + 1], answers[i + 2]
        if partial and (block is None or (receipts is None and block["transactions"])):
            break
        if block is None:
            raise IndexerError(
                f"block {first + i // 3} is not on the node yet (head moved back?); retry"
            )
        fetched.append(_Fetched(block, receipts or [], seal))
    return fetched


def _same_block(number: int, stored: str, block: dict[str, Any] | None) -> None:
    """Refuse a node whose block `number` (eth_getBlockByNumber's answer) is not the one the read
    model holds with hash `stored`."""
    actual = block["hash"] if block else None
    if actual != stored:
        raise ChainMismatchError(
            f"block {number} is {actual or 'missing'} on the node but {stored} in the read "
            "model: the node was re-initialised (our ledger never reorganises). Stop the API, "
            "drop the read-model database and re-index from block 0"
        )


def _seal_column(chain_id: int, block: dict[str, Any], seal: dict[str, Any] | None) -> str | None:
    """blocks.seal_status: "sealed" or "invalid" as verified now; None (not verified yet) when
    the node gave no seal — a poller may see a block a moment before the node journals its seal,
    and the explorer verifies such blocks itself when shown."""
    if seal is None:
        return None
    number = int(block["number"], 16)
    return verify_seal(chain_id, number, block["hash"], block["parentHash"], seal).status
