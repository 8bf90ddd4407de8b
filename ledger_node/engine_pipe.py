"""Raw transactions to the engine in a given order, fast: HTTP/1.1 requests written back-to-back
on one keep-alive connection, answers read in the same order.

Replay (recovery, verify, witnesses) must hand a block's transactions to anvil in their recorded
order: anvil (FIFO) orders a block by the order transactions enter its pool, and it does not add
the members of a JSON-RPC batch in array order. One request at a time kept the order but paid a
round trip per transaction. anvil's HTTP server (hyper) serves a connection's requests one after
the other, so requests pipelined on one connection enter the pool in the order they were
written, and the round trips overlap. Writing and reading run at the same time, so neither side
stalls on a full socket buffer.

anvil spends ~150 µs of CPU on each eth_sendRawTransaction (mostly recovering the sender) and
answers each one as soon as it is done: read as it comes, each ~150-byte answer woke the event
loop once and cost ~20 µs of Python time, taken from the same two cores anvil needs. So the
socket is read with the event loop's sock_recv (nothing is read until asked) after a short nap
while many answers are still due: a few dozen answers per wake-up, parsed from one buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from typing import Any

import ujson

from ledger_node.errors import EngineError

_HEAD = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n"
)
_BODY = b'{"jsonrpc":"2.0","id":%d,"method":"eth_sendRawTransaction","params":["0x%s"]}'
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)
_READ_BYTES = 1 << 18
_COMPACT_AT = 1 << 16  # drop parsed answers from the buffer past this many bytes
_WRITE_CHUNK = 512  # requests per write: a bounded buffer, one syscall for many requests
# While at least this many answers are due, nap before reading (anvil keeps answering into the
# socket buffer meanwhile): ~13 answers arrive per ms. The last answers are read without a nap,
# so a small block pays no delay.
_COALESCE_FROM = 64
_COALESCE_SECONDS = 0.002


class OrderedPipe:
    """One keep-alive connection to the engine on `port` for ordered eth_sendRawTransaction runs
    (kept between runs: a connection per block would leave a TIME_WAIT socket per block)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._sock: socket.socket | None = None
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
        fresh = self._sock is None
        sock = await self._open()
        answers: list[dict[str, Any]] = []
        writing = asyncio.ensure_future(_write(sock, raws))
        try:
            await _read(sock, len(raws), answers)
            await writing
            return answers
        except (OSError, EOFError, ValueError) as exc:
            await _settle(writing)
            await self.close()
            if not answers and not fresh and isinstance(exc, EOFError | ConnectionError):
                raise _Stale from exc
            raise EngineError(f"the engine's connection failed during a replay: {exc}") from exc
        except BaseException:
            # Cancelled mid-run: answers still due would be read as the next run's, so the
            # connection goes.
            await _settle(writing)
            await self.close()
            raise

    async def _open(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.port))
            except OSError as exc:
                sock.close()
                raise EngineError(f"cannot reach the engine on port {self.port}: {exc}") from exc
            self._sock = sock
        return self._sock

    async def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


async def _settle(writing: asyncio.Future[None]) -> None:
    """Stop the write of a failed run (nobody will read its answers) before its socket closes."""
    if not writing.done():
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await writing
    elif not writing.cancelled():
        writing.exception()  # a failed write is seen: the read's error is the one reported


class _Stale(Exception):
    """The kept connection was closed by the engine before it answered anything."""


async def _write(sock: socket.socket, raws: list[bytes]) -> None:
    loop = asyncio.get_running_loop()
    for start in range(0, len(raws), _WRITE_CHUNK):
        chunk = raws[start : start + _WRITE_CHUNK]
        await loop.sock_sendall(
            sock, b"".join(_request(number, raw) for number, raw in enumerate(chunk, start))
        )


def _request(number: int, raw: bytes) -> bytes:
    body = _BODY % (number, raw.hex().encode())
    return _HEAD % len(body) + body


async def _read(sock: socket.socket, count: int, answers: list[dict[str, Any]]) -> None:
    """Read `count` answers into `answers` (so a failure shows how many came)."""
    loop = asyncio.get_running_loop()
    data = bytearray()
    at = 0  # where the next answer starts in `data`
    while len(answers) < count:
        end = data.find(b"\r\n\r\n", at)
        stop = -1
        if end >= 0:
            head = bytes(data[at:end])
            length = _CONTENT_LENGTH.search(head)
            if length is None:
                status = head.split(b"\r\n", 1)[0]
                raise ValueError(f"an answer without Content-Length ({status!r})")
            stop = end + 4 + int(length.group(1))
        if end < 0 or len(data) < stop:
            if count - len(answers) >= _COALESCE_FROM:
                await asyncio.sleep(_COALESCE_SECONDS)
            chunk = await loop.sock_recv(sock, _READ_BYTES)
            if not chunk:
                raise EOFError("the engine closed the connection")
            data += chunk
            continue
        answers.append(ujson.loads(bytes(data[end + 4 : stop])))
        at = stop
        if at >= _COMPACT_AT:
            del data[:at]
            at = 0
        if _CLOSE.search(head) and len(answers) < count:
            raise EOFError("the engine closed the connection mid-replay")
