"""Throughput of the permissioned node `ledger-node` against raw anvil, as one JSON object.

The same pre-signed workload (LeaseMarket.book transactions from many members, JSON-RPC batches
over several connections) runs against

  (a) raw anvil, started with the flags the node's engine uses (genesis, FIFO order, zero gas
      price and base fee), but mining by itself (interval mining at the node's block period by
      default, or automine), and
  (b) `ledger-node` (permission gateway, journal with fsync, sequencer), started from a fresh
      data directory,

then the node is stopped, its snapshots are deleted and it is restarted, so recovery replays the
whole journal (replay_tps). Both chains start from the node's genesis with the authority as the
admin, so contract addresses and every signed byte are identical on both targets.

    python -m bench.ledger            # 20,000 bookings from 100 members
    python -m bench.ledger --quick    # 2,000 bookings: a smoke run

Only the JSON goes to stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from bench._ledger_replay import VARIANTS, replay_variant, restart_from_journal, time_verify
from bench._ledger_report import Measured, report
from bench._ledger_sender import progress
from bench._ledger_targets import RawAnvil, init_node_dir, measure, node_status
from bench._ledger_workload import build_workload
from bench.runner import Cleanup, load_average, run_bench
from ledger_node.config import GENESIS_FILE, load_config
from ledger_node.keystore import load_authority
from ledger_node.launcher import NodeProcess


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger",
        description=(
            "Throughput of ledger-node against raw anvil: the same pre-signed LeaseMarket.book "
            "workload on both, plus the node's journal replay speed. Prints one JSON object."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2,000 bookings (unless --txs)"
    )
    parser.add_argument(
        "--txs", type=int, default=None, help="book transactions (default 20000, --quick 2000)"
    )
    parser.add_argument("--members", type=int, default=100, help="sending members (default 100)")
    parser.add_argument(
        "--batch", type=int, default=100, help="transactions per JSON-RPC batch (default 100)"
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="parallel connections (default 4)"
    )
    parser.add_argument(
        "--block-period", type=float, default=1.0, help="node block period, s (default 1.0)"
    )
    parser.add_argument(
        "--max-block-txs",
        type=int,
        default=2000,
        help="node seals early at this many pending txs (default 2000)",
    )
    parser.add_argument(
        "--gas-limit",
        type=int,
        default=1_000_000_000,
        help=(
            "block gas limit of both chains (default 1e9). A booking uses ~89k gas, so 30M (the "
            "node's default) holds only ~338 bookings per block, far below --max-block-txs"
        ),
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        default=1000,
        help="node snapshot interval in blocks (default 1000)",
    )
    parser.add_argument(
        "--raw-mode",
        choices=("interval", "automine"),
        default="interval",
        help="how raw anvil mines: interval (--block-time = block period, default) or automine",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=0.02, help="block watcher poll interval, s"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip timing `ledger-node verify`")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (data dir, logs)"
    )
    args = parser.parse_args(argv)
    if args.txs is None:
        args.txs = 2000 if args.quick else 20000
    if args.members < 1 or args.txs < args.members or args.batch < 1 or args.connections < 1:
        parser.error("--txs ≥ --members ≥ 1, --batch ≥ 1 and --connections ≥ 1")
    return args


async def bench(args: argparse.Namespace, tmp: Path, cleanup: Cleanup) -> dict[str, Any]:
    load_at_start = load_average()
    data_dir = tmp / "node"
    password = secrets.token_urlsafe(18)
    progress(f"initialising the node data directory in {data_dir}")
    init_node_dir(data_dir, password, args)
    config = load_config(data_dir)
    authority = load_authority(data_dir, password)
    progress("signing the workload (not timed)")
    signing_started = time.perf_counter()
    workload = build_workload(
        bytes(authority.key),
        config.chain_id,
        members=args.members,
        txs=args.txs,
        connections=args.connections,
        now=int(time.time()),
    )
    signing_seconds = time.perf_counter() - signing_started
    progress(
        f"signed {len(workload.setup_admin) + len(workload.setup_members)} setup and "
        f"{workload.book_count} book transactions in {signing_seconds:.1f} s"
    )

    # (a) raw anvil
    genesis = tmp / "raw-genesis.json"
    shutil.copy(data_dir / GENESIS_FILE, genesis)
    raw = RawAnvil(
        genesis,
        gas_limit=config.gas_limit,
        chain_id=config.chain_id,
        mode=args.raw_mode,
        period=args.block_period,
        log=tmp / "raw-anvil.log",
    )
    cleanup.append(raw.stop)
    progress(f"raw anvil ({args.raw_mode}): {' '.join(raw.command[1:])}")
    await raw.start()
    assert raw.process is not None
    _, raw_result, raw_rss = await measure(raw.url, raw.process.pid, workload, args, "raw anvil")
    assert raw_result.cpu is not None
    raw_result.cpu["anvil_cpu_s"] = raw_result.cpu.pop("process_cpu_s")
    raw_result.cpu.pop("children_cpu_s")
    raw.stop()
    progress(f"raw anvil: {raw_result.tps:.0f} tx/s, p99 {raw_result.p99_ms:.0f} ms")

    # (b) ledger-node
    node = NodeProcess(data_dir, password, log_path=tmp / "node.log")
    cleanup.append(node.stop)
    progress("starting ledger-node")
    node.start()
    assert node.process is not None
    retries, node_result, node_rss = await measure(
        node.url, node.process.pid, workload, args, "ledger-node"
    )
    assert node_result.cpu is not None
    node_result.cpu["node_cpu_s"] = node_result.cpu.pop("process_cpu_s")
    node_result.cpu["engine_cpu_s"] = node_result.cpu.pop("children_cpu_s")
    status = await node_status(node.url)
    progress(
        f"ledger-node: {node_result.tps:.0f} tx/s, p99 {node_result.p99_ms:.0f} ms, rss {node_rss} MB"
    )
    node.stop()

    # Recovery: no snapshot, so the restart replays the whole journal.
    journal_txs = int(status["journalTransactions"])
    restart = await restart_from_journal(
        data_dir, password, tmp / "node-restart.log", status["head"], journal_txs, cleanup
    )
    experiments: dict[str, Any] = {}
    for variant in VARIANTS:
        progress(
            f"timing the replay alone, variant {variant!r} (scratch engine, journal read-only)"
        )
        experiments[variant] = await replay_variant(data_dir, variant)
        progress(f"  {experiments[variant]}")
    verify = None if args.no_verify else time_verify(data_dir, journal_txs)
    measured = Measured(
        workload=workload,
        signing_seconds=signing_seconds,
        gas_limit=config.gas_limit,
        raw=raw_result,
        raw_rss=raw_rss,
        node=node_result,
        node_rss=node_rss,
        node_setup_retries=retries,
        journal_txs=journal_txs,
        restart=restart,
        experiments=experiments,
        verify=verify,
        load_at_start=load_at_start,
    )
    return report(args, measured)


def main(argv: list[str] | None = None) -> int:
    return run_bench(parse_args(argv), bench, prefix="ledger-bench-", progress=progress)


if __name__ == "__main__":
    raise SystemExit(main())
