"""What the soak samples along the way: RSS of the node and its engine, journal and snapshot
sizes, and the growth fitted over them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psutil

from citypass.core.files import size_or_zero
from ledger_node.config import JOURNAL_FILE, SNAPSHOT_DIR
from ledger_node.engine import STATES_DIR


def vm_rss_mb(pid: int) -> float | None:
    """VmRSS of one process, from /proc (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def engine_pid(node_pid: int) -> int | None:
    """The node's anvil child (the engine is its only child process)."""
    try:
        for child in psutil.Process(node_pid).children():
            if "anvil" in child.name():
                return child.pid
    except psutil.Error:
        return None
    return None


def tree_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += size_or_zero(Path(root) / name)
    return total


class Sampler:
    """RSS of node and engine, journal and snapshot sizes, every --sample-every blocks."""

    def __init__(self, data_dir: Path, started: float) -> None:
        self.data_dir = data_dir
        self.started = started
        self.samples: list[dict[str, Any]] = []
        self._last: tuple[int, float] | None = None

    def take(self, node_pid: int, block: int, sealing_seconds: float) -> dict[str, Any]:
        journal = size_or_zero(self.data_dir / JOURNAL_FILE)
        wal = size_or_zero(self.data_dir / f"{JOURNAL_FILE}-wal")
        engine = engine_pid(node_pid)
        rate = None
        if self._last is not None and sealing_seconds > self._last[1]:
            rate = round((block - self._last[0]) / (sealing_seconds - self._last[1]), 1)
        self._last = (block, sealing_seconds)
        sample = {
            "block": block,
            "t_s": round(time.perf_counter() - self.started, 1),
            "node_rss_mb": vm_rss_mb(node_pid),
            "engine_rss_mb": vm_rss_mb(engine) if engine else None,
            "journal_bytes": journal + wal,
            "journal_db_bytes": journal,
            "journal_wal_bytes": wal,
            "journal_bytes_per_block": round((journal + wal) / block, 1) if block else None,
            "snapshot_bytes": tree_bytes(self.data_dir / SNAPSHOT_DIR),
            "engine_states_bytes": tree_bytes(self.data_dir / STATES_DIR),
            "blocks_per_s": rate,
            "node_pid": node_pid,
        }
        self.samples.append(sample)
        return sample


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
