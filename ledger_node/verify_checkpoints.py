"""`ledger-node verify --checkpoint FILE`: the replayed journal against checkpoints that
witnesses (other organisations) co-signed and hold (docs/ledger-node.md, ## Witnesses).

FILE is a saved `ledger_getCheckpoint` answer. Before the replay the file is parsed and every
co-signature's signature checked; during it, the replay's block hash, state root and journal hash
at the checkpoint's block, and CityAccess's witness set there, are noted; after it, a journal that
ends before the checkpoint, differs from it, or was co-signed by a key outside the witness set is
refused, naming the witness, the field and both values. A journal shortened, or rewritten, by
whoever holds the machine (head marker and snapshots fixed up too) passes the plain verify, but
not a checkpoint that a witness co-signed before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citypass.protocol.checkpoints import Checkpoint, CheckpointError, Cosignature
from ledger_node.engine import Engine
from ledger_node.errors import VerificationError
from ledger_node.witness_set import Witness, read_witnesses


@dataclass(frozen=True)
class CheckpointClaim:
    path: Path
    checkpoint: Checkpoint
    cosignatures: list[Cosignature]
    names: dict[str, str]  # the file's witnessSet (for messages only; the replay's set is checked)

    def who(self, names: dict[str, str] | None = None) -> str:
        known = {**self.names, **(names or {})}
        return ", ".join(
            f"{known[c.witness]} ({c.witness})" if c.witness in known else c.witness
            for c in self.cosignatures
        )


def load_claim(path: Path, chain_id: int) -> CheckpointClaim:
    """Parse a saved ledger_getCheckpoint answer and check its co-signatures' signatures;
    VerificationError names the file and what is wrong."""
    where = f"--checkpoint {path}"
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise VerificationError(f"{where}: cannot be read ({exc.strerror})") from exc
    except ValueError as exc:
        raise VerificationError(
            f"{where} is not JSON ({exc}): save the answer of ledger_getCheckpoint"
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]  # the whole JSON-RPC answer, saved as it came
    if not isinstance(data, dict) or not isinstance(data.get("cosignatures"), list):
        raise VerificationError(
            f"{where}: expected ledger_getCheckpoint's answer, an object with checkpoint and "
            "cosignatures (a list)"
        )
    try:
        checkpoint = Checkpoint.from_json(data.get("checkpoint"))
        cosignatures = [
            Cosignature.from_json(item, f"cosignatures[{i}]")
            for i, item in enumerate(data["cosignatures"])
        ]
        for i, cosignature in enumerate(cosignatures):
            cosignature.verify(checkpoint, f"cosignatures[{i}]")
    except CheckpointError as exc:
        raise VerificationError(f"{where}: {exc}") from exc
    if checkpoint.chain_id != chain_id:
        raise VerificationError(
            f"{where}: the checkpoint is for chain {checkpoint.chain_id}, but this data "
            f"directory's chain is {chain_id}"
        )
    if not cosignatures:
        raise VerificationError(
            f"{where}: no witness co-signed this checkpoint (cosignatures is empty), so it proves "
            "nothing; save ledger_getCheckpoint's answer for a co-signed block"
        )
    return CheckpointClaim(path, checkpoint, cosignatures, _names(data.get("witnessSet")))


def _names(witness_set: Any) -> dict[str, str]:
    if not isinstance(witness_set, list):
        return {}
    return {
        str(entry["witness"]): str(entry["name"])
        for entry in witness_set
        if isinstance(entry, dict) and "witness" in entry and "name" in entry
    }


@dataclass(frozen=True)
class Replayed:
    block_hash: bytes
    state_root: bytes
    journal_hash: bytes
    witnesses: list[Witness]


@dataclass
class CheckpointCheck:
    claims: list[CheckpointClaim]
    seen: dict[int, Replayed] = field(default_factory=dict)

    async def observe(
        self,
        engine: Engine,
        access: str | None,
        number: int,
        block: dict[str, Any],
        journal_hash: bytes,
    ) -> None:
        """Called with the engine standing at block `number` of the replay."""
        if not any(c.checkpoint.number == number for c in self.claims):
            return
        self.seen[number] = Replayed(
            bytes.fromhex(block["hash"][2:]),
            bytes.fromhex(block["stateRoot"][2:]),
            journal_hash,
            await read_witnesses(engine, access),
        )

    def finish(self, head: int) -> list[str]:
        """After the replay (ending at `head`): one line per checkpoint, or VerificationError."""
        return [self._check(claim, head) for claim in self.claims]

    def _check(self, claim: CheckpointClaim, head: int) -> str:
        checkpoint, number = claim.checkpoint, claim.checkpoint.number
        replayed = self.seen.get(number)
        if replayed is None:
            raise VerificationError(
                f"the journal ends at block {head}, but the checkpoint co-signed by {claim.who()} "
                f"is at block {number} (--checkpoint {claim.path}): the journal was shortened; "
                "restore the data directory from a backup (ledger-node backup)"
            )
        names = {w.address: w.name for w in replayed.witnesses}
        for name, ours, theirs in (
            ("block hash", replayed.block_hash, checkpoint.block_hash),
            ("state root", replayed.state_root, checkpoint.state_root),
            ("journal hash", replayed.journal_hash, checkpoint.journal_hash),
        ):
            if ours != theirs:
                raise VerificationError(
                    f"block {number}'s {name} differs from the checkpoint co-signed by "
                    f"{claim.who(names)}: the replayed journal gives 0x{ours.hex()}, the "
                    f"checkpoint 0x{theirs.hex()} (--checkpoint {claim.path}): the journal was "
                    "rewritten"
                )
        for cosignature in claim.cosignatures:
            if cosignature.witness not in names:
                raise VerificationError(
                    f"--checkpoint {claim.path}: {cosignature.witness} co-signed block {number}, "
                    f"but it is not in the witness set (CityAccess.witnesses) at block {number} "
                    "of the replayed chain"
                )
        return (
            f"checkpoint at block {number} (0x{checkpoint.block_hash.hex()}): matches; "
            f"co-signed by {claim.who(names)}"
        )
