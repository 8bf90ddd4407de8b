"""The public JSON-RPC endpoint: HTTP (single and batch requests) and WebSocket (with
eth_subscribe for newHeads and logs) on the same address."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import ujson
from aiohttp import WSMsgType, web

from ledger_node.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcError,
)
from ledger_node.node import LedgerNode
from ledger_node.rpc_policy import FREE_GAS_METHODS, Route, pending_count_account, route

log = logging.getLogger("ledger_node.rpc")
MAX_BATCH = 1000
MAX_BODY_BYTES = 32 * 1024 * 1024


def _error(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _result(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _block_number(params: list[Any]) -> int:
    if len(params) != 1:
        raise RpcError(INVALID_PARAMS, "expected one parameter: the block number")
    value = params[0]
    try:
        number = int(value, 16) if isinstance(value, str) and value.startswith("0x") else int(value)
    except (TypeError, ValueError) as exc:
        raise RpcError(
            INVALID_PARAMS, f"block number {value!r} is not a number (use hex like 0x1a)"
        ) from exc
    if isinstance(value, bool) or not 0 <= number < 2**63:
        raise RpcError(
            INVALID_PARAMS, f"block number {value!r} must be an integer from 0 to 2**63-1"
        )
    return number


class RpcGateway:
    def __init__(self, node: LedgerNode) -> None:
        self.node = node
        self.requests = 0
        self.refused = 0

    # -------------------------------------------------------------------------------- dispatch

    async def handle(self, payload: Any) -> Any:
        if isinstance(payload, list):
            if not payload:
                return _error(
                    None, RpcError(INVALID_REQUEST, "empty batch: send at least one request")
                )
            if len(payload) > MAX_BATCH:
                return _error(
                    None,
                    RpcError(
                        INVALID_REQUEST,
                        f"batch of {len(payload)} requests exceeds the limit of {MAX_BATCH}",
                    ),
                )
            answers = await self._handle_batch(payload)
            return [a for a in answers if a is not None] or None
        return (await self._handle_batch([payload]))[0]

    async def _handle_batch(self, requests: list[Any]) -> list[dict[str, Any] | None]:
        answers: list[dict[str, Any] | None] = [None] * len(requests)
        raw_txs: list[tuple[int, Any, Any]] = []
        engine_calls: list[tuple[int, Any, str, list[Any]]] = []
        pending_counts: list[tuple[int, Any, bytes]] = []
        for index, request in enumerate(requests):
            self.requests += 1
            try:
                request_id, method, params = self._validate(request)
            except RpcError as error:
                answers[index] = _error(
                    request.get("id") if isinstance(request, dict) else None, error
                )
                continue
            kind = route(method)
            if kind is Route.REFUSED:
                self.refused += 1
                answers[index] = _error(
                    request_id,
                    RpcError(METHOD_NOT_FOUND, f"method {method!r} is not available on this node"),
                )
            elif kind is Route.SUBSCRIPTION:
                answers[index] = _error(
                    request_id,
                    RpcError(METHOD_NOT_FOUND, f"{method} is only available over WebSocket"),
                )
            elif method == "eth_sendRawTransaction":
                if len(params) != 1:
                    answers[index] = _error(
                        request_id,
                        RpcError(
                            INVALID_PARAMS, "expected one parameter: the signed raw transaction"
                        ),
                    )
                else:
                    raw_txs.append((index, request_id, params[0]))
            elif kind is Route.NODE:
                answers[index] = self._node_method(request_id, method, params)
            elif (account := pending_count_account(method, params)) is not None:
                pending_counts.append((index, request_id, account))
            else:
                engine_calls.append((index, request_id, method, params))
        if raw_txs:
            results = await self.node.submit_raw([raw for _, _, raw in raw_txs])
            for (index, request_id, _), outcome in zip(raw_txs, results, strict=True):
                answers[index] = (
                    _error(request_id, outcome)
                    if isinstance(outcome, RpcError)
                    else _result(request_id, outcome)
                )
        if pending_counts:
            await self._pending_counts(pending_counts, answers)
        if engine_calls:
            try:
                replies = await self.node.engine.batch([(m, p) for _, _, m, p in engine_calls])
            except Exception as exc:  # the engine restarting or gone: answer, never crash
                log.warning("engine call failed: %s", exc)
                replies = [
                    {
                        "error": {
                            "code": INTERNAL_ERROR,
                            "message": "the engine is unavailable; retry shortly",
                        }
                    }
                ] * len(engine_calls)
            for (index, request_id, _, _), reply in zip(engine_calls, replies, strict=True):
                reply = dict(reply)
                reply["id"] = request_id
                reply["jsonrpc"] = "2.0"
                answers[index] = reply
        # Notifications (no "id" member) get no answer.
        return [
            None if isinstance(r, dict) and "id" not in r else a
            for r, a in zip(requests, answers, strict=True)
        ]

    def _validate(self, request: Any) -> tuple[Any, str, list[Any]]:
        if not isinstance(request, dict):
            raise RpcError(INVALID_REQUEST, "each request must be a JSON object")
        if request.get("jsonrpc") != "2.0":
            raise RpcError(INVALID_REQUEST, 'the request must carry "jsonrpc": "2.0"')
        method = request.get("method")
        if not isinstance(method, str) or not method:
            raise RpcError(INVALID_REQUEST, "the request needs a method name (a string)")
        request_id = request.get("id")
        if (
            request_id is not None
            and not isinstance(request_id, str | int)
            or isinstance(request_id, bool)
        ):
            raise RpcError(INVALID_REQUEST, "the id must be a string, a number or null")
        params = request.get("params", [])
        if not isinstance(params, list):
            raise RpcError(INVALID_PARAMS, f"params of {method} must be a JSON array")
        return request_id, method, params

    async def _pending_counts(
        self, requests: list[tuple[int, Any, bytes]], answers: list[dict[str, Any] | None]
    ) -> None:
        try:
            counts = await self.node.pending_nonces([account for _, _, account in requests])
        except Exception as exc:  # the engine restarting or gone: answer, never crash
            log.warning("pending nonce read failed: %s", exc)
            counts = [None] * len(requests)
        for (index, request_id, _), count in zip(requests, counts, strict=True):
            answers[index] = (
                _result(request_id, hex(count))
                if count is not None
                else _error(
                    request_id,
                    RpcError(INTERNAL_ERROR, "the engine is unavailable; retry shortly"),
                )
            )

    def _node_method(self, request_id: Any, method: str, params: list[Any]) -> dict[str, Any]:
        try:
            if method == "ledger_status":
                return _result(request_id, self.node.status())
            if method in FREE_GAS_METHODS:
                return _result(request_id, "0x0")
            number = _block_number(params)
            if method == "ledger_getSeal":
                return _result(request_id, self.node.seal_of(number))
            return _result(request_id, self.node.journal_entry(number))
        except RpcError as error:
            return _error(request_id, error)

    # ----------------------------------------------------------------------------------- HTTP

    async def http(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request)
        if request.method != "POST":
            return web.json_response(
                _error(
                    None, RpcError(INVALID_REQUEST, "send JSON-RPC with POST, or open a WebSocket")
                ),
                status=405,
            )
        body = await request.read()
        try:
            payload = ujson.loads(body)
        except ValueError:
            return web.json_response(
                _error(None, RpcError(PARSE_ERROR, "the body is not valid JSON")), dumps=ujson.dumps
            )
        answer = await self.handle(payload)
        if answer is None:
            return web.Response(status=204)
        return web.json_response(answer, dumps=ujson.dumps)

    # ------------------------------------------------------------------------------ WebSocket

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=MAX_BODY_BYTES, heartbeat=30)
        await socket.prepare(request)
        subscriptions = Subscriptions(socket)
        self.node.add_listener(subscriptions.on_block)
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    payload = ujson.loads(message.data)
                except ValueError:
                    await socket.send_str(
                        ujson.dumps(
                            _error(None, RpcError(PARSE_ERROR, "the message is not valid JSON"))
                        )
                    )
                    continue
                answer = await self._ws_payload(payload, subscriptions)
                if answer is not None:
                    await socket.send_str(ujson.dumps(answer))
        finally:
            self.node.remove_listener(subscriptions.on_block)
        return socket

    async def _ws_payload(self, payload: Any, subscriptions: Subscriptions) -> Any:
        if isinstance(payload, dict) and payload.get("method") in (
            "eth_subscribe",
            "eth_unsubscribe",
        ):
            try:
                request_id, method, params = self._validate(payload)
                if method == "eth_subscribe":
                    return _result(request_id, subscriptions.subscribe(params))
                return _result(request_id, subscriptions.unsubscribe(params))
            except RpcError as error:
                return _error(payload.get("id"), error)
        return await self.handle(payload)


class Subscriptions:
    """One WebSocket's eth_subscribe state: newHeads and logs (with address/topics filters)."""

    _ids = itertools.count(1)

    def __init__(self, socket: web.WebSocketResponse) -> None:
        self.socket = socket
        self.heads: set[str] = set()
        self.logs: dict[str, dict[str, Any]] = {}

    def subscribe(self, params: list[Any]) -> str:
        if not params or params[0] not in ("newHeads", "logs"):
            raise RpcError(INVALID_PARAMS, 'subscribe to "newHeads" or "logs"')
        sub_id = hex(next(self._ids) + (id(self) << 16))
        if params[0] == "newHeads":
            self.heads.add(sub_id)
        else:
            log_filter = params[1] if len(params) > 1 else {}
            if not isinstance(log_filter, dict):
                raise RpcError(
                    INVALID_PARAMS, "the logs filter must be an object with address and/or topics"
                )
            self.logs[sub_id] = _normalise_filter(log_filter)
        return sub_id

    def unsubscribe(self, params: list[Any]) -> bool:
        if len(params) != 1 or not isinstance(params[0], str):
            raise RpcError(INVALID_PARAMS, "expected one parameter: the subscription id")
        found = params[0] in self.heads or params[0] in self.logs
        self.heads.discard(params[0])
        self.logs.pop(params[0], None)
        return found

    async def on_block(self, block: dict[str, Any], logs: list[dict[str, Any]]) -> None:
        if self.socket.closed:
            return
        messages = [_notification(sub_id, block) for sub_id in self.heads]
        for sub_id, log_filter in self.logs.items():
            messages.extend(
                _notification(sub_id, entry) for entry in logs if _matches(log_filter, entry)
            )
        for message in messages:
            await self.socket.send_str(ujson.dumps(message))
        await asyncio.sleep(0)


