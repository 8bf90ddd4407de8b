"""`ledger-node start`'s daemon: the node, its JSON-RPC listener (HTTP and WebSocket) and the
optional admin listener, run until SIGTERM/SIGINT and then stopped in order (listeners first, so
no request reaches a node that is closing its journal)."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path

from aiohttp import web
from eth_account.signers.local import LocalAccount

from citypass.core.daemon import run_until_stopped
from ledger_node.admin import build_admin_app
from ledger_node.cli_common import progress_bars
from ledger_node.config import NodeConfig
from ledger_node.errors import LedgerNodeError
from ledger_node.limit_options import NodeLimits
from ledger_node.node import LedgerNode
from ledger_node.rpc_auth import Authenticator
from ledger_node.server import RpcGateway, build_app
from ledger_node.supervisor import SupervisionSettings

log = logging.getLogger("ledger_node")


async def serve_node(
    data_dir: Path,
    config: NodeConfig,
    authority: Future[LocalAccount],
    host: str,
    port: int,
    admin: tuple[int, str] | None,
    dev_clock: bool,
    supervision: SupervisionSettings,
    limits: NodeLimits | None,
    min_free_bytes: int,
    auth: Authenticator,
) -> None:
    """Recover, open the JSON-RPC (and admin) listeners, serve until SIGTERM/SIGINT, stop."""
    node = LedgerNode(
        data_dir,
        config,
        authority,
        dev_clock=dev_clock,
        supervision=supervision,
        min_free_bytes=min_free_bytes,
    )
    try:
        await node.start(progress_bars())
    except BaseException:
        await node.engine.stop()
        raise
    gateway = (
        RpcGateway(node, limits.reads, limits.ws, auth) if limits else RpcGateway(node, auth=auth)
    )
    if auth.public_key is None:
        log.warning(
            "no token public key (--jwt-public-key): the node serves only the keyless wallet "
            "methods and refuses every token"
        )
    runner = web.AppRunner(build_app(gateway), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await node.stop()
        raise LedgerNodeError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --rpc-port"
        ) from exc
    admin_runner = None
    if admin is not None:
        admin_runner = web.AppRunner(build_admin_app(node, admin[1]), access_log=None)
        await admin_runner.setup()
        try:
            await web.TCPSite(admin_runner, "127.0.0.1", admin[0]).start()
        except OSError as exc:
            await runner.cleanup()
            await node.stop()
            raise LedgerNodeError(
                f"cannot listen on admin port {admin[0]} ({exc.strerror})"
            ) from exc

    def ready() -> None:
        log.info(
            f"ledger node serving JSON-RPC on http://{host}:{port} (chain {config.chain_id}, head {node.head_number})"
        )
        print(f"ledger node ready: http://{host}:{port} ws://{host}:{port}", flush=True)

    async def shutdown() -> None:
        await runner.cleanup()
        if admin_runner is not None:
            await admin_runner.cleanup()
        await node.stop()

    await run_until_stopped(ready=ready, shutdown=shutdown, log=log)
