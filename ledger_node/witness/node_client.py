"""The witness's JSON-RPC client to the node it follows (its token in the URL's path; the URL is
never logged with it: citypass/core/rpc_url.py)."""

from __future__ import annotations

from typing import Any

import aiohttp

from citypass.core.rpc_url import redacted
from ledger_node.rpc_batch import batch_answers, batch_payload

TIMEOUT_SECONDS = 30.0


class NodeUnreachable(Exception):
    """The node answered nothing (down, restarting, the network): the witness waits; this is
    never evidence of anything."""


class NodeRefused(Exception):
    """The node answered a JSON-RPC error."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message')} (code {error.get('code')})")
        self.error = error


class NodeClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.shown_url = redacted(url)
        self._session: aiohttp.ClientSession | None = None
        self._ids = 0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, payload: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
            )
        try:
            async with self._session.post(self.url, json=payload) as reply:
                if reply.status >= 500:
                    raise NodeUnreachable(f"{self.shown_url} answered HTTP {reply.status}")
                return await reply.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            raise NodeUnreachable(
                f"{self.shown_url}: {redacted(str(exc)) or type(exc).__name__}"
            ) from exc

    async def call(self, method: str, params: list[Any]) -> Any:
        self._ids += 1
        answer = await self._post(
            {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params}
        )
        if not isinstance(answer, dict):
            raise NodeUnreachable(f"{method}: the node's answer is not a JSON-RPC object")
        if "error" in answer:
            raise NodeRefused(method, answer["error"])
        return answer.get("result")

    async def batch(self, method: str, params: list[list[Any]]) -> list[Any]:
        """One batch of `method` calls; the results in order (an error raises NodeRefused)."""
        first = self._ids + 1
        self._ids += len(params)
        answers = await self._post(batch_payload(first, [(method, p) for p in params]))
        results = []
        for answer in batch_answers(answers, first, len(params), "no answer"):
            if "error" in answer:
                raise NodeRefused(method, answer["error"])
            results.append(answer.get("result"))
        return results

    async def head(self) -> int:
        return int(await self.call("eth_blockNumber", []), 16)

    async def entries(self, numbers: list[int]) -> list[dict[str, Any] | None]:
        return await self.batch("ledger_getJournalEntry", [[hex(n)] for n in numbers])
