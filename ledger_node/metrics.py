"""GET /metrics: the node's live state in the Prometheus text format (prometheus-client).

Each node gets a CollectorRegistry of its own with one collector that reads the figures at
scrape time from where they are kept (the node, the gateway, its read limiter, WebSocket
registry and disk guard), so nothing is counted twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.core import Metric

from citypass.core.prometheus import LiveCollector, counter_value, gauge_value
from ledger_node.node import LedgerNode
from ledger_node.read_limits import ReadLimiter
from ledger_node.subscriptions import WsRegistry
from ledger_node.witness_desk import WitnessDesk


class Served(Protocol):
    """What the JSON-RPC gateway counts (ledger_node.server.RpcGateway)."""

    node: LedgerNode
    requests: int
    refused: int
    internal_errors: int
    reads: ReadLimiter
    ws: WsRegistry
    witnesses: WitnessDesk


def node_families(gateway: Served) -> list[Metric]:
    node = gateway.node
    supervisor = node.supervisor
    return [
        gauge_value("ledger_head_block", "Number of the newest sealed block.", node.head_number),
        gauge_value(
            "ledger_pending_transactions",
            "Accepted transactions not yet sealed.",
            node._pending,
        ),
        gauge_value(
            "ledger_journal_bytes", "Size of the journal on disk.", node.journal.size_bytes()
        ),
        counter_value("ledger_rpc_requests_total", "JSON-RPC requests received.", gateway.requests),
        counter_value(
            "ledger_rpc_refused_total",
            "Requests for methods this node does not serve.",
            gateway.refused,
        ),
        counter_value(
            "ledger_permission_cache_hits_total",
            "Permission answers served from the cache.",
            node.gate.hits,
        ),
        counter_value(
            "ledger_permission_cache_misses_total",
            "Permission answers asked of CityAccess.",
            node.gate.misses,
        ),
        gauge_value(
            "ledger_engine_up",
            "1 while the engine runs; 0 while it restarts or is down.",
            int(supervisor.available()),
        ),
        counter_value(
            "ledger_engine_restarts_total",
            "Times the engine was restored after it died.",
            supervisor.restarts,
        ),
        counter_value(
            "ledger_engine_exits_total",
            "Times the engine died (noticed by the supervisor).",
            supervisor.exits,
        ),
        counter_value(
            "ledger_rpc_internal_errors_total",
            "Requests answered -32603 by a bug of the node.",
            gateway.internal_errors,
        ),
        *gateway.reads.metric_families(),
        *gateway.ws.metric_families(),
        *node.disk.metric_families(),
        *gateway.witnesses.metric_families(),
    ]


def metrics_handler(gateway: Served) -> Callable[[web.Request], Awaitable[web.Response]]:
    registry = LiveCollector.registry(lambda: node_families(gateway))

    async def metrics(_: web.Request) -> web.Response:
        # The Prometheus text format, under the content type the node has always served.
        body = generate_latest(registry)
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    return metrics
