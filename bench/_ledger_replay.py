"""Recovery speed in bench/ledger.py: a restart that replays the whole journal, the replay
alone on a scratch engine (three ways of sending it), and `ledger-node verify`."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ujson

from bench._ledger_sender import progress
from bench._ledger_targets import node_status
from bench.rpc import Pipeline, http_post, raw_tx_call
from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, SNAPSHOT_DIR, load_config
from ledger_node.engine import Engine
from ledger_node.journal import Journal
from ledger_node.launcher import CLI, NodeProcess
from ledger_node.replay import ReplayMismatch, replay_block

VARIANTS = ("node", "sequential", "pipelined")
PIPELINE_CHUNK = 1000


def serving_time_from_log(log: Path) -> float | None:
    """The ts of the node's "serving JSON-RPC" log line (after recovery finished)."""
    found = None
    for line in log.read_text(errors="replace").splitlines():
        if "serving JSON-RPC" not in line:
            continue
        try:
            found = float(json.loads(line[line.index("{") :])["ts"])
        except (ValueError, KeyError):
            continue
    return found


def last_error(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:") or '"level": "error"' in line]
    return (errors or lines or ["(empty log)"])[-1][:600]


async def restart_from_journal(
    data_dir: Path,
    password: str,
    log: Path,
    head_before: str,
    journal_txs: int,
    cleanup: list[Callable[[], Any]],
) -> dict[str, Any]:
    """Delete the snapshots and start the node again: recovery replays the whole journal.
    Times process start → ready, and reads when the node logged that it serves."""
    snapshots = data_dir / SNAPSHOT_DIR
    removed = 0
    if snapshots.exists():
        for path in snapshots.iterdir():
            path.unlink()
            removed += 1
    restart = NodeProcess(data_dir, password, log_path=log)
    cleanup.append(restart.stop)
    progress(f"restarting ledger-node without snapshots ({removed} deleted): full journal replay")
    outcome: dict[str, Any] = {"wall_started": time.time(), "seconds": None, "served_at": None}
    outcome["error"] = None
    started = time.perf_counter()
    try:
        restart.start(timeout=600)
        outcome["seconds"] = time.perf_counter() - started
        outcome["served_at"] = serving_time_from_log(log)
        after = await node_status(restart.url)
        if after["head"] != head_before:
            outcome["error"] = (
                f"the restarted node is at {after['head']}, before the stop it was at {head_before}"
            )
        progress(
            f"restart replayed {journal_txs} transactions in {outcome['seconds']:.1f} s "
            "(process start → ready)"
        )
    except RuntimeError:
        outcome["error"] = last_error(log)
        progress(f"the restart FAILED: {outcome['error']}")
    finally:
        restart.stop()
    return outcome


async def replay_variant(data_dir: Path, variant: str) -> dict[str, Any]:
    """Replay every journal block on a scratch engine (the journal opened read-only) and time it.

    variant "node": ledger_node.replay.replay_block, exactly what recovery and verify run
        (the block's raw transactions pipelined in order on one connection, then evm_mine at the
        recorded time);
    variant "sequential": the same, but one eth_sendRawTransaction request per transaction,
        awaited in order (bench-side experiment, not node code);
    variant "pipelined": one request per transaction, all written back-to-back on one HTTP/1.1
        keep-alive connection before reading the answers (bench-side experiment).
    Stops at the first block whose hash differs from the journal."""
    config = load_config(data_dir)
    journal = Journal(data_dir / JOURNAL_FILE, readonly=True)
    engine = Engine(data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=config.chain_id)
    await engine.start()
    pipe = None
    blocks = txs = 0
    mismatch = None
    try:
        if variant == "pipelined":
            pipe = await Pipeline.open(engine.port)
        started = time.perf_counter()
        for block in journal.blocks_after(0):
            if variant == "node":
                try:
                    await replay_block(engine, journal, block)
                except ReplayMismatch as exc:
                    mismatch = str(exc)
                    break
            else:
                raws = ["0x" + raw.hex() for raw in journal.raw_txs(block.tx_hashes)]
                if pipe is None:
                    await _send_one_by_one(engine, raws, variant)
                else:
                    await _send_pipelined(pipe, raws, variant)
                await engine.mine(block.timestamp)
                replayed = await engine.block(block.number)
                if replayed["hash"] != "0x" + block.hash.hex():
                    mismatch = (
                        f"block {block.number} differs: journal 0x{block.hash.hex()}, "
                        f"replay {replayed['hash']}"
                    )
                    break
            blocks += 1
            txs += len(block.tx_hashes)
        seconds = time.perf_counter() - started
    finally:
        if pipe is not None:
            await pipe.close()
        await engine.stop()
        journal.close()
    return {
        "ok": mismatch is None,
        "blocks_replayed": blocks,
        "txs_replayed": txs,
        "seconds": round(seconds, 2),
        "tps": round(txs / seconds, 1) if seconds > 0 and mismatch is None else None,
        "mismatch": mismatch,
    }


async def _send_one_by_one(engine: Engine, raws: list[str], variant: str) -> None:
    for raw in raws:
        reply = await engine.raw_request(raw_tx_call(raw, 1))
        if "error" in reply:
            raise RuntimeError(f"replay ({variant}): {reply['error']}")


async def _send_pipelined(pipe: Pipeline, raws: list[str], variant: str) -> None:
    for start in range(0, len(raws), PIPELINE_CHUNK):
        chunk = raws[start : start + PIPELINE_CHUNK]
        for raw in chunk:
            pipe.send(http_post(ujson.dumps(raw_tx_call(raw, 1)).encode()))
        await pipe.writer.drain()
        for _ in chunk:
            reply = await pipe.answer()
            if "error" in reply:
                raise RuntimeError(f"replay ({variant}): {reply['error']}")


def time_verify(data_dir: Path, journal_txs: int) -> dict[str, Any]:
    """`ledger-node verify` of the stopped node's data directory, timed."""
    progress("timing `ledger-node verify`")
    started = time.perf_counter()
    verified = subprocess.run(
        [*CLI, "verify", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=1800
    )
    seconds = time.perf_counter() - started
    ok = verified.returncode == 0
    return {
        "ok": ok,
        "seconds": round(seconds, 2),
        "tps": round(journal_txs / seconds, 1) if ok else None,
        "error": None if ok else verified.stderr.strip().splitlines()[-1][:400],
    }
