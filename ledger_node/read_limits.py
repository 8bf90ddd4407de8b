"""Bounded reads: what keyless JSON-RPC reads may cost the engine, so members' writes go first.

Following geth's `--rpc.gascap` / `--rpc.evmtimeout` and Besu's limits:

- EVM-executing reads (eth_call, eth_estimateGas, eth_createAccessList, debug_traceCall) run
  with at most the gas cap: a call without gas, or with more, runs with the cap (geth's
  semantics; wallets that send the block gas limit keep working). An opcode trace (the struct
  logger) has a lower cap of its own: in this anvil it costs about 1.4 µs and 200 bytes per
  step, so a 50M-gas loop is a minute and a gigabyte.
- Heavy reads (those and the log/trace queries) take one of `concurrency` slots, at most
  `per_client` of them per client, and wait at most `evm_timeout` for a slot. The node's own
  host's heavy reads in one JSON-RPC batch go to the engine HEAVY_CHUNK per slot and request,
  under one time limit (_heavy_chunks); a stranger's go one per slot. The answer is
  given up after `evm_timeout`, but anvil cannot be told to stop, so the slot stays taken until
  anvil answers: abandoned work still counts against the bound, and the gas cap bounds it.
- Every read costs one token of its client's (IP's) bucket; a batch costs one per entry.
- Reads use HTTP connections of their own to the engine. The node's writes and the sealer keep
  the engine client's pool (ledger_node.engine), so they never queue behind a read.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import ujson
from prometheus_client.core import Metric

from citypass.core.prometheus import counter_by, counter_value, gauge_value
from citypass.core.token_buckets import TokenBuckets
from ledger_node.errors import INVALID_PARAMS, LIMIT_EXCEEDED, RpcError
from ledger_node.read_limit_settings import ReadLimits, parse_networks
from ledger_node.rpc_batch import batch_answers, batch_payload

GAS_CAPPED = frozenset({"eth_call", "eth_estimateGas", "eth_createAccessList", "debug_traceCall"})
HEAVY_READS = GAS_CAPPED | frozenset(
    {
        "debug_traceTransaction", "trace_transaction", "trace_block", "eth_getLogs",
        "eth_getFilterLogs",
    }
)  # fmt: skip
HEAVY_PREFIXES = ("ots_",)  # Otterscan's searches scan the chain
# anvil refuses request bodies over 2 MiB (see ledger_node.engine).
MAX_ENGINE_BODY = 1_500_000
# The node's own host's heavy reads go to the engine this many per request (_heavy_chunks).
HEAVY_CHUNK = 64
# Light reads have no slot; a stuck engine still must not hold a client forever.
LIGHT_TIMEOUT = 30.0
# After this many time limits anvil is presumed stuck on the call: the connection is closed and
# the slot freed (the gas cap bounds what anvil still does with it).
ABANDON_AFTER_TIMEOUTS = 12


def is_heavy(method: str) -> bool:
    return method in HEAVY_READS or method.startswith(HEAVY_PREFIXES)


def _limit_error(message: str) -> dict[str, Any]:
    return {"error": RpcError(LIMIT_EXCEEDED, message).to_json()}


@dataclass
class _Client:
    slots: asyncio.Semaphore
    waiting: int = 0
    busy: int = 0


@dataclass
class ReadCounters:
    served_heavy: int = 0
    served_light: int = 0
    heavy_engine_requests: int = 0
    gas_capped: int = 0
    refused: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("rate_limit", "queue_full", "no_slot", "evm_timeout", "engine_timeout"), 0
        )
    )


class ReadLimiter:
    """Runs the engine reads of the public endpoint within the limits."""

    def __init__(self, engine_url: Any, limits: ReadLimits) -> None:
        limits.validate()
        self._engine_url = engine_url  # a callable: the engine may come back on another port
        self.limits = limits
        self.buckets = TokenBuckets(limits.rate, limits.burst)
        self.exempt = parse_networks(limits.rate_exempt)
        self.counters = ReadCounters()
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._clients: dict[str, _Client] = {}
        self._in_flight = 0
        self._abandoned = 0
        self._background: set[asyncio.Task] = set()
        self._heavy_session: aiohttp.ClientSession | None = None
        self._light_session: aiohttp.ClientSession | None = None
        self._ids = 0

    # ------------------------------------------------------------------------------ entry point

    async def run(self, client: str, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Answers (JSON-RPC result or error members, without id) in the order of `calls`."""
        answers: list[dict[str, Any] | None] = [None] * len(calls)
        admitted = self._admit(client, len(calls))
        if admitted < len(calls):
            _, wait = self.buckets.take(client, 0)
            refusal = _limit_error(
                f"rate limit: {self.limits.rate:g} requests/s per client "
                f"(burst {self.limits.burst}); retry after {max(wait, 0.01):.2f} s"
            )
            for index in range(admitted, len(calls)):
                answers[index] = refusal
            self.counters.refused["rate_limit"] += len(calls) - admitted
        light = [i for i in range(admitted) if not is_heavy(calls[i][0])]
        heavy = [i for i in range(admitted) if is_heavy(calls[i][0])]
        chunks = self._heavy_chunks(client, heavy, calls)
        jobs: list[Coroutine[Any, Any, list[dict[str, Any]]]] = []
        if light:
            jobs.append(self._light([calls[i] for i in light]))
        jobs.extend(self._heavy(client, [calls[i] for i in chunk]) for chunk in chunks)
        results: list[list[dict[str, Any]]] = list(await asyncio.gather(*jobs))
        if light:
            for index, answer in zip(light, results[0], strict=True):
                answers[index] = answer
            results = results[1:]
        for chunk, chunk_answers in zip(chunks, results, strict=True):
            for index, answer in zip(chunk, chunk_answers, strict=True):
                answers[index] = answer
        return [a if a is not None else _limit_error("unprocessed") for a in answers]

    def _heavy_chunks(
        self, client: str, heavy: list[int], calls: list[tuple[str, list[Any]]]
    ) -> list[list[int]]:
        """The heavy calls' indexes, grouped into what one slot runs as one engine request.

        A stranger's heavy reads run one per slot, each with its own time limit. The node's own
        host (the API's relayer dry-runs and reads the nonce of every request of a relay
        batch: hundreds of eth_calls in one JSON-RPC batch) sends them HEAVY_CHUNK at a time
        as one JSON-RPC batch on one slot, under one time limit: sent one by one they cost the
        node ~215 µs and anvil ~85 µs each, ten times a light read, most of it per request."""
        if not self._is_exempt(client):
            return [[index] for index in heavy]
        chunks: list[list[int]] = []
        size = 0
        for index in heavy:
            item = len(ujson.dumps(calls[index][1])) + len(calls[index][0]) + 64
            if not chunks or len(chunks[-1]) >= HEAVY_CHUNK or size + item > MAX_ENGINE_BODY:
                chunks.append([])
                size = 0
            chunks[-1].append(index)
            size += item
        return chunks

    def _admit(self, client: str, wanted: int) -> int:
        if self.limits.rate == 0 or self._is_exempt(client):
            return wanted
        granted, _ = self.buckets.take(client, wanted)
        return granted

    def _is_exempt(self, client: str) -> bool:
        if not self.exempt or not client:
            return False
        try:
            address = ipaddress.ip_address(client)
        except ValueError:
            return False
        return any(address in network for network in self.exempt)

    # ----------------------------------------------------------------------------- light reads

    async def _light(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        chunk: list[tuple[str, list[Any]]] = []
        size = 0
        for method, params in calls:
            item = len(ujson.dumps(params)) + len(method) + 64
            if chunk and size + item > MAX_ENGINE_BODY:
                answers.extend(await self._light_chunk(chunk))
                chunk, size = [], 0
            chunk.append((method, params))
            size += item
        answers.extend(await self._light_chunk(chunk))
        self.counters.served_light += len(calls)
        return answers

    async def _light_chunk(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        first = self._ids + 1
        self._ids += len(calls)
        payload = batch_payload(first, calls)
        try:
            reply = await self._post(self._light_client(), payload, LIGHT_TIMEOUT)
        except TimeoutError:
            self.counters.refused["engine_timeout"] += len(calls)
            return [
                _limit_error(f"the engine did not answer within {LIGHT_TIMEOUT:g} s; retry later")
            ] * len(calls)
        return batch_answers(reply, first, len(calls), "the engine gave no answer; retry")

    # ----------------------------------------------------------------------------- heavy reads

    async def _heavy(self, client: str, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Run `calls` (one, or a chunk of the node's own host's: _heavy_chunks) on one slot as
        one engine request, within the time limit; their answers in order."""
        answers: list[dict[str, Any] | None] = [None] * len(calls)
        to_run: list[tuple[int, str, list[Any], int | None]] = []
        for index, (method, params) in enumerate(calls):
            try:
                capped, capped_to = self._cap_gas(method, params)
            except RpcError as error:
                answers[index] = {"error": error.to_json()}
                continue
            to_run.append((index, method, capped, capped_to))
        if to_run:
            replies = await self._heavy_run(client, [(m, p) for _, m, p, _ in to_run])
            for (index, method, _, capped_to), reply in zip(to_run, replies, strict=True):
                if capped_to is not None:
                    reply = _explain_out_of_gas(reply, method, capped_to)
                answers[index] = reply
        return [a if a is not None else _limit_error("unprocessed") for a in answers]

    async def _heavy_run(
        self, client: str, calls: list[tuple[str, list[Any]]]
    ) -> list[dict[str, Any]]:
        # The node's own host (rate-exempt: the API's relayer, the indexer) may use every node
        # slot and queue without bound: the per-client bounds are for strangers. The node
        # slots, the gas cap and the time limit still hold.
        trusted = self._is_exempt(client)
        state = self._clients.get(client)
        if state is None:
            slots = self.limits.concurrency if trusted else self.limits.per_client
            state = self._clients[client] = _Client(asyncio.Semaphore(slots))
        if state.waiting >= self.limits.per_client_queue and not trusted:
            self.counters.refused["queue_full"] += len(calls)
            return [
                _limit_error(
                    f"read queue full: {state.waiting} reads of this client already wait for "
                    f"the engine (--rpc-read-queue {self.limits.per_client_queue}); retry after "
                    f"{self.limits.evm_timeout:g} s"
                )
            ] * len(calls)
        if not await self._acquire(state):
            self.counters.refused["no_slot"] += len(calls)
            self._forget_idle(client, state)
            return [
                _limit_error(
                    f"engine busy: no read slot came free within {self.limits.evm_timeout:g} s "
                    f"({self.limits.concurrency} heavy reads at once, {self.limits.per_client} "
                    "per client); retry later"
                )
            ] * len(calls)
        # Counted before the task runs, so the client's state is never forgotten while it
        # holds slots.
        self._in_flight += 1
        state.busy += 1
        given_up = asyncio.Event()
        task = asyncio.create_task(self._execute(client, state, calls, given_up))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        try:
            replies = await asyncio.wait_for(asyncio.shield(task), self.limits.evm_timeout)
        except TimeoutError:
            given_up.set()
            self.counters.refused["evm_timeout"] += len(calls)
            self._abandoned += 1
            task.add_done_callback(self._abandon_done)
            what = calls[0][0] if len(calls) == 1 else f"a batch of {len(calls)} heavy reads"
            return [
                _limit_error(
                    f"{what} ran past the time limit of {self.limits.evm_timeout:g} s "
                    "(--rpc-evm-timeout); give it less gas or split the work"
                )
            ] * len(calls)
        self.counters.served_heavy += len(calls)
        return replies

    def _abandon_done(self, task: asyncio.Task) -> None:
        self._abandoned -= 1
        if not task.cancelled():
            task.exception()  # nobody waits for it any more: retrieved here, not reported

    async def _acquire(self, state: _Client) -> bool:
        """A client slot, then a node slot, both within the time limit."""
        state.waiting += 1
        got_client = False
        try:
            async with asyncio.timeout(self.limits.evm_timeout):
                await state.slots.acquire()
                got_client = True
                await self._slots.acquire()
            return True
        except TimeoutError:
            if got_client:
                state.slots.release()
            return False
        finally:
            state.waiting -= 1

    async def _execute(
        self,
        client: str,
        state: _Client,
        calls: list[tuple[str, list[Any]]],
        given_up: asyncio.Event,
    ) -> list[dict[str, Any]]:
        """Holds both slots until the engine answers, even when the caller has given up."""
        first = self._ids + 1
        self._ids += len(calls)
        self.counters.heavy_engine_requests += 1
        payload: Any
        if len(calls) == 1:
            method, params = calls[0]
            payload = {"jsonrpc": "2.0", "id": first, "method": method, "params": params}
        else:
            payload = batch_payload(first, calls)
        try:
            body = await self._post_raw(
                self._heavy_client(), payload, self.limits.evm_timeout * ABANDON_AFTER_TIMEOUTS
            )
            # An abandoned answer (a trace can be tens of MB) is not worth parsing.
            reply = None if given_up.is_set() else ujson.loads(body)
        except TimeoutError:
            self.counters.refused["engine_timeout"] += len(calls)
            what = calls[0][0] if len(calls) == 1 else f"a batch of {len(calls)} heavy reads"
            return [_limit_error(f"the engine did not finish {what}; retry later")] * len(calls)
        finally:
            self._in_flight -= 1
            state.busy -= 1
            self._slots.release()
            state.slots.release()
            self._forget_idle(client, state)
        if len(calls) > 1:
            return batch_answers(reply, first, len(calls), "the engine gave no answer; retry")
        if not isinstance(reply, dict):
            return [{"error": {"code": -32603, "message": "the engine gave no answer; retry"}}]
        return [reply]

    def _forget_idle(self, client: str, state: _Client) -> None:
        if state.busy == 0 and state.waiting == 0 and self._clients.get(client) is state:
            del self._clients[client]

    def _cap_gas(self, method: str, params: list[Any]) -> tuple[list[Any], int | None]:
        """Params with the call's gas at most the cap; and the cap, when it was applied."""
        if method not in GAS_CAPPED or not params or not isinstance(params[0], dict):
            return params, None
        cap = self.limits.gas_cap
        if method == "debug_traceCall":
            options = params[2] if len(params) > 2 else None
            if not isinstance(options, dict) or not options.get("tracer"):
                cap = self.limits.trace_gas_cap  # the opcode logger: see the module's comment
        call = dict(params[0])
        gas = call.get("gas")
        if gas is not None:
            try:
                wanted = int(gas, 16) if isinstance(gas, str) else int(gas)
            except (TypeError, ValueError) as exc:
                raise RpcError(
                    INVALID_PARAMS,
                    f"params[0].gas {gas!r} of {method} is not a quantity (use hex like 0x5208)",
                ) from exc
            if isinstance(gas, bool) or wanted < 0:
                raise RpcError(INVALID_PARAMS, f"params[0].gas {gas!r} of {method} is negative")
            if wanted <= cap:
                return params, None
        call["gas"] = hex(cap)
        self.counters.gas_capped += 1
        return [call, *params[1:]], cap

    # ----------------------------------------------------------------------------------- HTTP

    def _heavy_client(self) -> aiohttp.ClientSession:
        if self._heavy_session is None or self._heavy_session.closed:
            connector = aiohttp.TCPConnector(limit=self.limits.concurrency)
            self._heavy_session = aiohttp.ClientSession(connector=connector)
        return self._heavy_session

    def _light_client(self) -> aiohttp.ClientSession:
        if self._light_session is None or self._light_session.closed:
            self._light_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8))
        return self._light_session

    async def _post(self, session: aiohttp.ClientSession, payload: Any, timeout: float) -> Any:
        return ujson.loads(await self._post_raw(session, payload, timeout))

    async def _post_raw(
        self, session: aiohttp.ClientSession, payload: Any, timeout: float
    ) -> bytes:
        async with session.post(
            self._engine_url(),
            data=ujson.dumps(payload),
            headers={"Content-Type": "application/json"},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as reply:
            return await reply.read()

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        for session in (self._heavy_session, self._light_session):
            if session is not None:
                await session.close()

    # -------------------------------------------------------------------------------- metrics

    def metric_families(self) -> list[Metric]:
        """The read limits' share of /metrics, read at scrape time."""
        c = self.counters
        waiting = sum(state.waiting for state in self._clients.values())
        return [
            counter_by(
                "ledger_rpc_reads_served_total",
                "Engine reads answered, by kind (heavy: with a slot).",
                "kind",
                {"heavy": c.served_heavy, "light": c.served_light},
            ),
            counter_by(
                "ledger_rpc_reads_refused_total",
                "Engine reads refused or given up, by limit.",
                "reason",
                c.refused,
            ),
            counter_value(
                "ledger_rpc_engine_heavy_requests_total",
                "Engine requests that carried heavy reads: one per read, or one per chunk of up "
                f"to {HEAVY_CHUNK} reads from the node's own host.",
                c.heavy_engine_requests,
            ),
            counter_value(
                "ledger_rpc_reads_gas_capped_total",
                "Calls run with the read gas cap.",
                c.gas_capped,
            ),
            gauge_value(
                "ledger_rpc_reads_in_flight",
                "Heavy reads holding a slot (abandoned ones too).",
                self._in_flight,
            ),
            gauge_value(
                "ledger_rpc_reads_abandoned",
                "Heavy reads past the time limit the engine still runs.",
                self._abandoned,
            ),
            gauge_value("ledger_rpc_reads_waiting", "Heavy reads queued for a slot.", waiting),
        ]


def _explain_out_of_gas(reply: dict[str, Any], method: str, cap: int) -> dict[str, Any]:
    """anvil answers an exhausted call with -32603 "EVM error OutOfGas"; when the node's cap
    set the gas, say so (a limit of this node, not an internal error)."""
    error = reply.get("error")
    if not isinstance(error, dict):
        return reply
    message = str(error.get("message", ""))
    if "outofgas" not in message.replace(" ", "").lower():
        return reply
    return _limit_error(
        f"{method} ran out of gas at the read gas cap of {cap} (--rpc-gas-cap / "
        "--rpc-trace-gas-cap): reads get at most that much gas on this node"
    )
