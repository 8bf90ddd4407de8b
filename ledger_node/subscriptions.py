"""Bounded WebSocket notifications: the sealer never waits on a client.

The block listener only puts notifications into each connection's queue; one writer task per
connection sends them. A connection whose queue grows past its bound (a client that stopped
reading, or reads slower than blocks come) is closed with code 1008 and the reason, and its
queue is dropped. Subscriptions per connection and connections in total are bounded too.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket as sockets
from dataclasses import dataclass

from aiohttp import web
from prometheus_client.core import Metric

from citypass.core.prometheus import counter_value, gauge_value
from citypass.core.ranges import check_range
from ledger_node.errors import LIMIT_EXCEEDED, RpcError

log = logging.getLogger("ledger_node.ws")
CLOSE_POLICY_VIOLATION = 1008
# How long a dropped client gets to take the close frame before its connection is cut.
CLOSE_GRACE_SECONDS = 10.0
# A fixed kernel send buffer per connection. Linux would otherwise grow it to megabytes for a
# client that stopped reading, hiding it from the queue bound (and holding the memory); 256 KiB
# still streams megabytes a second at a 100 ms round trip.
SEND_BUFFER_BYTES = 256 * 1024


@dataclass(frozen=True)
class WsLimits:
    max_connections: int = 200
    max_subscriptions: int = 32
    max_queued: int = 4096
    max_queued_bytes: int = 4 * 1024 * 1024

    def validate(self) -> None:
        """Raises ValueError naming the option that is out of range."""
        check_range("--ws-max-connections", self.max_connections, 1, 100_000)
        check_range("--ws-max-subscriptions", self.max_subscriptions, 1, 10_000)
        check_range("--ws-max-queued", self.max_queued, 1, 1_000_000)
        check_range("--ws-max-queued-bytes", self.max_queued_bytes, 1024, 1024**3)


class WsRegistry:
    """The open connections' outboxes and the counters /metrics shows."""

    def __init__(self, limits: WsLimits) -> None:
        limits.validate()
        self.limits = limits
        self.outboxes: set[Outbox] = set()
        self.refused_connections = 0
        self.refused_subscriptions = 0
        self.dropped = 0

    def open(self, socket: web.WebSocketResponse, request: web.Request) -> Outbox | None:
        """An outbox for a new connection, or None when the connection limit is reached."""
        if len(self.outboxes) >= self.limits.max_connections:
            self.refused_connections += 1
            return None
        outbox = Outbox(socket, request, self)
        self.outboxes.add(outbox)
        raw = request.transport.get_extra_info("socket") if request.transport else None
        if raw is not None:
            with contextlib.suppress(OSError):
                raw.setsockopt(sockets.SOL_SOCKET, sockets.SO_SNDBUF, SEND_BUFFER_BYTES)
        return outbox

    def connection_refusal(self) -> RpcError:
        return RpcError(
            LIMIT_EXCEEDED,
            f"too many WebSocket connections: the limit is {self.limits.max_connections} "
            "(--ws-max-connections); retry later or use HTTP",
        )

    def check_subscription(self, current: int) -> None:
        if current >= self.limits.max_subscriptions:
            self.refused_subscriptions += 1
            raise RpcError(
                LIMIT_EXCEEDED,
                f"subscription limit: this connection already has {current} subscriptions (limit "
                f"{self.limits.max_subscriptions}, --ws-max-subscriptions); unsubscribe one first",
            )

    def metric_families(self) -> list[Metric]:
        """The WebSocket share of /metrics, read at scrape time."""
        depths = [outbox.depth for outbox in self.outboxes]
        subscriptions = sum(outbox.subscriptions for outbox in self.outboxes)
        queued_bytes = sum(outbox.queued_bytes for outbox in self.outboxes)
        return [
            gauge_value("ledger_ws_connections", "Open WebSocket connections.", len(self.outboxes)),
            counter_value(
                "ledger_ws_connections_refused_total",
                "WebSocket connections refused at the limit.",
                self.refused_connections,
            ),
            gauge_value(
                "ledger_ws_subscriptions", "Active eth_subscribe subscriptions.", subscriptions
            ),
            counter_value(
                "ledger_ws_subscriptions_refused_total",
                "Subscriptions refused at the limit.",
                self.refused_subscriptions,
            ),
            counter_value(
                "ledger_ws_subscribers_dropped_total",
                "Connections closed for reading too slowly.",
                self.dropped,
            ),
            gauge_value(
                "ledger_ws_queued_messages",
                "Notifications queued, over all connections.",
                sum(depths),
            ),
            gauge_value(
                "ledger_ws_queued_messages_max",
                "Notifications queued for the slowest connection.",
                max(depths, default=0),
            ),
            gauge_value(
                "ledger_ws_queued_bytes",
                "Bytes of notifications queued, over all connections.",
                queued_bytes,
            ),
        ]


class Outbox:
    """One connection's notification queue and the task that writes it to the socket."""

    def __init__(
        self, socket: web.WebSocketResponse, request: web.Request, registry: WsRegistry
    ) -> None:
        self.socket = socket
        self.request = request
        self.registry = registry
        self.dropped = False
        self.queued_bytes = 0
        self.subscriptions = 0  # kept by the connection's Subscriptions, for /metrics
        self._queue: collections.deque[str] = collections.deque()
        self._ready = asyncio.Event()
        self._writer = asyncio.create_task(self._write(), name="ws-writer")
        self._closer: asyncio.Task | None = None

    @property
    def depth(self) -> int:
        return len(self._queue)

    def put(self, messages: list[str]) -> None:
        """Queue notifications without waiting; drop the connection past the bounds."""
        if self.dropped or not messages:
            return
        self._queue.extend(messages)
        self.queued_bytes += sum(len(m) for m in messages)
        limits = self.registry.limits
        if len(self._queue) > limits.max_queued or self.queued_bytes > limits.max_queued_bytes:
            self._drop(
                f"too slow: {len(self._queue)} notifications ({self.queued_bytes} bytes) queued; "
                f"limits {limits.max_queued} / {limits.max_queued_bytes} bytes"
            )
            return
        self._ready.set()

    async def _write(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                message = self._queue.popleft()
                self.queued_bytes -= len(message)
                try:
                    await self.socket.send_str(message)
                except (ConnectionError, RuntimeError):
                    return  # the socket closed under us; the handler's finally cleans up

    def _drop(self, reason: str) -> None:
        self.dropped = True
        self.registry.dropped += 1
        self._queue.clear()
        self.queued_bytes = 0
        self._writer.cancel()
        peer = self.request.remote
        log.warning("dropping WebSocket client %s: %s", peer, reason)
        self._closer = asyncio.create_task(self._close(reason), name="ws-drop")

    async def _close(self, reason: str) -> None:
        # The close frame goes behind what the kernel and the transport already hold, so a
        # client that reads again still learns why; one that never does is cut off.
        with contextlib.suppress(Exception, TimeoutError):
            await asyncio.wait_for(
                self.socket.close(code=CLOSE_POLICY_VIOLATION, message=reason.encode()[:123]),
                CLOSE_GRACE_SECONDS,
            )
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def aclose(self) -> None:
        """The connection ended: stop the writer and forget the outbox."""
        self.registry.outboxes.discard(self)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer
        self._queue.clear()
        self.queued_bytes = 0
