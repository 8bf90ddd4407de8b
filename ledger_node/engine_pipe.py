"""Raw transactions to the engine in a given order, fast: HTTP/1.1 requests written back-to-back
on one keep-alive connection, answers read in the same order.

Replay (recovery, verify, witnesses) must hand a block's transactions to anvil in their recorded
order: anvil (FIFO) orders a block by the order transactions enter its pool, and it does not add
the members of a JSON-RPC batch in array order. One request at a time kept the order but paid a
round trip per transaction. anvil's HTTP server (hyper) serves a connection's requests one after
the other, so requests pipelined on one connection enter the pool in the order they were
written, and the round trips overlap. Writing and reading run at the same time, so neither side
stalls on a full socket buffer.
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


class OrderedPipe:
    """One keep-alive connection to the engine on `port` for ordered eth_sendRawTransaction runs
    (kept between runs: a connection per block would leave a TIME_WAIT socket per block)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._busy = asyncio.Lock()  # one run at a time: two runs' orders must not mix

    async def send_raw(self, raws: list[bytes]) -> list[dict[str, Any]]:
        """eth_sendRawTransaction of each of `raws`, entering the engine's pool in this order;
        the answers in the same order (an error object where the engine refused one)."""
        if not raws:
            return []
        async with self._busy:
            try:
                return await self._run(raws)
            except _Stale:
                # The engine closed the kept connection while it was idle, before taking any of
                # this run: the same run on a new connection.
                return await self._run(raws)

    async def _run(self, raws: list[bytes]) -> list[dict[str, Any]]:
        fresh = self._streams is None
        reader, writer = await self._open()
        answers: list[dict[str, Any]] = []
        writing = asyncio.ensure_future(_write(writer, raws))
        try:
            await _read(reader, len(raws), answers)
            await writing
            return answers
        except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.close()
            if not answers and not fresh and isinstance(exc, EOFError | ConnectionError):
                raise _Stale from exc
            raise EngineError(f"the engine's connection failed during a replay: {exc}") from exc
        finally:
            if not writing.done():  # the read failed first: the write has nobody to answer it
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await writing

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._streams is None:
            try:
                self._streams = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError as exc:
                raise EngineError(f"cannot reach the engine on port {self.port}: {exc}") from exc
        return self._streams

    async def close(self) -> None:
        if self._streams is None:
            return
        _, writer = self._streams
        self._streams = None
        writer.close()
        with contextlib.suppress(OSError, ConnectionError):  # the engine may have gone first
            await writer.wait_closed()


class _Stale(Exception):
    """The kept connection was closed by the engine before it answered anything."""


async def _write(writer: asyncio.StreamWriter, raws: list[bytes]) -> None:
    for number, raw in enumerate(raws):
        body = _BODY % (number, raw.hex().encode())
        writer.write(_HEAD % len(body) + body)
        if number % 256 == 255:
            await writer.drain()
    await writer.drain()


async def _read(reader: asyncio.StreamReader, count: int, answers: list[dict[str, Any]]) -> None:
    """Read `count` answers into `answers` (so a failure shows how many came)."""
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
