"""`python -m indexer`: run (follow), backfill, check."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from citypass.core import jsonlogs
from citypass.core.cli import Abort, option_group
from citypass.core.daemon import stop_signals
from indexer.consistency import check_consistency
from indexer.errors import IndexerError
from indexer.follower import Indexer

log = logging.getLogger("indexer")
PARENT_CHECK_S = 0.5
T = TypeVar("T")


# The options every indexer command takes: where the read model, the node and the addresses are.
_common = option_group(
    click.option(
        "--db", required=True, envvar="CITYPASS_INDEXER_DB",
        help="Read-model database: sqlite:///path.db or postgresql://user@host:port/db "
        "(env CITYPASS_INDEXER_DB).",
    ),
    click.option(
        "--rpc-url", required=True, envvar="CITYPASS_INDEXER_RPC_URL",
        help="JSON-RPC URL of the ledger node (env CITYPASS_INDEXER_RPC_URL).",
    ),
    click.option(
        "--deployment", required=True, envvar="CITYPASS_INDEXER_DEPLOYMENT",
        type=click.Path(dir_okay=False, path_type=Path),
        help="deployments/<network>.json with chainId and the contract addresses.",
    ),
    click.option("--chunk-size", default=200, show_default=True, help="Blocks per database transaction."),
    click.option("--log-level", default="INFO", show_default=True),
)  # fmt: skip


def _indexer(db: str, rpc_url: str, deployment: Path, chunk_size: int, **extra: Any) -> Indexer:
    return Indexer(db, rpc_url, deployment, chunk_size=chunk_size, **extra)


def _once(run: Callable[[Indexer], T], log_level: str, **options: Any) -> T:
    """A one-shot command: `run` on an indexer opened with the _common `options` (and any
    more), closed after; an IndexerError ends the command with its message."""
    jsonlogs.configure(log_level)
    try:
        indexer = _indexer(**options)
        result = run(indexer)
        indexer.close()
    except IndexerError as exc:
        raise Abort(str(exc)) from exc
    return result


@click.group(help="The CityPass chain indexer: builds the read model the API queries.")
def main() -> None:
    pass


@main.command(short_help="Backfill, then follow new blocks until SIGTERM/SIGINT.")
@_common
@click.option(
    "--poll-interval",
    default=1.0,
    show_default=True,
    help="Seconds between polls (the block period); newHeads wakes the follower sooner.",
)
@click.option(
    "--ws-url", default=None,
    help="WebSocket for eth_subscribe newHeads (default: the RPC address as ws://; '' to poll only).",
)  # fmt: skip
@click.option(
    "--parent-pid", type=int, default=None, hidden=True,
    help="Stop when this process exits (set by citypass-api serve in process follow mode).",
)  # fmt: skip
def run(
    db: str,
    rpc_url: str,
    deployment: Path,
    chunk_size: int,
    log_level: str,
    poll_interval: float,
    ws_url: str | None,
    parent_pid: int | None,
) -> None:
    jsonlogs.configure(log_level)
    try:
        indexer = _indexer(
            db, rpc_url, deployment, chunk_size, poll_interval=poll_interval, ws_url=ws_url
        )
        if parent_pid is not None:
            _stop_with_parent(parent_pid, indexer)
        # Stop after the block range under way: the cursor then matches the committed rows.
        with stop_signals(lambda _signum: indexer.stop()):
            indexer.follow()
            indexer.close()
    except IndexerError as exc:
        log.error("stopped on error", extra={"error": str(exc)})
        raise Abort(str(exc)) from exc


def _stop_with_parent(parent_pid: int, indexer: Indexer) -> None:
    """An API killed without its shutdown (SIGKILL) must not leave its follower running: once
    the parent is gone this process is re-parented, and getppid() no longer names it."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        log.info("parent process gone; stopping", extra={"parent_pid": parent_pid})
        indexer.stop()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@main.command(short_help="Index up to the head (or --to-block) once, with a progress bar.")
@_common
@click.option("--to-block", type=int, default=None, help="Last block to index (default: the head).")
def backfill(to_block: int | None, **common: Any) -> None:
    stats = _once(lambda indexer: indexer.backfill(to_block), progress=True, **common)
    click.echo(json.dumps(stats.as_dict()))


@main.command(short_help="Compare the read model with chain state; exit 1 on any mismatch.")
@_common
@click.option("--sample", type=int, default=None, help="Rows per kind to check (default: all).")
def check(sample: int | None, **common: Any) -> None:
    report = _once(lambda indexer: check_consistency(indexer, sample=sample), **common)
    click.echo(json.dumps(report.as_dict(), default=str))
    if not report.ok:
        raise Abort(f"{len(report.mismatches)} mismatches between the read model and the chain")