def _notification(sub_id: str, result: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "eth_subscription",
        "params": {"subscription": sub_id, "result": result},
    }


def _normalise_filter(log_filter: dict[str, Any]) -> dict[str, Any]:
    address = log_filter.get("address")
    candidates = [address] if isinstance(address, str) else address or []
    if not isinstance(candidates, list) or not all(isinstance(a, str) for a in candidates):
        raise RpcError(
            INVALID_PARAMS, "the logs filter's address must be an address or a list of addresses"
        )
    addresses = {a.lower() for a in candidates}
    raw_topics = log_filter.get("topics") or []
    if not isinstance(raw_topics, list):
        raise RpcError(INVALID_PARAMS, "the logs filter's topics must be a list")
    topics = []
    for topic in raw_topics:
        if topic is None:
            topics.append(None)
        elif isinstance(topic, str):
            topics.append({topic.lower()})
        elif isinstance(topic, list):
            topics.append({t.lower() for t in topic if isinstance(t, str)})
        else:
            raise RpcError(INVALID_PARAMS, "each topic must be null, a hash, or a list of hashes")
    return {"addresses": addresses, "topics": topics}


def _matches(log_filter: dict[str, Any], entry: dict[str, Any]) -> bool:
    if log_filter["addresses"] and entry["address"].lower() not in log_filter["addresses"]:
        return False
    entry_topics = [t.lower() for t in entry.get("topics", [])]
    for position, wanted in enumerate(log_filter["topics"]):
        if wanted is None:
            continue
        if position >= len(entry_topics) or entry_topics[position] not in wanted:
            return False
    return True


