"""Reads over the whole chain: event scans and the head."""

from __future__ import annotations

from typing import Any


def head_block() -> int:
    from brownie import web3

    return int(web3.eth.block_number)


def head_timestamp() -> int:
    from brownie import web3

    return int(web3.eth.get_block("latest")["timestamp"])


def scan_events(contract: Any, event: str, from_block: int = 0, chunk: int = 50_000) -> list[Any]:
    """Every `event` of `contract` from `from_block` to the head, in order (eth_getLogs, chunked)."""
    head = head_block()
    found: list[Any] = []
    start = max(0, int(from_block))
    while start <= head:
        end = min(head, start + chunk - 1)
        found.extend(getattr(contract.events, event).get_logs(from_block=start, to_block=end))
        start = end + 1
    found.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    return found
