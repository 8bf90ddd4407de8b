"""What a test of the served demo's supervision (demo/children.py) reads and does: the daemons'
pids as the demo printed them, its "is back" lines, and a car arriving on a free shared space,
written as the demo's magnetometers write (the edge's input file)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import requests


def printed_oracle(output: str, organisation: str) -> tuple[str, int]:
    """An organisation's oracle daemon as the demo last listed it: its URL and pid."""
    found = re.findall(
        rf"^  {organisation} +(http://\S+)/health  signer 0x[0-9a-fA-F]{{40}}  \([^;]+; "
        r"pid (\d+)\)$",
        output,
        re.M,
    )
    assert found, f"no oracle daemon of the {organisation} listed:\n{output[-3000:]}"
    url, pid = found[-1]
    return url, int(pid)


def printed_witness(output: str, label: str) -> tuple[str, str, int]:
    """A witness as the demo last listed it: its URL, key and pid."""
    found = re.findall(
        rf"^  {label} +(http://\S+)/health  \S+  key (0x[0-9a-fA-F]{{40}})  pid (\d+)$",
        output,
        re.M,
    )
    assert found, f"no witness {label} listed:\n{output[-3000:]}"
    url, key, pid = found[-1]
    return url, key, int(pid)


def back_pid(output: str, name: str) -> int | None:
    """The pid the demo gave when it said the restarted `name` answers again, if it has."""
    found = re.findall(rf"^the {re.escape(name)} is back \(pid (\d+)\)$", output, re.M)
    return int(found[-1]) if found else None


def answers(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=5).status_code in (200, 503)
    except requests.RequestException:
        return False


def park_on_a_free_space(sensors: Path, occupied: Callable[[int], bool], now: int) -> int:
    """A car arrives at `now` (seconds) on a shared space the magnetometers last saw free and
    the chain holds free: its sensor's line appended to the edge's input. Returns the slot."""
    feed = sensors / "input" / "magnetometer.jsonl"
    last: dict[int, dict] = {}
    for line in feed.read_text().splitlines():
        reading = json.loads(line)
        last[reading["slot"]] = reading
    slot = next(s for s, r in sorted(last.items()) if not r["occupied"] and not occupied(s))
    reading = {**last[slot], "occupied": True, "ts": now * 1000, "heartbeat": False}
    with feed.open("a") as handle:
        handle.write(json.dumps(reading, separators=(",", ":")) + "\n")
    return slot
