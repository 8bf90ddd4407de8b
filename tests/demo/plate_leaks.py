"""Looking for plates in clear where none may be (issue 15, docs/privacy.md "Keyed-hash
plates"): every transaction's input and every log on a chain (through the node's JSON-RPC), and
every file below given directories. A plate is looked for as typed and normalised, each as its
UTF-8 bytes, as the hex of those bytes (how it would sit in calldata, a log or a hex dump) and
as JSON escapes, backslash-u and four hex digits (how an ASCII-only JSON log or file holds it);
hex and escapes in either case."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from citypass.protocol.plate_tags import normalise_plate

BLOCKS_PER_BATCH = 50
BLOCKS_PER_LOG_QUERY = 2_000


def needles(plates: Iterable[str]) -> dict[str, tuple[bytes, str, bytes]]:
    """Each plate's spellings: form → (its UTF-8 bytes, their lower-case hex, its JSON escape
    in lower case). Plates hold digits and Hangul only, so lower-casing leaves the bytes be."""
    out = {}
    for plate in plates:
        for form in {plate, normalise_plate(plate)}:
            raw = form.encode()
            escaped = json.dumps(form)[1:-1].lower().encode()
            out[form] = (raw, raw.hex(), escaped)
    return out


def file_leaks(
    roots: Iterable[Path], found: dict[str, tuple[bytes, str, bytes]], skip: Iterable[Path] = ()
) -> list[str]:
    """'<file>: <form>' for every file below `roots` (not below `skip`) holding a plate."""
    skipped = [Path(s).resolve() for s in skip]
    leaks = []
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if not path.is_file() or any(path.resolve().is_relative_to(s) for s in skipped):
                continue
            lowered = path.read_bytes().lower()  # ASCII only: hex and escapes in any case
            for form, (raw, hexed, escaped) in found.items():
                if raw in lowered or hexed.encode() in lowered or escaped in lowered:
                    leaks.append(f"{path}: {form}")
    return leaks


def chain_leaks(rpc_url: str, found: dict[str, tuple[bytes, str, bytes]]) -> list[str]:
    """'<where>: <form>' for every transaction input and log (data and topics) holding a plate,
    from block 0 to the head."""
    head = int(_call(rpc_url, "eth_blockNumber", []), 16)
    leaks = []
    for first in range(0, head + 1, BLOCKS_PER_BATCH):
        numbers = range(first, min(head, first + BLOCKS_PER_BATCH - 1) + 1)
        blocks = _batch(rpc_url, [("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        for block in blocks:
            for tx in block["transactions"]:
                leaks += _in(f"tx {tx['hash']} input", tx["input"], found)
    for first in range(0, head + 1, BLOCKS_PER_LOG_QUERY):
        last = min(head, first + BLOCKS_PER_LOG_QUERY - 1)
        for log in _call(rpc_url, "eth_getLogs", [{"fromBlock": hex(first), "toBlock": hex(last)}]):
            where = f"log {log['logIndex']} of tx {log['transactionHash']}"
            leaks += _in(where, log["data"] + "".join(log["topics"]), found)
    return leaks


def _in(where: str, hex_text: str, found: dict[str, tuple[bytes, str, bytes]]) -> list[str]:
    lowered = hex_text.lower()
    return [f"{where}: {form}" for form, (_raw, hexed, _) in found.items() if hexed in lowered]


def _call(url: str, method: str, params: list) -> Any:
    reply = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=60
    ).json()
    assert "error" not in reply, f"{method}: {reply['error']}"
    return reply["result"]


def _batch(url: str, calls: list[tuple[str, list]]) -> list[Any]:
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    replies = requests.post(url, json=body, timeout=120).json()
    assert isinstance(replies, list), f"the node refused a batch: {replies}"
    by_id = {r["id"]: r for r in replies}
    for reply in by_id.values():
        assert "error" not in reply, f"{reply['error']}"
    return [by_id[i]["result"] for i in range(len(calls))]
