"""JSON-RPC reads the follower needs, in batches, with a timeout on every call and retries
(every call here is an idempotent read, so retrying is safe)."""

from __future__ import annotations

import time
from typing import Any

import requests

from citypass.core.rpc_url import redacted
from indexer.errors import IndexerError, NodeUnreachableError

RETRIES = 4
# EIP-1474 "limit exceeded": the node asks to retry later (its engine is restarting after a crash,
# or a read limit was hit). Transient, like an unreachable node, never a reason to stop.
RETRY_LATER = -32005
# The ledger node serves at most 1000 requests per batch.
MAX_BATCH = 1000


class RpcClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()

    def batch(
        self, calls: list[tuple[str, list[Any]]], optional: frozenset[str] = frozenset()
    ) -> list[Any]:
        """Results in call order; a call whose method is in `optional` answers None when the
        node refuses it instead of failing the batch."""
        results: list[Any] = []
        for offset in range(0, len(calls), MAX_BATCH):
            results.extend(self._batch(calls[offset : offset + MAX_BATCH], optional))
        return results

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def _batch(self, calls: list[tuple[str, list[Any]]], optional: frozenset[str]) -> list[Any]:
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        delay = 0.2
        for attempt in range(RETRIES + 1):
            try:
                reply = self._session.post(self.url, json=payload, timeout=self.timeout)
                reply.raise_for_status()
                answers = reply.json()
                busy = _retry_later(answers)
                if busy is None:
                    break
                if attempt == RETRIES:
                    raise NodeUnreachableError(
                        f"the ledger node at {redacted(self.url)} asks to retry later ({busy})"
                    )
            except (requests.RequestException, ValueError) as exc:
                if attempt == RETRIES:
                    raise NodeUnreachableError(
                        redacted(
                            f"the ledger node at {self.url} did not answer ({exc}); check "
                            "that it runs and --rpc-url is right"
                        )
                    ) from exc
            time.sleep(delay)
            delay *= 2
        if not isinstance(answers, list):
            raise IndexerError(
                f"the ledger node at {redacted(self.url)} refused a batch: {answers}"
            )
        by_id = {answer.get("id"): answer for answer in answers}
        results: list[Any] = []
        for i, (method, _params) in enumerate(calls):
            answer = by_id.get(i, {})
            if "error" in answer or "result" not in answer:
                if method in optional:
                    results.append(None)
                    continue
                raise IndexerError(
                    f"{method} failed at {redacted(self.url)}: {answer.get('error', 'no answer')}; "
                    "check "
                    "that the node serves it (ledger_node.rpc_policy)"
                )
            results.append(answer["result"])
        return results


def _retry_later(answers: Any) -> str | None:
    """The node's message when any answer of the batch says "retry later" (-32005)."""
    entries = answers if isinstance(answers, list) else [answers]
    for answer in entries:
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict) and error.get("code") == RETRY_LATER:
            return str(error.get("message", "limit exceeded"))
    return None
