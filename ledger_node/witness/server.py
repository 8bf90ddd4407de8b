"""The witness's HTTP endpoints (docs/witnesses.md): /health, /metrics, GET /v1/checkpoint,
POST /v1/cosign, GET /v1/evidence. Errors are JSON, `{"error": {"code", "message"}}` as the
API's; a refusal changes nothing in the witness's state."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from prometheus_client import generate_latest

from citypass.core import http_errors
from citypass.core.prometheus import LiveCollector
from ledger_node.witness.metrics import witness_families
from ledger_node.witness.witness import CosignRefused, Witness

log = logging.getLogger("ledger_node.witness")
MAX_BODY_BYTES = 4096  # a checkpoint is ~400 bytes of JSON


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    return _error(exc.status, "http_error", f"{request.method} {request.path}: {exc.reason}")


def _internal_error(request: web.Request) -> web.Response:
    return _error(503, "unavailable", "internal error (logged); retry, and report it if it lasts")


json_errors = http_errors.json_errors(_http_error, _internal_error, log)


def build_app(witness: Witness) -> web.Application:
    registry = LiveCollector.registry(lambda: witness_families(witness))

    async def health(_: web.Request) -> web.Response:
        status = witness.status()
        return web.json_response(status, status=200 if status["ok"] else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), content_type="text/plain", charset="utf-8"
        )

    async def checkpoint(_: web.Request) -> web.Response:
        if witness.cosigned is None:
            return _error(404, "none", "this witness has co-signed no checkpoint yet")
        return web.json_response(witness.cosigned.to_json())

    async def cosign(request: web.Request) -> web.Response:
        try:
            body = await _json_body(request)
            cosigned = await witness.cosign_request(body)
        except CosignRefused as exc:
            witness.refusals[exc.code] += 1
            log.info("refused to co-sign: %s", exc.message, extra={"refusal": exc.code})
            return _error(exc.status, exc.code, exc.message)
        return web.json_response(cosigned.to_json())

    async def evidence(_: web.Request) -> web.Response:
        return web.json_response({"alarm": witness.alarm, "evidence": witness.store.evidence()})

    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/v1/checkpoint", checkpoint)
    app.router.add_post("/v1/cosign", cosign)
    app.router.add_get("/v1/evidence", evidence)
    return app


async def _json_body(request: web.Request) -> object:
    raw = await request.read()  # over client_max_size: aiohttp's 413, as JSON by the middleware
    try:
        return json.loads(raw.decode())
    except RecursionError as exc:
        raise CosignRefused(400, "malformed", "the body nests too deep for a checkpoint") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CosignRefused(
            400, "malformed", f"the body is not JSON ({exc}): send a checkpoint object"
        ) from exc
