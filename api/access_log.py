"""Per-request metrics and the JSON access log, as a plain ASGI middleware.

Starlette's BaseHTTPMiddleware (`@app.middleware("http")`) runs every request in an extra task
with memory streams; measured as a large share of a slot search's time under load, so this
wraps the ASGI callables directly and only watches the response start for its status.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics

access = logging.getLogger("api.access")


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}  # what the client gets if the app raises before answering

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self._record(scope, status["code"], time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        # The route template, not the path, so label values stay bounded.
        template = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        self.metrics.requests.labels(template, method, str(status)).inc()
        self.metrics.latency.labels(template).observe(elapsed)
        client = scope.get("client")
        access.info(
            "request",
            extra={
                "method": method, "route": template, "status": status,
                "ms": round(elapsed * 1000, 2), "client": client[0] if client else None,
            },
        )  # fmt: skip