async def health(gateway: RpcGateway, _: web.Request) -> web.Response:
    status = gateway.node.status()
    status["ok"] = gateway.node.engine.pid is not None
    return web.json_response(status, status=200 if status["ok"] else 503, dumps=ujson.dumps)


async def metrics(gateway: RpcGateway, _: web.Request) -> web.Response:
    node = gateway.node
    lines = [
        "# HELP ledger_head_block Number of the newest sealed block.",
        "# TYPE ledger_head_block gauge",
        f"ledger_head_block {node.head_number}",
        "# HELP ledger_pending_transactions Accepted transactions not yet sealed.",
        "# TYPE ledger_pending_transactions gauge",
        f"ledger_pending_transactions {node._pending}",
        "# HELP ledger_journal_bytes Size of the journal on disk.",
        "# TYPE ledger_journal_bytes gauge",
        f"ledger_journal_bytes {node.journal.size_bytes()}",
        "# HELP ledger_rpc_requests_total JSON-RPC requests received.",
        "# TYPE ledger_rpc_requests_total counter",
        f"ledger_rpc_requests_total {gateway.requests}",
        "# HELP ledger_rpc_refused_total Requests for methods this node does not serve.",
        "# TYPE ledger_rpc_refused_total counter",
        f"ledger_rpc_refused_total {gateway.refused}",
        "# HELP ledger_permission_cache_hits_total Permission answers served from the cache.",
        "# TYPE ledger_permission_cache_hits_total counter",
        f"ledger_permission_cache_hits_total {node.gate.hits}",
        "# HELP ledger_permission_cache_misses_total Permission answers asked of CityAccess.",
        "# TYPE ledger_permission_cache_misses_total counter",
        f"ledger_permission_cache_misses_total {node.gate.misses}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def build_app(gateway: RpcGateway) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_route("*", "/", gateway.http)
    app.router.add_get("/health", lambda request: health(gateway, request))
    app.router.add_get("/metrics", lambda request: metrics(gateway, request))
    return app
