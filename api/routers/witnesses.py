"""/v1/explorer/witnesses: the ledger's witness status as JSON for auditors' tools, the same
status the explorer's pages show (api/explorer/witnesses.py), and with `?block=N` that block's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.errors import LedgerUnavailable, NotFound
from api.explorer.context import ExplorerDep
from api.explorer.inputs import MAX_ID
from api.schemas.common import kst_iso_or_none

router = APIRouter(prefix="/v1/explorer/witnesses", tags=["explorer"])

Block = Annotated[
    int | None,
    Query(ge=0, le=MAX_ID, description="a block number: which witnesses have witnessed it"),
]


@router.get("", summary="The witness set and each witness's latest co-signed block")
def witnesses(explorer: ExplorerDep, block: Block = None) -> dict[str, Any]:
    """The node's witness status (`ledger_getWitnessStatus`, cached for a second): `head`, the
    node's head; `witnesses`, CityAccess's witness set in its order, each with `name` (its label),
    `latest` (its latest co-signed block, null before its first), `signedAt`/`signedAtIso` and
    `behind` (blocks behind the head). With `block`, also `block`: `{number, witnessed, of,
    witnessedBy}`, the witnesses whose latest co-signed block is at or after it (a checkpoint
    vouches for the whole history before it). 503 when the node gives no status; 404 for a block
    above the node's head."""
    status = explorer.witnesses.status()
    if not status.available:
        raise LedgerUnavailable(f"no witness status: {status.problem} ({status.detail})")
    answer: dict[str, Any] = {
        "head": status.head,
        "witnesses": [
            {**w.json(status.head), "signedAtIso": kst_iso_or_none(w.signed_at)}
            for w in status.witnesses
        ],
    }
    if block is not None:
        if block > status.head:
            raise NotFound(
                f"block {block} is above the node's head {status.head}: it has no witness "
                "status yet",
                code="unknown_block",
            )
        seen = status.of_block(block)
        answer["block"] = {
            "number": block,
            "witnessed": len(seen.by),
            "of": seen.total,
            "witnessedBy": [w.address for w in seen.by],
        }
    return answer
