"""View calls the feeds make, batched: one JSON-RPC round trip per few hundred calls instead of
one per slot or vehicle (the ledger node accepts batches of up to 1000 requests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web3 import Web3

from api.errors import LedgerUnavailable

BATCH = 500


def call_many(w3: Web3, calls: Sequence[Any], *, what: str) -> list[Any]:
    """Results of contract function calls (web3 ContractFunction objects), in order."""
    results: list[Any] = []
    try:
        for start in range(0, len(calls), BATCH):
            with w3.batch_requests() as batch:
                for call in calls[start : start + BATCH]:
                    batch.add(call)
                results.extend(batch.execute())
    except Exception as exc:
        raise LedgerUnavailable(
            f"reading {what} from the ledger node failed ({type(exc).__name__}: {exc}); retry later"
        ) from exc
    return results
