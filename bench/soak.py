"""Soak: `ledger-node` seals a long chain in compressed time, as one JSON object.

A fresh node (block period 0, so every request is sealed into its own block before it is
answered; snapshots every 1,000 blocks) gets real signed transactions from its authority: a
0-value self-transfer per block, or --txs-per-block of them as one JSON-RPC batch. The requests
are pipelined on one keep-alive connection (the node answers a connection's requests in order,
so each is exactly one block and the nonces never race). Along the way:

  - the RSS of the node process and of its engine (the anvil child), from /proc/<pid>/status;
  - the journal's size (journal.sqlite + journal.sqlite-wal) per block;
  - restarts at 1/10 of the chain and at its end: SIGTERM → `ledger-node start` → the node
    answers `ledger_status` with the same head; then a kill -9 restart at the end;
  - `ledger-node verify` of the data directory once the node is stopped.

    python -m bench.soak                # 100,000 blocks: the full soak (long)
    python -m bench.soak --quick        # 2,000 blocks: a smoke run

Only the JSON goes to stdout; progress goes to stderr. SIGTERM or Ctrl-C stops sealing (or
verify) and still reports what was measured, with the restarts at the height reached.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from pathlib import Path
from typing import Any, NoReturn

from bench._soak_node import Soak, progress
from bench._soak_probes import Sampler
from bench._soak_report import report
from bench.runner import Cleanup, load_average, run_bench
from bench.signing import Sender
from ledger_node.config import load_config
from ledger_node.keystore import load_authority
from ledger_node.launcher import init_data_dir

FULL_BLOCKS = 100_000
QUICK_BLOCKS = 2_000
MAX_BATCH = 1000  # the node's JSON-RPC batch limit
SNAPSHOT_EVERY = 1000  # the node's default, on purpose: the soak runs what operators run


class OneLineParser(argparse.ArgumentParser):
    """A bad flag is one line on stderr (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="python -m bench.soak",
        description=(
            "Seal a long chain on a fresh ledger-node in compressed time (block period 0, one "
            "pipelined request per block) and report node and engine RSS, journal bytes per "
            "block, restart times (SIGTERM and kill -9) and `ledger-node verify`. Prints one "
            "JSON object."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run: {QUICK_BLOCKS:,} blocks (unless --blocks)"
    )
    parser.add_argument(
        "--blocks",
        type=int,
        default=None,
        help=f"blocks to seal (default {FULL_BLOCKS:,}, --quick {QUICK_BLOCKS:,})",
    )
    parser.add_argument(
        "--txs-per-block",
        type=int,
        default=1,
        help=f"self-transfers per block, sent as one JSON-RPC batch (default 1, at most {MAX_BATCH})",
    )
    parser.add_argument(
        "--pipeline",
        type=int,
        default=8,
        help="requests in flight on the connection (default 8; 1: wait for each answer)",
    )
    parser.add_argument(
        "--restart-at",
        default=None,
        help="comma-separated block numbers for SIGTERM restarts (default: 1/10 of --blocks and "
        "--blocks itself, i.e. 10k and 100k in the full run); the kill -9 restart is always at "
        "the end",
    )
    parser.add_argument(
        "--sample-every",
        type=int,
        default=None,
        help="blocks between RSS/journal samples (default --blocks/100, at least 10)",
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        default=SNAPSHOT_EVERY,
        help=f"the node's snapshot interval in blocks (default {SNAPSHOT_EVERY}, the node's own)",
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip `ledger-node verify` at the end"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (data dir, node log)"
    )
    args = parser.parse_args(argv)
    if args.blocks is None:
        args.blocks = QUICK_BLOCKS if args.quick else FULL_BLOCKS
    if not 10 <= args.blocks <= 10_000_000:
        parser.error(f"--blocks {args.blocks} is out of range: use 10 … 10000000")
    if not 1 <= args.txs_per_block <= MAX_BATCH:
        parser.error(f"--txs-per-block {args.txs_per_block} is out of range: use 1 … {MAX_BATCH}")
    if not 1 <= args.snapshot_every <= 1_000_000:
        parser.error(f"--snapshot-every {args.snapshot_every} is out of range: use 1 … 1000000")
    if not 1 <= args.pipeline <= 256:
        parser.error(f"--pipeline {args.pipeline} is out of range: use 1 … 256")
    if args.sample_every is None:
        args.sample_every = max(args.blocks // 100, 10)
    if not 1 <= args.sample_every <= args.blocks:
        parser.error(f"--sample-every {args.sample_every} is out of range: use 1 … --blocks")
    if args.restart_at is None:
        args.restart_at = sorted({max(args.blocks // 10, 1), args.blocks})
    else:
        try:
            marks = sorted({int(mark) for mark in args.restart_at.split(",") if mark.strip()})
        except ValueError:
            parser.error(f"--restart-at {args.restart_at!r} is not a list of block numbers")
        if not marks or not all(1 <= mark <= args.blocks for mark in marks):
            parser.error(f"--restart-at {args.restart_at!r}: each mark must be in 1 … --blocks")
        args.restart_at = marks
    return args


async def bench(args: argparse.Namespace, tmp: Path, cleanup: Cleanup) -> dict[str, Any]:
    load_at_start = load_average()
    soak = Soak(args, tmp)
    main_task = asyncio.current_task()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        soak.stop_requested.set()
        if signals >= 3 and main_task is not None:  # a third one: no report, just clean up
            main_task.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)
    progress(f"initialising {soak.data_dir} (block period 0, snapshot every {args.snapshot_every})")
    init_data_dir(soak.data_dir, soak.password, block_period=0, snapshot_every=args.snapshot_every)
    if args.keep:  # a throwaway key; kept so the kept data directory can be started again
        password_file = tmp / "password"
        password_file.write_text(soak.password + "\n")
        password_file.chmod(0o600)
    config = load_config(soak.data_dir)
    signer = Sender(bytes(load_authority(soak.data_dir, soak.password).key), config.chain_id)
    soak.start_node()
    cleanup.append(lambda: soak.node and soak.node.stop())
    started = time.perf_counter()
    sampler = Sampler(soak.data_dir, started)
    progress(
        f"sealing {args.blocks:,} blocks of {args.txs_per_block} self-transfer(s), "
        f"{args.pipeline} requests in flight; SIGTERM restarts at {args.restart_at}"
    )
    confirmed = 0
    try:
        confirmed = await soak.seal(signer, sampler)
    except (RuntimeError, ConnectionError, OSError) as exc:
        soak.errors.append(f"sealing stopped: {exc}")
        progress(f"sealing stopped: {exc}")
    try:
        status = await soak.status()
    except (OSError, ValueError, KeyError) as exc:  # requests' errors are OSErrors
        raise SystemExit(f"the node does not answer after sealing ({exc}); see {soak.log}") from exc
    head = int(status["head"], 16)
    if soak.interrupted_at is not None:
        soak.errors.append(f"interrupted at block {soak.interrupted_at:,} of {args.blocks:,}")
    if head != args.blocks:
        soak.errors.append(f"the head is {head}, {args.blocks} blocks were requested")
    if int(status["journalTransactions"]) != head * args.txs_per_block:
        soak.errors.append(
            f"the journal holds {status['journalTransactions']} transactions, "
            f"{head * args.txs_per_block} were sealed"
        )
    interrupted = soak.interrupted_at is not None and confirmed > 0
    reached_end = confirmed == args.blocks or interrupted
    if reached_end and not any(r["at_block"] == confirmed for r in soak.restarts):
        await soak.restart("sigterm")  # interrupted: the SIGTERM restart at the height reached
    if reached_end:
        await soak.restart("kill9")
    if reached_end and len(soak.snapshot_files()) >= 2:
        await soak.restart("sigterm-older-snapshot")
    assert soak.node is not None
    final = sampler.take(soak.node.process.pid, head, soak.sealing_seconds)
    await asyncio.to_thread(soak.node.stop, 120.0)
    verify: dict[str, Any] | None = None
    if args.no_verify:
        pass
    elif soak.stop_requested.is_set():
        verify = {"ok": None, "skipped": "interrupted before verify"}
    else:
        verify = await soak.verify(head)
    wall = time.perf_counter() - started
    return report(args, soak, sampler, head, final, verify, wall, load_at_start)


def main(argv: list[str] | None = None) -> int:
    return run_bench(parse_args(argv), bench, prefix="ledger-soak-", progress=progress)


if __name__ == "__main__":
    raise SystemExit(main())
