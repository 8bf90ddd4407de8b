"""The public JSON-RPC endpoint: HTTP (single and batch requests) and WebSocket (with
eth_subscribe for newHeads and logs) on the same address."""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

import aiohttp
import ujson
from aiohttp import WSMsgType, web

from citypass.core import http_errors
from citypass.core.rpc_url import TOKEN_PREFIX
from ledger_node import rpc_params
from ledger_node.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    EngineError,
    RpcError,
)
from ledger_node.metrics import metrics_handler
from ledger_node.node import LedgerNode
from ledger_node.read_limit_settings import ReadLimits
from ledger_node.read_limits import ReadLimiter
from ledger_node.rpc_auth import Access, Authenticator, header_only
from ledger_node.rpc_policy import FREE_GAS_METHODS, Route, pending_count_account, route
from ledger_node.subscriptions import Outbox, WsLimits, WsRegistry
from ledger_node.witness_desk import WitnessDesk

log = logging.getLogger("ledger_node.rpc")
MAX_BATCH = 1000
MAX_BODY_BYTES = 32 * 1024 * 1024


def _error(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _result(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _request_id(request: Any) -> Any:
    """The id to answer with: the request's own when it is a valid one, otherwise null (an
    invalid id such as 1e400 or an object cannot be echoed as JSON)."""
    request_id = request.get("id") if isinstance(request, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        return None
    return request_id


class RpcGateway:
    def __init__(
        self,
        node: LedgerNode,
        read_limits: ReadLimits | None = None,
        ws_limits: WsLimits | None = None,
        auth: Authenticator | None = None,
    ) -> None:
        self.node = node
        # Without an authenticator no token verifies: only the keyless methods are served.
        self.auth = auth or Authenticator(None, "")
        self.requests = 0
        self.refused = 0
        self.internal_errors = 0
        self.reads = ReadLimiter(lambda: node.engine.url, read_limits or ReadLimits())
        self.ws = WsRegistry(ws_limits or WsLimits())
        self.witnesses = WitnessDesk(node)

    # -------------------------------------------------------------------------------- dispatch

    async def handle(self, payload: Any, client: str = "", access: Access | None = None) -> Any:
        """Answer one request or a batch; `client` (the peer's IP) keys the read rate limit,
        `access` (the caller's token, or none) decides which methods it may call."""
        access = access or Access(verifying=self.auth.public_key is not None)
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
            answers = await self._handle_batch(payload, client, access)
            return [a for a in answers if a is not None] or None
        return (await self._handle_batch([payload], client, access))[0]

    async def _handle_batch(
        self, requests: list[Any], client: str, access: Access
    ) -> list[dict[str, Any] | None]:
        answers: list[dict[str, Any] | None] = [None] * len(requests)
        raw_txs: list[tuple[int, Any, Any]] = []
        engine_calls: list[tuple[int, Any, str, list[Any]]] = []
        pending_counts: list[tuple[int, Any, bytes]] = []
        for index, request in enumerate(requests):
            self.requests += 1
            request_id = _request_id(request)
            try:
                request_id, method, params = self._validate(request)
                kind = route(method)
                if kind is Route.REFUSED:
                    self.refused += 1
                    raise RpcError(
                        METHOD_NOT_FOUND, f"method {method!r} is not available on this node"
                    )
                if kind is Route.SUBSCRIPTION:
                    raise RpcError(METHOD_NOT_FOUND, f"{method} is only available over WebSocket")
                access.check(method, params)
                # Every parameter is checked before anything reaches the engine.
                params = rpc_params.validate(method, params)
                needs_engine = kind is Route.ENGINE or method == "eth_sendRawTransaction"
                if needs_engine and not self.node.supervisor.available():
                    raise self.node.supervisor.unavailable_error()
                if method == "eth_sendRawTransaction":
                    raw_txs.append((index, request_id, params[0]))
                elif kind is Route.NODE:
                    answers[index] = _result(request_id, await self._node_method(method, params))
                elif (account := pending_count_account(method, params)) is not None:
                    pending_counts.append((index, request_id, account))
                else:
                    engine_calls.append((index, request_id, method, params))
            except Exception as exc:  # each entry's failure is its own, never the batch's
                failure = self._failure(exc, "a request")
                self.witnesses.count_refusal(request, failure)
                answers[index] = _error(request_id, failure)
        if raw_txs:
            try:
                results = await self.node.submit_raw([raw for _, _, raw in raw_txs])
            except Exception as exc:
                results = [self._failure(exc, "eth_sendRawTransaction")] * len(raw_txs)
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
                replies = await self.reads.run(client, [(m, p) for _, _, m, p in engine_calls])
            except Exception as exc:  # the engine restarting or gone: answer, never crash
                error = self._failure(exc, "an engine read")
                replies = [{"error": error.to_json()}] * len(engine_calls)
            for (index, request_id, method, _), reply in zip(engine_calls, replies, strict=True):
                reply = dict(reply)
                reply["id"] = request_id
                reply["jsonrpc"] = "2.0"
                if access.headers_only(method) and "result" in reply:
                    reply["result"] = header_only(reply["result"])
                answers[index] = reply
        # Notifications (no "id" member) get no answer.
        return [
            None if isinstance(r, dict) and "id" not in r else a
            for r, a in zip(requests, answers, strict=True)
        ]

    def _failure(self, exc: Exception, what: str) -> RpcError:
        """The JSON-RPC error for an exception met while serving: the engine's absence, the
        engine's own failure, or a bug of ours (logged with its traceback)."""
        if isinstance(exc, RpcError):
            return exc
        supervisor = self.node.supervisor
        if not supervisor.available():
            return supervisor.unavailable_error()
        if isinstance(exc, EngineError | aiohttp.ClientError | TimeoutError):
            log.warning("the engine failed %s: %s", what, exc)
            return RpcError(
                INTERNAL_ERROR,
                f"the engine did not answer ({exc.__class__.__name__}); retry in a moment",
            )
        self.internal_errors += 1
        log.error("internal error while serving %s", what, exc_info=exc)
        return RpcError(
            INTERNAL_ERROR,
            f"internal error: {exc.__class__.__name__}: {str(exc)[:200]}; "
            "this is a bug, please report it",
        )

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
            failure = self._failure(exc, "a pending nonce read")
            for index, request_id, _ in requests:
                answers[index] = _error(request_id, failure)
            return
        for (index, request_id, _), count in zip(requests, counts, strict=True):
            answers[index] = (
                _result(request_id, hex(count))
                if count is not None
                else _error(
                    request_id,
                    RpcError(INTERNAL_ERROR, "the engine is unavailable; retry shortly"),
                )
            )

    async def _node_method(self, method: str, params: list[Any]) -> Any:
        """The node's own methods; `params` are checked (ledger_* block numbers are ints)."""
        if method in WitnessDesk.METHODS:
            return await self.witnesses.call(method, params)
        if method == "ledger_status":
            return {**self.node.status(), "witnesses": await self.witnesses.summary()}
        if method in FREE_GAS_METHODS:
            return "0x0"
        if method == "ledger_getSeal":
            return self.node.seal_of(params[0])
        if method == "ledger_getJournalEntry":
            return self.node.journal_entry(params[0])
        raise RpcError(METHOD_NOT_FOUND, f"method {method!r} is not available on this node")

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
        except Exception:  # noqa: BLE001 - whatever a hostile body makes the parser raise
            return web.json_response(
                _error(None, RpcError(PARSE_ERROR, "the body is not valid JSON")), dumps=ujson.dumps
            )
        try:
            answer = await self.handle(payload, request.remote or "", self.auth.access(request))
            if answer is None:
                return web.Response(status=204)
            text = ujson.dumps(answer)
        except Exception as exc:  # the last resort: a JSON-RPC error, never aiohttp's 500 page
            text = ujson.dumps(_error(None, self._failure(exc, "an HTTP request")))
        return web.Response(text=text, content_type="application/json")

    # ------------------------------------------------------------------------------ WebSocket

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=MAX_BODY_BYTES, heartbeat=30)
        outbox = self.ws.open(socket, request)
        if outbox is None:
            return web.json_response(  # type: ignore[return-value]
                _error(None, self.ws.connection_refusal()), status=503, dumps=ujson.dumps
            )
        client = request.remote or ""
        # Verified once at the upgrade; the expiry is checked again on every message.
        access = self.auth.access(request)
        expires = access.claims.expires if access.claims else None
        subscriptions = Subscriptions(outbox, self.ws, expires)
        try:
            await socket.prepare(request)
            self.node.add_listener(subscriptions.on_block)
            async for message in socket:
                if outbox.dropped:
                    break
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    payload = ujson.loads(message.data)
                except Exception:  # noqa: BLE001 - as for HTTP bodies
                    await socket.send_str(
                        ujson.dumps(
                            _error(None, RpcError(PARSE_ERROR, "the message is not valid JSON"))
                        )
                    )
                    continue
                try:
                    answer = await self._ws_payload(payload, subscriptions, client, access)
                    text = None if answer is None else ujson.dumps(answer)
                except Exception as exc:  # answered, and the socket stays open
                    failure = self._failure(exc, "a WebSocket message")
                    text = ujson.dumps(_error(_request_id(payload), failure))
                if text is not None and not outbox.dropped:
                    await socket.send_str(text)
        except ConnectionError:
            pass  # the client went away (or was dropped) while being answered
        finally:
            self.node.remove_listener(subscriptions.on_block)
            await outbox.aclose()
        return socket

    async def _ws_payload(
        self, payload: Any, subscriptions: Subscriptions, client: str, access: Access
    ) -> Any:
        if isinstance(payload, dict) and payload.get("method") in (
            "eth_subscribe",
            "eth_unsubscribe",
        ):
            try:
                request_id, method, params = self._validate(payload)
                access.check(method, params)
                params = rpc_params.validate(method, params)
                if method == "eth_subscribe":
                    return _result(request_id, subscriptions.subscribe(params))
                return _result(request_id, subscriptions.unsubscribe(params))
            except RpcError as error:
                return _error(_request_id(payload), error)
        return await self.handle(payload, client, access)


class Subscriptions:
    """One WebSocket's eth_subscribe state: newHeads and logs (with address/topics filters).
    Notifications go to the connection's bounded outbox (ledger_node.subscriptions)."""

    _ids = itertools.count(1)

    def __init__(self, outbox: Outbox, registry: WsRegistry, expires: int | None = None) -> None:
        self.outbox = outbox
        self.expires = expires  # the token's expiry: no notification after it
        self.registry = registry
        self.heads: set[str] = set()
        self.logs: dict[str, dict[str, Any]] = {}

    def subscribe(self, params: list[Any]) -> str:
        if not params or params[0] not in ("newHeads", "logs"):
            raise RpcError(INVALID_PARAMS, 'subscribe to "newHeads" or "logs"')
        self.registry.check_subscription(len(self.heads) + len(self.logs))
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
        self.outbox.subscriptions = len(self.heads) + len(self.logs)
        return sub_id

    def unsubscribe(self, params: list[Any]) -> bool:
        if len(params) != 1 or not isinstance(params[0], str):
            raise RpcError(INVALID_PARAMS, "expected one parameter: the subscription id")
        found = params[0] in self.heads or params[0] in self.logs
        self.heads.discard(params[0])
        self.logs.pop(params[0], None)
        self.outbox.subscriptions = len(self.heads) + len(self.logs)
        return found

    async def on_block(self, block: dict[str, Any], logs: list[dict[str, Any]]) -> None:
        """Only queues: the sealer awaits this, so it must never wait on the client."""
        if self.outbox.dropped or (self.expires is not None and time.time() >= self.expires):
            return
        messages = []
        if self.heads:
            head = ujson.dumps(block)  # once per block, not once per subscription
            messages = [_notification(sub_id, head) for sub_id in self.heads]
        for sub_id, log_filter in self.logs.items():
            messages.extend(
                _notification(sub_id, ujson.dumps(entry))
                for entry in logs
                if _matches(log_filter, entry)
            )
        self.outbox.put(messages)


def _notification(sub_id: str, result_json: str) -> str:
    return (
        '{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":'
        f'{ujson.dumps(sub_id)},"result":{result_json}}}}}'
    )


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
    topics: list[set[str] | None] = []
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
    status["witnesses"] = await gateway.witnesses.summary()  # never fails the check
    supervisor = gateway.node.supervisor
    status["engine"] = supervisor.health()
    status["ok"] = supervisor.available()
    if not status["ok"]:
        status["reason"] = f"engine {status['engine']['state']}: {status['engine']['reason']}"
    disk = gateway.node.disk
    if disk.alarm is not None:
        status["ok"] = False
        status["reason"] = "; ".join(
            filter(
                None,
                [
                    status.get("reason"),
                    f"disk alarm NOSPACE: {disk.alarm.detail}; free space in the data directory",
                ],
            )
        )
        status["alarms"] = [disk.describe()]
    return web.json_response(status, status=200 if status["ok"] else 503, dumps=ujson.dumps)


HTTP_HINTS = {
    404: "no such path: JSON-RPC is POST / or /t/<token> (or a WebSocket on either); "
    "GET /health, GET /metrics",
    405: "method not allowed: JSON-RPC is POST /; /health and /metrics are GET",
    413: f"the body is over {MAX_BODY_BYTES // 2**20} MiB: send smaller batches",
}


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    hint = HTTP_HINTS.get(exc.status, exc.reason)
    error = RpcError(INVALID_REQUEST, f"HTTP {exc.status}: {hint}")
    return web.json_response(_error(None, error), status=exc.status, dumps=ujson.dumps)


def _internal_error(request: web.Request) -> web.Response:
    error = RpcError(INTERNAL_ERROR, "internal error; this is a bug, please report it")
    # JSON-RPC carries its errors with HTTP 200; a failing /health is an unhealthy node.
    status = 503 if request.path in ("/health", "/metrics") else 200
    return web.json_response(_error(None, error), status=status, dumps=ujson.dumps)


# aiohttp's own error pages are plain text: every error leaves as a JSON-RPC error.
json_errors = http_errors.json_errors(_http_error, _internal_error, log)


def build_app(gateway: RpcGateway) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[json_errors])
    app.router.add_route("*", "/", gateway.http)
    app.router.add_route("*", TOKEN_PREFIX + "{token}", gateway.http)
    app.router.add_get("/health", lambda request: health(gateway, request))
    app.router.add_get("/metrics", metrics_handler(gateway))

    async def close_reads(_: web.Application) -> None:
        await gateway.reads.close()

    app.on_cleanup.append(close_reads)
    return app
