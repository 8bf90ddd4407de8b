"""HTTP: `POST /v1/events` (ingest), `POST /v1/peer/cosign` (peers, oracles/cosign.py),
`GET /health`, `GET /metrics`.

Reply contract with the edge (docs/oracle-daemon.md): 413 for a body or event count over the
limits, 400 for a body that is not `{"events": [...]}` JSON, otherwise 200 with
`{"accepted": [...], "duplicates": [...], "rejected": [{"eventId", "reason", "message"}]}`.
Accepted and duplicate events are delivered; `sequence_gap` and `unavailable` are retried by
the edge; every other reason is permanent."""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from citypass.core import http_errors
from citypass.core.json_nesting import nesting_exceeds
from oracles.config import OracleSettings
from oracles.metrics import Metrics

log = logging.getLogger("oracles.server")
# A batch is {"events": [{...}]}: three levels, a few more inside an event. Deeper JSON is not
# a batch, and deep enough JSON exhausts Python's recursion in the parser or after it.
MAX_JSON_DEPTH = 32
# A proposal carries at most 64 words of three uint256 each: far below this.
MAX_PROPOSAL_BYTES = 256 * 1024


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response({"error": reason, "message": message}, status=status)


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    return _error(exc.status, "http_error", f"{request.method} {request.path}: {exc.reason}")


def _internal_error(request: web.Request) -> web.Response:
    return _error(503, "unavailable", "internal error (logged); retry, and report it if it lasts")


# aiohttp's own error pages are plain text; the edge and operators get JSON.
json_errors = http_errors.json_errors(_http_error, _internal_error, log)


class IngestService(Protocol):
    """What the HTTP layer serves: the daemon (oracles/daemon.py), which runs this server, so
    the server names only what it calls and does not import the daemon."""

    settings: OracleSettings
    metrics: Metrics

    async def ingest(self, wires: list[Any]) -> dict[str, Any]: ...

    async def health(self) -> dict[str, Any]: ...

    async def refresh_gauges(self) -> None: ...

    async def cosign(self, data: Any) -> tuple[int, dict[str, Any]]: ...


def build_app(daemon: IngestService) -> web.Application:
    settings = daemon.settings
    metrics = daemon.metrics
    max_bytes = settings.max_batch_bytes

    def too_deep() -> web.Response:
        metrics.requests_refused.labels("malformed").inc()
        return _error(
            400,
            "malformed",
            f"JSON nested too deep (more than {MAX_JSON_DEPTH} levels): "
            'send {"events": [...]} with flat events',
        )

    async def ingest(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > max_bytes:
            metrics.requests_refused.labels("oversized").inc()
            return _error(
                413, "oversized", f"the body is over {max_bytes} bytes: send smaller batches"
            )
        # read(n) may return a partial chunk: read to the end, stopping one byte past the cap.
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = await request.content.read(max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = b"".join(chunks)
        if len(body) > max_bytes:
            metrics.requests_refused.labels("oversized").inc()
            return _error(
                413, "oversized", f"the body is over {max_bytes} bytes: send smaller batches"
            )
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            metrics.requests_refused.labels("malformed").inc()
            return _error(
                400, "malformed", f'the body is not JSON ({exc}): send {{"events": [...]}}'
            )
        except RecursionError:
            return too_deep()
        if nesting_exceeds(data, MAX_JSON_DEPTH):
            return too_deep()
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            metrics.requests_refused.labels("malformed").inc()
            return _error(400, "malformed", 'the body must be a JSON object {"events": [...]}')
        events = data["events"]
        if len(events) > settings.max_batch_events:
            metrics.requests_refused.labels("oversized").inc()
            return _error(
                413,
                "oversized",
                f"{len(events)} events; at most {settings.max_batch_events} per request",
            )
        try:
            reply = await daemon.ingest(events)
        except Exception as exc:  # noqa: BLE001 - e.g. the evidence store or disk failed
            # Nothing of this request was committed (one transaction): the edge retries it all.
            log.exception("ingest failed")
            metrics.requests_refused.labels("unavailable").inc()
            return _error(
                503, "unavailable", f"the daemon could not store the batch ({exc}): retry"
            )
        return web.json_response(reply)

    async def cosign(request: web.Request) -> web.Response:
        body = await request.content.read(MAX_PROPOSAL_BYTES + 1)
        if len(body) > MAX_PROPOSAL_BYTES:
            metrics.cosign_refused.labels("oversized").inc()
            return _error(413, "oversized", f"a proposal is at most {MAX_PROPOSAL_BYTES} bytes")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            metrics.cosign_refused.labels("malformed").inc()
            return _error(400, "malformed", f"the body is not JSON ({exc}): send a proposal")
        if nesting_exceeds(data, MAX_JSON_DEPTH):
            metrics.cosign_refused.labels("malformed").inc()
            return _error(400, "malformed", "JSON nested too deep: send a proposal")
        status, reply = await daemon.cosign(data)
        return web.json_response(reply, status=status)

    async def health(request: web.Request) -> web.Response:
        return web.json_response(await daemon.health())

    async def metrics_view(request: web.Request) -> web.Response:
        await daemon.refresh_gauges()
        return web.Response(
            body=generate_latest(metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    app = web.Application(client_max_size=max_bytes + 1, middlewares=[json_errors])
    app.router.add_post("/v1/events", ingest)
    app.router.add_post("/v1/peer/cosign", cosign)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics_view)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, shutdown_timeout=5).start()
    return runner
