"""`ledger-node start` options for the read and subscription limits (docs/ledger-node.md,
"Limits: subscriptions and reads"). Each can also be set by its LEDGER_NODE_* variable."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from ledger_node.read_limit_settings import DEFAULT_RATE_EXEMPT, ReadLimits
from ledger_node.subscriptions import WsLimits


@dataclass(frozen=True)
class NodeLimits:
    reads: ReadLimits
    ws: WsLimits


_READ = ReadLimits()
_WS = WsLimits()
# (option, keyword, click type, default, help)
_OPTIONS: tuple[tuple[str, str, Any, Any, str], ...] = (
    ("--rpc-gas-cap", "gas_cap", click.IntRange(1_000_000, 2_000_000_000), _READ.gas_cap,
     "Most gas an eth_call, eth_estimateGas, eth_createAccessList or debug_traceCall runs with; "
     "a call without gas or with more runs with this (as geth's --rpc.gascap)."),
    ("--rpc-trace-gas-cap", "trace_gas_cap", click.IntRange(100_000, 2_000_000_000),
     _READ.trace_gas_cap,
     "Gas cap of a debug_traceCall with the opcode logger (no tracer): each step costs "
     "~200 bytes of answer. At most --rpc-gas-cap."),
    ("--rpc-evm-timeout", "evm_timeout", click.FloatRange(0.05, 300), _READ.evm_timeout,
     "Seconds a heavy read may wait for a slot, and then run, before the caller gets -32005 "
     "(as geth's --rpc.evmtimeout)."),
    ("--rpc-read-concurrency", "concurrency", click.IntRange(1, 64), _READ.concurrency,
     "Heavy reads (calls, estimates, traces, log queries) the engine runs at once; keep it "
     "below the cores so writes and sealing always find one."),
    ("--rpc-read-per-client", "per_client", click.IntRange(1, 64), _READ.per_client,
     "Of those, how many one client (IP) may hold."),
    ("--rpc-read-queue", "per_client_queue", click.IntRange(1, 100_000), _READ.per_client_queue,
     "Heavy reads of one client that may wait for a slot; more are refused at once."),
    ("--rpc-rate-limit", "rate", click.FloatRange(0, 1_000_000), _READ.rate,
     "Reads per second per client IP (each batch entry counts); 0 turns the limit off."),
    ("--rpc-rate-burst", "burst", click.IntRange(1, 10_000_000), _READ.burst,
     "Reads a client may send at once before the rate applies (one full batch is 1000)."),
    ("--ws-max-connections", "max_connections", click.IntRange(1, 100_000),
     _WS.max_connections, "WebSocket connections open at once; more are refused with 503."),
    ("--ws-max-subscriptions", "max_subscriptions", click.IntRange(1, 10_000),
     _WS.max_subscriptions, "eth_subscribe subscriptions per WebSocket connection."),
    ("--ws-max-queued", "max_queued", click.IntRange(1, 1_000_000), _WS.max_queued,
     "Notifications queued for one connection before it is dropped as too slow (close 1008)."),
    ("--ws-max-queued-bytes", "max_queued_bytes", click.IntRange(1024, 1024**3),
     _WS.max_queued_bytes, "Bytes of notifications queued for one connection before it is dropped."),
)  # fmt: skip
_READ_KEYS = {"gas_cap", "trace_gas_cap", "evm_timeout", "concurrency", "per_client",
              "per_client_queue", "rate", "burst"}  # fmt: skip


def _envvar(option: str) -> str:
    return "LEDGER_NODE_" + option.removeprefix("--").replace("-", "_").upper()


def limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the limit options to a click command and hands it one `limits: NodeLimits`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {key: kwargs.pop(key) for _, key, _, _, _ in _OPTIONS}
        exempt = kwargs.pop("rate_exempt")
        reads = ReadLimits(
            **{k: v for k, v in values.items() if k in _READ_KEYS},
            rate_exempt=tuple(exempt) if exempt else (),
        )
        ws = WsLimits(**{k: v for k, v in values.items() if k not in _READ_KEYS})
        try:
            reads.validate()
            ws.validate()
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        return command(*args, limits=NodeLimits(reads, ws), **kwargs)

    decorated: Callable[..., Any] = click.option(
        "--rpc-rate-exempt",
        "rate_exempt",
        multiple=True,
        default=DEFAULT_RATE_EXEMPT,
        show_default=True,
        envvar=_envvar("--rpc-rate-exempt"),
        help="Client addresses or networks the rate limit spares (repeat the option; 'none' "
        "spares nobody). Default: this host's own loopback clients (indexer, API relay).",
    )(wrapper)
    for option, key, kind, default, text in reversed(_OPTIONS):
        decorated = click.option(
            option,
            key,
            type=kind,
            default=default,
            show_default=True,
            envvar=_envvar(option),
            help=text,
        )(decorated)
    return decorated
