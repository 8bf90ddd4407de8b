"""The admin listener: node operations that must never be public (snapshots, the development
clock), on a separate loopback port and only with the operator's bearer token."""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any

import ujson
from aiohttp import web

from citypass.core.keystore import resolve_secret
from ledger_node.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    KeystoreError,
    RpcError,
)
from ledger_node.node import LedgerNode

TOKEN_ENV = "LEDGER_NODE_ADMIN_TOKEN"
MIN_TOKEN_LENGTH = 16
log = logging.getLogger("ledger_node.admin")


def resolve_token(token_file: Path | None) -> str:
    """The admin bearer token from --admin-token-file, else $LEDGER_NODE_ADMIN_TOKEN."""
    token = resolve_secret(
        token_file, TOKEN_ENV, error=KeystoreError, what="admin token",
        file_option="--admin-token-file", min_length=MIN_TOKEN_LENGTH,
    )  # fmt: skip
    return token.strip()  # as the Authorization header it is compared with


def build_admin_app(node: LedgerNode, token: str) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return web.json_response({"error": "missing or wrong admin token"}, status=401)
        try:
            payload = ujson.loads(await request.read())
        except Exception:  # noqa: BLE001 - whatever a hostile body makes the parser raise
            return web.json_response(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "not JSON"}}
            )
        request_id = payload.get("id") if isinstance(payload, dict) else None
        if isinstance(request_id, bool) or not isinstance(request_id, str | int):
            request_id = None  # an id like 1e400 cannot be echoed as JSON
        try:
            result = await _dispatch(node, payload)
            return web.json_response(
                {"jsonrpc": "2.0", "id": request_id, "result": result}, dumps=ujson.dumps
            )
        except RpcError as error:
            return web.json_response(
                {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}, dumps=ujson.dumps
            )
        except Exception as exc:  # a JSON-RPC error, never aiohttp's plain-text 500
            if node.supervisor.available():
                log.exception("admin request failed")
                failure = RpcError(
                    INTERNAL_ERROR, f"internal error: {exc}; see the node's log and retry"
                )
            else:
                failure = node.supervisor.unavailable_error()
            return web.json_response(
                {"jsonrpc": "2.0", "id": request_id, "error": failure.to_json()}, dumps=ujson.dumps
            )

    app = web.Application()
    app.router.add_post("/", handle)
    return app


async def _dispatch(node: LedgerNode, payload: Any) -> Any:
    if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
        raise RpcError(INVALID_REQUEST, "send one JSON-RPC request object with a method")
    params = payload.get("params", [])
    method = payload["method"]
    if method == "admin_snapshot":
        snapshot = await node.snapshot()
        return {"block": hex(snapshot.block), "file": snapshot.path}
    if method == "admin_setClock":
        if not node.dev_clock:
            raise RpcError(METHOD_NOT_FOUND, "admin_setClock needs a node started with --dev-clock")
        if len(params) != 1 or isinstance(params[0], bool) or not isinstance(params[0], int):
            raise RpcError(
                INVALID_PARAMS, "expected one parameter: the Unix time of the next block"
            )
        return await node.set_clock(params[0])
    raise RpcError(
        METHOD_NOT_FOUND, f"admin method {method!r} does not exist (admin_snapshot, admin_setClock)"
    )
