"""`ledger-node witness run`'s daemon: recover, listen, follow until SIGTERM/SIGINT, stop."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web
from eth_account.signers.local import LocalAccount

from citypass.core.daemon import run_until_stopped
from ledger_node.cli_common import progress_bars
from ledger_node.errors import LedgerNodeError
from ledger_node.witness.config import WitnessConfig
from ledger_node.witness.follow import follow
from ledger_node.witness.server import build_app
from ledger_node.witness.witness import Witness

log = logging.getLogger("ledger_node.witness")


async def serve_witness(
    data_dir: Path, config: WitnessConfig, account: LocalAccount, poll_interval: float
) -> None:
    witness = Witness(data_dir, config, account)
    try:
        bars = progress_bars()
        await witness.start(
            lambda done, total: bars(done, total, "Re-executing the witness's journal")
        )
    except BaseException:
        await witness.stop()
        raise
    runner = web.AppRunner(build_app(witness), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.http_host, config.http_port).start()
    except OSError as exc:
        await witness.stop()
        raise LedgerNodeError(
            f"cannot listen on {config.http_host}:{config.http_port} ({exc.strerror}); "
            f"change http_port in {data_dir / 'witness.json'}"
        ) from exc
    stop = asyncio.Event()

    def ready() -> None:
        log.info(
            "witness %s following %s (head %d)",
            account.address, witness.client.shown_url, witness.head.number,
        )  # fmt: skip
        print(f"witness ready: http://{config.http_host}:{config.http_port}", flush=True)

    async def shutdown() -> None:
        await runner.cleanup()
        await witness.stop()

    await run_until_stopped(
        ready=ready, work=lambda stop: follow(witness, stop, poll_interval), shutdown=shutdown,
        stop=stop, log=log,
    )  # fmt: skip
