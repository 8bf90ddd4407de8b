"""The soak's JSON: growth per block and per 10k blocks, restarts against their goal, errors."""

from __future__ import annotations

import argparse
from typing import Any

from bench._soak_node import Soak
from bench._soak_probes import Sampler, slope
from bench.runner import machine

RESTART_GOAL_SECONDS = 30.0


def report(
    args: argparse.Namespace,
    soak: Soak,
    sampler: Sampler,
    head: int,
    final: dict[str, Any],
    verify: dict[str, Any] | None,
    wall: float,
    load_at_start: list[float],
) -> dict[str, Any]:
    samples = [s for s in sampler.samples if s["block"] > 0]
    # Growth is fitted over the longest stretch one node process ran (a restart resets RSS).
    pids = [s["node_pid"] for s in samples]
    longest = max(set(pids), key=pids.count) if pids else None
    fitted_samples = [s for s in samples if s["node_pid"] == longest]

    def series(key: str) -> list[float]:
        return [s[key] for s in samples if s[key] is not None]

    def per_10k(key: str) -> float | None:
        fitted = slope([(s["block"], s[key]) for s in fitted_samples if s[key] is not None])
        return round(fitted * 10_000, 2) if fitted is not None else None

    # The WAL grows to its checkpoint size (about 4 MB) early and then stays: the growth per
    # block is that of journal.sqlite itself.
    marginal = per_10k("journal_db_bytes")

    sigterm = [r for r in soak.restarts if r["kind"] == "sigterm"]
    kill9 = [r for r in soak.restarts if r["kind"] == "kill9"]
    worst = [r for r in soak.restarts if r["kind"] == "sigterm-older-snapshot"]
    at_end = next((r for r in sigterm if r["at_block"] == head), None)
    seconds = soak.sealing_seconds
    result: dict[str, Any] = {
        "blocks_requested": args.blocks,
        "blocks_sealed": head,
        "interrupted": soak.interrupted_at is not None,
        "transactions": head * args.txs_per_block,
        "blocks_per_s": round(head / seconds, 1) if seconds else None,
        "txs_per_s": round(head * args.txs_per_block / seconds, 1) if seconds else None,
        "sealing_seconds": round(seconds, 1),
        "wall_seconds": round(wall, 1),
        "node_rss_mb": _spread(series("node_rss_mb")),
        "engine_rss_mb": _spread(series("engine_rss_mb")),
        "node_rss_mb_per_10k_blocks": per_10k("node_rss_mb"),
        "engine_rss_mb_per_10k_blocks": per_10k("engine_rss_mb"),
        "journal_bytes": final["journal_bytes"],
        "journal_bytes_per_block": final["journal_bytes_per_block"],
        "journal_wal_bytes": final["journal_wal_bytes"],
        "journal_bytes_per_block_marginal": round(marginal / 10_000, 1) if marginal else None,
        "snapshot_bytes": final["snapshot_bytes"],
        "snapshot_bytes_per_block": round(final["snapshot_bytes"] / head, 1) if head else None,
        "engine_states_bytes_max": max(series("engine_states_bytes"), default=0),
        "stalls_over_1s": len(soak.stalls),
        "longest_stall": max(soak.stalls, key=lambda stall: stall["s"], default=None),
        "stalls": soak.stalls[-20:],
        "restart_s": {str(r["at_block"]): r["restart_s"] for r in sigterm},
        "restart_s_at_end": at_end["restart_s"] if at_end else None,
        "kill9_restart_s": kill9[0]["restart_s"] if kill9 else None,
        "restart_s_worst_case": worst[0]["restart_s"] if worst else None,
        "worst_case_replayed_blocks": worst[0]["replayed_blocks"] if worst else None,
        "restarts": soak.restarts,
        "verify": verify,
        "samples": sampler.samples,
        "params": {
            "blocks": args.blocks,
            "txs_per_block": args.txs_per_block,
            "pipeline": args.pipeline,
            "restart_at": args.restart_at,
            "sample_every": args.sample_every,
            "block_period": 0,
            "snapshot_every": args.snapshot_every,
            "transaction": "0-value self-transfer of the authority (21,000 gas, gas price 0)",
            "quick": args.quick,
        },
        "machine": machine(load_at_start),
    }
    result["goals"] = {
        "restart_s_at_end": f"<= {RESTART_GOAL_SECONDS:g} (SIGTERM → same head answered, at "
        f"block {head:,})",
        "kill9_restart_s": f"<= {RESTART_GOAL_SECONDS:g} (kill -9 → same head answered)",
        "restart_s_worst_case": f"<= {RESTART_GOAL_SECONDS:g} (SIGTERM with the newest snapshot "
        "moved aside: a whole snapshot interval replayed; measured when 2 snapshots exist)",
    }
    misses = []
    for name in ("restart_s_at_end", "kill9_restart_s"):
        value = result[name]
        if value is None or value > RESTART_GOAL_SECONDS:
            misses.append(name)
    worst_case = result["restart_s_worst_case"]
    if worst_case is not None and worst_case > RESTART_GOAL_SECONDS:
        misses.append("restart_s_worst_case")
    result["misses"] = misses
    result["errors"] = soak.errors
    return result


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"first": None, "last": None, "max": None}
    return {"first": values[0], "last": values[-1], "max": max(values)}
