"""JSON-RPC batches the node sends to the engine: numbering the calls and putting the answers
back in their order (the engine's own client and the bounded reads both batch)."""

from __future__ import annotations

from typing import Any

from ledger_node.errors import INTERNAL_ERROR

Call = tuple[str, list[Any]]


def batch_payload(first_id: int, calls: list[Call]) -> list[dict[str, Any]]:
    """The batch request: the calls numbered from `first_id`."""
    return [
        {"jsonrpc": "2.0", "id": first_id + i, "method": method, "params": params}
        for i, (method, params) in enumerate(calls)
    ]


def batch_answers(reply: Any, first_id: int, count: int, no_answer: str) -> list[dict[str, Any]]:
    """The answers to a batch numbered from `first_id`, in the order of its calls. A refused
    batch (one error object, not a list) gives every call that error's message; a call the
    engine did not answer gets an error saying `no_answer`."""
    if not isinstance(reply, list):
        error = reply.get("error") if isinstance(reply, dict) else None
        message = (error or {}).get("message", "the engine refused the batch")
        return [{"error": {"code": INTERNAL_ERROR, "message": message}} for _ in range(count)]
    by_id = {answer.get("id"): answer for answer in reply if isinstance(answer, dict)}
    missing = {"error": {"code": INTERNAL_ERROR, "message": no_answer}}
    return [by_id.get(first_id + i, missing) for i in range(count)]
