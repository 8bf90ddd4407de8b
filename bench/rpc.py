"""The benchmarks' JSON-RPC client: aiohttp sessions and raw pipelined HTTP/1.1.

Measured against web3's AsyncHTTPProvider on this machine (anvil, the same calls): web3 takes
about 4x the client CPU per call and 2-18x per batch of 100, and the client shares two cores
with the node it measures, so the benchmarks keep this thin client."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import ujson

JSON = {"Content-Type": "application/json"}


def raw_tx_call(raw: str, request_id: int = 0) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "eth_sendRawTransaction", "params": [raw]}


def send_raw_body(raws: list[str], first_id: int = 0) -> bytes:
    """One JSON-RPC batch of eth_sendRawTransaction calls, ids counting from `first_id`."""
    return ujson.dumps([raw_tx_call(raw, first_id + i) for i, raw in enumerate(raws)]).encode()


class Rpc:
    """A small aiohttp JSON-RPC client: one session, `limit` connections."""

    def __init__(self, url: str, limit: int = 1) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, force_close=False),
            timeout=aiohttp.ClientTimeout(total=300),
        )
        self._id = 0

    async def close(self) -> None:
        await self.session.close()

    async def post(self, body: bytes) -> Any:
        async with self.session.post(self.url, data=body, headers=JSON) as reply:
            return ujson.loads(await reply.read())

    async def call(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        request = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        answer = await self.post(ujson.dumps(request).encode())
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return answer["result"]

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        answers = await self.post(ujson.dumps(payload).encode())
        if isinstance(answers, dict):  # a whole-batch error
            raise RuntimeError(f"batch refused: {answers.get('error')}")
        by_id = {a.get("id"): a for a in answers}
        return [by_id.get(i, {"error": {"message": "no answer"}}) for i in range(len(calls))]


async def call_once(url: str, method: str, params: list[Any] | None = None) -> Any:
    """One call on a session of its own."""
    rpc = Rpc(url)
    try:
        return await rpc.call(method, params or [])
    finally:
        await rpc.close()


def http_post(body: bytes) -> bytes:
    """A whole HTTP/1.1 POST / request carrying `body`, for Pipeline.send."""
    return (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body


class Pipeline:
    """HTTP/1.1 requests written back-to-back on one keep-alive connection, answers read in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Pipeline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, request: bytes) -> None:
        self.writer.write(request)

    async def answer(self) -> Any:
        status = await self.reader.readline()
        if not status:
            raise ConnectionError("the node closed the connection")
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return ujson.loads(await self.reader.readexactly(length))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):  # the node may have gone first
            await self.writer.wait_closed()
