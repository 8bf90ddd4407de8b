"""Wake the follower the moment a block is sealed: an eth_subscribe("newHeads") WebSocket to the
ledger node, in a background thread that reconnects with backoff.

The follower keeps polling eth_blockNumber as well (every poll interval), so a socket that is
down, refused or silent only costs latency, never a block: polling is the fallback, the socket
just cuts the wait.
"""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import urlsplit, urlunsplit

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from citypass.core.rpc_url import redacted

log = logging.getLogger("indexer")

OPEN_TIMEOUT_S = 5.0
# How often the reader looks up from the socket to check for stop().
RECV_SLICE_S = 0.5
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 5.0


def ws_url_for(rpc_url: str) -> str:
    """The ledger node serves WebSocket JSON-RPC on the same address as HTTP."""
    parts = urlsplit(rpc_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


class HeadWatcher:
    """Sets `wake` on every newHeads notification; `connected` says whether it is subscribed."""

    def __init__(self, url: str, wake: threading.Event) -> None:
        self.url = url
        self.wake = wake
        self.connected = False
        self.heads = 0  # notifications received (observability and tests)
        # The highest block number announced (-1: none yet): the follower reads it ahead.
        self.latest = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> HeadWatcher:
        self._thread = threading.Thread(target=self._run, name="indexer-heads", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=OPEN_TIMEOUT_S + 2)

    def _run(self) -> None:
        delay = BACKOFF_FIRST_S
        while not self._stop.is_set():
            try:
                self._subscribe_and_read()
                delay = BACKOFF_FIRST_S  # it ran, then closed: reconnect quickly
            except (OSError, WebSocketException, TimeoutError, ValueError, KeyError) as exc:
                if self.connected or delay == BACKOFF_FIRST_S:
                    log.warning(
                        "newHeads subscription down; polling meanwhile",
                        extra={"ws": redacted(self.url), "error": str(exc) or type(exc).__name__},
                    )
            self.connected = False
            # A missed head may have been sealed while the socket was down: look now.
            self.wake.set()
            self._stop.wait(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _subscribe_and_read(self) -> None:
        with connect(
            self.url, open_timeout=OPEN_TIMEOUT_S, proxy=None, compression=None, max_size=None
        ) as socket:
            socket.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                    "params": ["newHeads"]}))  # fmt: skip
            answer = json.loads(socket.recv(timeout=OPEN_TIMEOUT_S))
            if "result" not in answer:
                raise ValueError(f"eth_subscribe newHeads refused: {answer.get('error')}")
            self.connected = True
            log.info("newHeads subscribed", extra={"ws": redacted(self.url)})
            while not self._stop.is_set():
                try:
                    message = socket.recv(timeout=RECV_SLICE_S)
                except TimeoutError:
                    continue
                if '"eth_subscription"' in message:
                    self.heads += 1
                    self.latest = max(self.latest, _head_number(message))
                    self.wake.set()


def _head_number(message: str | bytes) -> int:
    """The block number a newHeads notification announces; -1 when it names none (then the
    follower just asks the node for the head, as when polling)."""
    try:
        return int(json.loads(message)["params"]["result"]["number"], 16)
    except (ValueError, KeyError, TypeError):
        return -1
