"""Raw logs made from our ABIs (topics for indexed arguments, ABI-encoded data for the rest),
so the explorer's decoder and describer are tested on what a node would return."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import event_abi_to_log_topic, keccak

from citypass.protocol.abi import load_abi


def _type(arg: dict[str, Any]) -> str:
    if arg["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in arg["components"]) + ")" + arg["type"][5:]
    return arg["type"]


def make_log(address: str, contract: str, event: str, **args: Any) -> dict[str, Any]:
    abi = next(
        item for item in load_abi(contract) if item.get("type") == "event" and item["name"] == event
    )
    topics = [event_abi_to_log_topic(abi)]
    types, values = [], []
    for arg in abi["inputs"]:
        value = args[arg["name"]]
        if arg["indexed"]:
            if arg["type"] in ("string", "bytes") or arg["type"].endswith("]"):
                topics.append(keccak(encode([_type(arg)], [value])))
            else:
                topics.append(encode([arg["type"]], [value]))
        else:
            types.append(_type(arg))
            values.append(value)
    return {"address": address, "topics": topics, "data": encode(types, values)}
