"""The node's side of witnesses (docs/ledger-node.md, ## Witnesses): ledger_submitCosignature,
ledger_getCheckpoint and ledger_getWitnessStatus, and their share of /metrics and /health.

A co-signature is accepted only for a checkpoint equal to the node's own at that block, signed by
a member of CityAccess's witness set at the node's head, and not older than that witness's latest;
it is committed (fsync'd, checkpoints.py) before the answer. Every refusal is a JSON-RPC error
naming the check, and changes nothing. Nothing here is on the path that accepts transactions or
seals blocks: a witness that lags, or never calls, never stops the chain.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import aiohttp
from prometheus_client.core import GaugeMetricFamily, Metric

from citypass.core.prometheus import counter_by, counter_value
from citypass.protocol.checkpoints import Checkpoint, CheckpointError, Cosignature
from ledger_node.checkpoints import CheckpointStore, Stored
from ledger_node.errors import (
    COSIGNATURE_REFUSED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    RESOURCE_NOT_FOUND,
    UNAUTHORIZED,
    EngineError,
    RpcError,
)
from ledger_node.node import LedgerNode
from ledger_node.rpc_policy import WITNESS_METHODS
from ledger_node.witness_set import WitnessSet

SUBMIT = "ledger_submitCosignature"
# The refusals /metrics counts, by the data.reason of the error (and malformed, unauthorized).
REASONS = (
    "malformed", "unauthorized", "chain", "above_head", "differs", "signature", "not_witness",
    "older",
)  # fmt: skip
FIELDS = (("blockHash", "block_hash"), ("stateRoot", "state_root"), ("journalHash", "journal_hash"))


def refusal(reason: str, message: str, **data: Any) -> RpcError:
    return RpcError(COSIGNATURE_REFUSED, message, {"reason": reason, **data})


class WitnessDesk:
    METHODS = WITNESS_METHODS

    def __init__(self, node: LedgerNode) -> None:
        self.node = node
        self.store = CheckpointStore(node.journal)
        self.witness_set = WitnessSet(
            node.engine, lambda: node.gate.access_address, lambda: node.head_number
        )
        self.accepted = 0
        self.refused: Counter[str] = Counter(dict.fromkeys(REASONS, 0))

    async def call(self, method: str, params: list[Any]) -> Any:
        """One of rpc_policy.WITNESS_METHODS, its params checked by rpc_params."""
        if method == SUBMIT:
            return await self.submit(params[0], params[1])
        if method == "ledger_getCheckpoint":
            return await self.get_checkpoint(params[0] if params else None)
        return await self.status()

    # -------------------------------------------------------------------------- the node's own

    async def own_checkpoint(self, number: int) -> Checkpoint:
        """The node's checkpoint at `number` (≤ its head): the journal's block hash and hash
        chain, the engine's state root."""
        journal = self.node.journal
        link = journal.link(number)
        block = journal.block(number) if number else None
        block_hash = block.hash if block is not None else (link if number == 0 else None)
        if link is None or block_hash is None:
            raise RpcError(INTERNAL_ERROR, f"the journal has no linked entry for block {number}")
        engine_block = await self.node.engine.block(number)
        if engine_block["hash"] != "0x" + block_hash.hex():
            raise RpcError(
                INTERNAL_ERROR,
                f"the engine's block {number} is {engine_block['hash']}, not the journal's "
                f"0x{block_hash.hex()}; retry in a moment",
            )
        state_root = bytes.fromhex(engine_block["stateRoot"][2:])
        return Checkpoint(self.node.config.chain_id, number, block_hash, state_root, link)

    # ------------------------------------------------------------------------------- methods

    async def submit(self, checkpoint: Checkpoint, cosignature: Cosignature) -> dict[str, Any]:
        chain_id, head = self.node.config.chain_id, self.node.head_number
        if checkpoint.chain_id != chain_id:
            raise refusal(
                "chain",
                f"checkpoint.chainId is {hex(checkpoint.chain_id)}, but this node's chain is "
                f"{hex(chain_id)}",
            )
        if checkpoint.number > head:
            raise refusal(
                "above_head",
                f"checkpoint.number {checkpoint.number} is above the node's head {head}",
                head=hex(head),
            )
        own = await self.own_checkpoint(checkpoint.number)
        for name, attribute in FIELDS:
            ours, theirs = getattr(own, attribute), getattr(checkpoint, attribute)
            if ours != theirs:
                raise refusal(
                    "differs",
                    f"checkpoint.{name} differs from the node's at block {checkpoint.number}: "
                    f"the node has 0x{ours.hex()}, the checkpoint 0x{theirs.hex()}",
                    field=name,
                    node="0x" + ours.hex(),
                    checkpoint="0x" + theirs.hex(),
                )
        try:
            cosignature.verify(checkpoint)
        except CheckpointError as exc:
            raise refusal("signature", str(exc)) from exc
        if await self.witness_set.member(cosignature.witness) is None:
            raise refusal(
                "not_witness",
                f"{cosignature.witness} is not in the witness set (CityAccess.witnesses) at "
                f"block {self.node.head_number}",
            )
        # No await from here on: the check and the commit are one step for the event loop.
        latest = self.store.latest().get(cosignature.witness)
        if latest is not None and checkpoint.number < latest.number:
            raise refusal(
                "older",
                f"checkpoint {checkpoint.number} is older than its latest co-signed block "
                f"{latest.number}",
                latest=hex(latest.number),
            )
        self.store.add(checkpoint, cosignature)
        self.accepted += 1
        return {"accepted": True, "number": hex(checkpoint.number), "witness": cosignature.witness}

    async def get_checkpoint(self, tag: int | str | None) -> dict[str, Any]:
        head = self.node.head_number
        if tag is None or tag == "latest":
            newest = self.store.newest_number()
            if newest is None:
                raise RpcError(RESOURCE_NOT_FOUND, "no checkpoint has been co-signed yet")
            number = newest
        else:
            number = int(tag)
        if number > head:
            raise RpcError(
                INVALID_PARAMS, f"invalid params[0] (block): {number} is above the head {head}"
            )
        checkpoint = await self.own_checkpoint(number)
        cosignatures = [
            s.cosignature().to_json() for s in self.store.at(number) if s.signed(checkpoint)
        ]
        return {
            "checkpoint": checkpoint.to_json(),
            "cosignatures": cosignatures,
            "witnessSet": [w.to_json() for w in await self.witness_set.members()],
        }

    async def status(self) -> dict[str, Any]:
        members = await self.witness_set.members()
        latest = self.store.latest()
        return {
            "head": hex(self.node.head_number),
            "witnesses": [{**w.to_json(), **_latest_json(latest.get(w.address))} for w in members],
        }

    # ------------------------------------------------------------------- /health and /metrics

    async def summary(self) -> dict[str, Any]:
        """ledger_status's and /health's `witnesses` (the set as last read if the engine cannot
        answer now). Informative only: a lagging witness never makes the node unhealthy."""
        try:
            members = await self.witness_set.members()
        except (EngineError, aiohttp.ClientError, OSError, TimeoutError):
            members = self.witness_set.cached()  # /health says why the engine does not answer
        latest = self.store.latest()
        numbers = [latest[w.address].number for w in members if w.address in latest]
        newest = max(numbers, default=None)
        head = self.node.head_number
        return {
            "set": len(members),
            "cosigned": None if newest is None else hex(newest),
            "lag": None if newest is None else head - newest,
            "members": [
                {**w.to_json(), "latest": _latest_json(latest.get(w.address))["latest"]}
                for w in members
            ],
        }

    def count_refusal(self, request: Any, error: RpcError) -> None:
        """Count a refused ledger_submitCosignature by reason (server.py calls this for every
        failed request)."""
        if not isinstance(request, dict) or request.get("method") != SUBMIT:
            return
        if error.code == INVALID_PARAMS:
            reason = "malformed"
        elif error.code == UNAUTHORIZED:
            reason = "unauthorized"
        elif error.code == COSIGNATURE_REFUSED and isinstance(error.data, dict):
            reason = str(error.data.get("reason"))
        else:
            reason = "error"
        self.refused[reason] += 1

    def metric_families(self) -> list[Metric]:
        cosigned = GaugeMetricFamily(
            "ledger_witness_cosigned_block",
            "The newest block each witness has co-signed (a checkpoint vouches for the history "
            "before it).",
            labels=["witness"],
        )
        for witness, stored in sorted(self.store.latest().items()):
            cosigned.add_metric([witness], stored.number)
        return [
            counter_value(
                "ledger_cosignatures_accepted_total",
                "Witnesses' co-signatures accepted (committed before the answer).",
                self.accepted,
            ),
            counter_by(
                "ledger_cosignatures_refused_total",
                "Witnesses' co-signatures refused, by reason.",
                "reason",
                self.refused,
            ),
            cosigned,
        ]


def _latest_json(stored: Stored | None) -> dict[str, Any]:
    if stored is None:
        return {"latest": None, "signedAt": None}
    return {"latest": hex(stored.number), "signedAt": int(stored.signed_at)}
