"""The edge daemon's own loopback endpoints: GET /health (JSON) and GET /metrics (Prometheus)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from edge_oracle.delivery import Deliverer
from edge_oracle.metrics import EdgeMetrics
from edge_oracle.outbox import Outbox


def health_document(outbox: Outbox, deliverers: list[Deliverer]) -> dict[str, Any]:
    counts = outbox.counts()
    oldest = outbox.oldest_pending_ms()
    states = [d.status.oracle_reachable for d in deliverers]
    reachable = False if False in states else None if None in states else True
    first = next((d for d in deliverers if d.status.last_error), deliverers[0])
    return {
        # The edge itself is healthy while it can buffer; "degraded" says the daemon is away.
        "status": "degraded" if reachable is False else "ok",
        "outboxDepth": counts["pending"],
        "delivered": counts["delivered"],
        "deadLettered": counts["deadLettered"],
        "oldestPendingAgeS": None if oldest is None else round(time.time() - oldest / 1000, 3),
        "lastDeliveryMs": outbox.last_delivery_ms(),
        "oracleReachable": reachable,
        "lastError": first.status.last_error,
        # Lines taken from each resumable input (file), kept across restarts.
        "inputLines": outbox.positions(),
        # Each oracle daemon's own progress (several with independent oracles).
        "oracles": [
            {
                "url": d.url,
                "reachable": d.status.oracle_reachable,
                "pending": outbox.depth(d.destination),
                "lastError": d.status.last_error,
            }
            for d in deliverers
        ],
    }


def build_app(outbox: Outbox, deliverers: list[Deliverer], metrics: EdgeMetrics) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return web.json_response(health_document(outbox, deliverers))

    async def prometheus(_: web.Request) -> web.Response:
        metrics.outbox_depth.set(outbox.depth())
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    return app
