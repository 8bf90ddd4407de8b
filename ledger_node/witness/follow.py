"""Following the node: its head, then every new journal entry checked (authority seal, parent
link, journal link), re-executed on the witness's engine (the block hash must reproduce),
journaled, and a batch co-signed once. Before taking anything new, the node's entry at the
witness's head must still be the one it holds; a different one (a fork or a rewrite) or a
shorter chain (a truncation) is refused with its authority-signed evidence kept."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from citypass.protocol.checkpoints import journal_link
from ledger_node.errors import RpcError
from ledger_node.replay import ReplayMismatch, replay_raws
from ledger_node.witness.entries import (
    Entry,
    EntryError,
    held_entry,
    parse_entry,
    same_block,
    sealed_by,
)
from ledger_node.witness.node_client import NodeRefused, NodeUnreachable
from ledger_node.witness.store import Executed
from ledger_node.witness.witness import CosignRefused, Witness

log = logging.getLogger("ledger_node.witness")
# Blocks fetched (one JSON-RPC batch) and re-executed before co-signing once, when it lags.
BATCH_BLOCKS = 32
# A co-signature the node refused (not yet in the witness set, say) is offered again after this.
RESUBMIT_SECONDS = 2.0


async def follow(witness: Witness, stop: asyncio.Event, poll_interval: float) -> None:
    """Poll the node's head every `poll_interval` seconds until `stop`; the node being down is
    waited out (the witness never holds the node up, and catches up when it is back)."""
    while not stop.is_set():
        await step(witness)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_interval)


async def step(witness: Witness) -> None:
    try:
        witness.node_head = await witness.client.head()
        if witness.alarm is None:
            await _follow(witness, witness.node_head)
        await _submit(witness)
        witness.node_error = None
    except NodeUnreachable as exc:
        if witness.node_error is None:
            log.warning("the node does not answer (%s): waiting for it", exc)
        witness.node_error = f"the node does not answer: {exc}"
    except NodeRefused as exc:
        if witness.node_error != str(exc):
            log.warning("the node refused a request: %s", exc)
        witness.node_error = f"the node refused a request: {exc}"
    except EntryError as exc:
        witness.refusals["malformed_entry"] += 1
        error = f"the node served a malformed journal entry: {exc}"
        if witness.node_error != error:
            log.warning(error)
        witness.node_error = error


async def _follow(witness: Witness, node_head: int) -> None:
    mine = witness.head.number
    if node_head < mine:
        await _truncated(witness, node_head)
        return
    if mine > 0:
        (served,) = await witness.client.entries([mine])
        if served is None or not _same(witness, served, mine):
            await _diverged(witness, mine)
            return
    while witness.head.number < node_head and witness.alarm is None:
        first = witness.head.number + 1
        numbers = list(range(first, min(node_head, first + BATCH_BLOCKS - 1) + 1))
        advanced = False
        for number, served in zip(numbers, await witness.client.entries(numbers), strict=True):
            if served is None or not await _take(witness, parse_entry(served, number)):
                break
            advanced = True
        if not advanced:
            return
        try:
            await witness.cosign(witness.head.number)
        except CosignRefused as exc:  # raised alarm meanwhile: nothing is co-signed
            log.warning("not co-signing block %d: %s", witness.head.number, exc.message)


def _same(witness: Witness, served: Any, number: int) -> bool:
    held = witness.journal.block(number)
    try:
        entry = parse_entry(served, number)
    except EntryError:
        return False
    return held is not None and same_block(held, entry.block)


async def _take(witness: Witness, entry: Entry) -> bool:
    """Check, re-execute and journal one new block; False when it is not taken (the node moved
    meanwhile, or an alarm was raised)."""
    block, head, config = entry.block, witness.head, witness.config
    if block.parent_hash != head.block_hash:
        return False  # the node's block at our head changed since: the next step sees it
    signer = sealed_by(block, config.chain_id)
    if signer != config.authority:
        witness.raise_alarm(
            "bad_seal",
            f"block {block.number}: its seal is not the authority's (signed by "
            f"{signer or 'nobody: invalid signature'}, expected {config.authority})",
        )
        return False
    link = journal_link(head.journal_hash, block.number, block.hash, block.seal)
    if entry.journal_hash is not None and entry.journal_hash != link:
        witness.raise_alarm(
            "journal_hash",
            f"block {block.number}: the node's journalHash 0x{entry.journal_hash.hex()} is not "
            f"the hash chain of its entries (0x{link.hex()})",
        )
        return False
    try:
        replayed = await replay_raws(witness.engine, block, list(entry.raws))
    except ReplayMismatch as exc:
        witness.raise_alarm("replay", f"re-execution refused the node's block: {exc}")
        return False
    witness.journal.append_txs(entry.txs)
    witness.journal.record_block(block)
    row = Executed(block.number, block.hash, link, bytes.fromhex(replayed["stateRoot"][2:]))
    witness.store.record_executed([row])
    witness.head = row
    witness.executed_blocks += 1
    if block.number % config.snapshot_every == 0:
        await _snapshot(witness)
    return True


async def _snapshot(witness: Witness) -> None:
    try:
        state = await witness.engine.dump_state()
        witness.snapshots.write(state, await witness.engine.block("latest"))
    except RpcError as exc:  # the older snapshots still serve a restart
        log.warning("snapshot skipped: %s", exc.message)


async def _diverged(witness: Witness, mine: int) -> None:
    """The node's entry at our head differs: find the first block that differs (bisection;
    the blocks below it are the same, hash-linked) and keep both entries."""
    low, high = 1, mine
    while low < high:
        middle = (low + high) // 2
        (served,) = await witness.client.entries([middle])
        if served is not None and _same(witness, served, middle):
            low = middle + 1
        else:
            high = middle
    (conflicting,) = await witness.client.entries([low])
    cosigned = witness.cosigned
    kind = "rewrite" if cosigned and low <= cosigned.checkpoint.number else "fork"
    signer = _signer_of(witness, conflicting, low)
    witness.raise_alarm(
        kind,
        f"the node now serves another block {low} (0x"
        f"{_hash_of(conflicting)}, sealed by {signer or 'nobody valid'}) than the one this "
        f"witness re-executed"
        + (f" and co-signed up to block {cosigned.checkpoint.number}" if cosigned else ""),
        _evidence(witness, low, conflicting),
    )


async def _truncated(witness: Witness, node_head: int) -> None:
    mine = witness.head.number
    (conflicting,) = await witness.client.entries([node_head]) if node_head > 0 else (None,)
    cosigned = witness.cosigned
    witness.raise_alarm(
        "truncation",
        f"the node's chain ends at block {node_head}, below block {mine} that this witness "
        "re-executed"
        + (f" (co-signed up to block {cosigned.checkpoint.number})" if cosigned else ""),
        {
            **_evidence(witness, mine, conflicting),
            "nodeHead": {"number": node_head, "entry": conflicting},
        },
    )


def _evidence(witness: Witness, number: int, conflicting: Any) -> dict[str, Any]:
    row = witness.store.executed(number)
    return {
        "number": number,
        "held": held_entry(witness.journal, number, row.journal_hash if row else None),
        "conflicting": conflicting,
        "cosigned": witness.cosigned.to_json() if witness.cosigned else None,
        "authority": witness.config.authority,
        "chainId": witness.config.chain_id,
    }


def _signer_of(witness: Witness, served: Any, number: int) -> str | None:
    try:
        return sealed_by(parse_entry(served, number).block, witness.config.chain_id)
    except EntryError:
        return None


def _hash_of(served: Any) -> str:
    value = served.get("hash", "") if isinstance(served, dict) else ""
    return str(value).removeprefix("0x")


async def _submit(witness: Witness) -> None:
    """Hand the newest co-signature to the node (ledger_submitCosignature) until it accepts it;
    a node that refuses or is down never stops the witness, nor the witness the node."""
    cosigned = witness.cosigned
    if cosigned is None or cosigned.accepted:
        return
    number = cosigned.checkpoint.number
    refused_at = witness.refused_submission
    if (
        refused_at is not None
        and refused_at[0] == number
        and time.monotonic() < refused_at[1] + RESUBMIT_SECONDS
    ):
        return
    try:
        answer = await witness.client.call(
            "ledger_submitCosignature",
            [cosigned.checkpoint.to_json(), cosigned.cosignature.to_json()],
        )
    except NodeRefused as exc:
        witness.refused_submission = (number, time.monotonic())
        witness.submissions["refused"] += 1
        if witness.submissions["refused"] == 1 or witness.submissions["refused"] % 100 == 0:
            log.warning("the node refused the co-signature of block %d: %s", number, exc)
        return
    if isinstance(answer, dict) and answer.get("accepted") is True:
        witness.store.mark_accepted(number)
        if witness.cosigned is cosigned:
            witness.cosigned = witness.store.latest_cosigned()
        witness.submissions["accepted"] += 1
