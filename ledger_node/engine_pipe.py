"""Raw transactions to the engine in a given order, fast: HTTP/1.1 requests written back-to-back
on one keep-alive connection, answers read in the same order.

Replay (recovery, verify, witnesses) must hand a block's transactions to anvil in their recorded
order: anvil (FIFO) orders a block by the order transactions enter its pool, and it does not add
the members of a JSON-RPC batch in array order. One request at a time kept the order but paid a
round trip per transaction. anvil's HTTP server (hyper) serves a connection's requests one after
the other, so requests pipelined on one connection enter the pool in the order they were
written, and the round trips overlap. Writing and reading run at the same time, so neither side
stalls on a full socket buffer. Each run opens its own connection (a block's worth of requests
pays for it many times over), so an idle connection the engine closed is never reused.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import ujson

from ledger_node.errors import EngineError

_HEAD = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n"
)
_BODY = b'{"jsonrpc":"2.0","id":%d,"method":"eth_sendRawTransaction","params":["0x%s"]}'


async def send_raw_ordered(port: int, raws: list[bytes]) -> list[dict[str, Any]]:
    """eth_sendRawTransaction of each of `raws` to the engine on `port`, entering its pool in
    this order; the answers in the same order (an error object where the engine refused one)."""
    if not raws:
        return []
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        raise EngineError(f"cannot reach the engine on port {port}: {exc}") from exc
    writing = asyncio.ensure_future(_write(writer, raws))
    try:
        answers = await _read(reader, len(raws))
        await writing
        return answers
    except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as exc:
        raise EngineError(f"the engine's connection failed during a replay: {exc}") from exc
    finally:
        if not writing.done():  # the read failed first: the write has nobody to answer it
            writing.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await writing
        writer.close()
        with contextlib.suppress(OSError, ConnectionError):  # the engine may have gone first
            await writer.wait_closed()


async def _write(writer: asyncio.StreamWriter, raws: list[bytes]) -> None:
    for number, raw in enumerate(raws):
        body = _BODY % (number, raw.hex().encode())
        writer.write(_HEAD % len(body) + body)
        if number % 256 == 255:
            await writer.drain()
    await writer.drain()


async def _read(reader: asyncio.StreamReader, count: int) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for _ in range(count):
        status = await reader.readline()
        if not status:
            raise EOFError("the engine closed the connection")
        length = -1
        keep_alive = True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep_alive = False
        if length < 0:
            raise ValueError(f"an answer without Content-Length ({status.strip()!r})")
        body = await reader.readexactly(length)
        answers.append(ujson.loads(body))
        if not keep_alive and len(answers) < count:
            raise EOFError("the engine closed the connection mid-replay")
    return answers
