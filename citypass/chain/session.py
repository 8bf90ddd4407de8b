"""Connecting a standalone Python program (benchmarks, the demo) to the brownie project."""

from __future__ import annotations

import contextlib
import io
import os
import socket
from pathlib import Path
from typing import Any

from web3.types import RPCEndpoint

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def use_private_engine_port(port: int | None = None) -> int:
    """Make brownie launch its development anvil on its own port.

    brownie attaches to whatever already listens on the configured port (8545), which would mix
    a test run with a demo or a ledger node; a private port keeps every run on its own engine."""
    from brownie._config import CONFIG

    chosen = port or int(os.environ.get("CITYPASS_ENGINE_PORT", "0")) or free_port()
    CONFIG.networks["development"].setdefault("cmd_settings", {})["port"] = chosen
    return chosen


def load_project(network_id: str = "development", quiet: bool = True) -> tuple[Any, Any]:
    """Load the compiled project and connect; returns (project, brownie.network module).

    For `development` this launches a fresh anvil on a private port."""
    from brownie import network, project

    from citypass.chain import brownie_fixes

    brownie_fixes.apply()
    sink = io.StringIO() if quiet else None
    with contextlib.redirect_stdout(sink) if sink else contextlib.nullcontext():
        loaded = project.load(ROOT, name="CityPassLedger")
        if network_id == "development":
            use_private_engine_port()
        network.connect(network_id)
    return loaded, network


def disconnect(quiet: bool = True) -> None:
    from brownie import network

    sink = io.StringIO() if quiet else None
    with contextlib.redirect_stdout(sink) if sink else contextlib.nullcontext():
        if network.is_connected():
            network.disconnect()


def silence_transactions() -> None:
    """Stop brownie printing every transaction (benchmarks and the demo print JSON/summaries)."""
    from brownie._config import CONFIG

    CONFIG.argv["silent"] = True


def mine_at(timestamp: int) -> None:
    """Mine one block at exactly `timestamp` on the development engine and resync brownie's clock.

    brownie 1.22's `chain.mine(timestamp=...)` sends a malformed `evm_mine` to anvil, so we send
    anvil's own form and then let brownie re-read the head's time."""
    from brownie import chain, web3

    response = web3.provider.make_request(
        RPCEndpoint("evm_mine"), [{"timestamp": int(timestamp), "blocks": 1}]
    )
    if "error" in response:
        raise RuntimeError(f"evm_mine at {timestamp} failed: {response['error']}")
    chain._set_time_offset_from_block()


def head_time() -> int:
    """Timestamp of the latest block (what the contracts see as `block.timestamp` next, roughly)."""
    from brownie import web3

    return int(web3.eth.get_block("latest")["timestamp"])
