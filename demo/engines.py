"""Where the demo runs: the permissioned ledger node (default) or a bare development anvil."""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account

from citypass.chain.session import ROOT, load_project, mine_at
from citypass.core.net import free_port, port_is_free

DEMO_WORKDIR = ROOT / ".citypass"  # git-ignored
PREFERRED_PORT = 8545
DEMO_TOKEN_SECONDS = 7 * 86400


@dataclass
class DemoChain:
    project: Any
    signers: list[Any]  # seven stakeholders (admin first) and the Technopark lot's owner
    advance_to: Callable[[int], None]
    rpc_url: str
    stop: Callable[[], None]
    data_dir: Path | None = None
    # The node's process, watched while the demo keeps serving (None for in-process anvil).
    process: subprocess.Popen | None = None
    # Each service's node URL with its own token (ledger_node.rpc_auth.SERVICE_PERMISSIONS);
    # empty for in-process anvil, which takes no tokens.
    service_urls: dict[str, str] = field(default_factory=dict)
    keyless_url: str = ""

    def url_for(self, service: str) -> str:
        """The node URL `service` (api, oracle, operators, auditor) uses."""
        return self.service_urls.get(service, self.rpc_url)


def start_anvil() -> DemoChain:
    from citypass.chain.session import disconnect

    project, _ = load_project()
    from brownie import accounts

    first_eight = [accounts[i] for i in range(8)]
    return DemoChain(project, first_eight, mine_at, "(in-process anvil)", disconnect)


def start_ledger_node(workdir: Path = DEMO_WORKDIR) -> DemoChain:
    """A fresh ledger node under <workdir>/demo-node: instant sealing, a development clock so a
    whole day can be simulated, brownie connected through the public gateway."""
    from brownie import network, project
    from brownie._config import CONFIG

    from citypass.chain import brownie_fixes
    from ledger_node.launcher import NodeProcess, init_data_dir
    from ledger_node.rpc_auth import SERVICE_PERMISSIONS

    brownie_fixes.apply()
    data_dir = workdir / "demo-node"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # Made for this run and never stored in clear: the keystore stays encrypted on disk.
    password = secrets.token_urlsafe(24)
    token = secrets.token_urlsafe(24)
    init_data_dir(data_dir, password, block_period=0, snapshot_every=500)
    port = PREFERRED_PORT if port_is_free(PREFERRED_PORT) else free_port()
    node = NodeProcess(data_dir, password, port=port, admin_token=token, dev_clock=True).start()
    keystore = json.loads((data_dir / "keystore" / "authority.json").read_text())
    # brownie keeps artifacts of live deployments by chain id; the demo's chain is new each run,
    # so earlier runs' records would point at contracts that no longer exist.
    shutil.rmtree(ROOT / "build" / "deployments", ignore_errors=True)
    with contextlib.redirect_stdout(io.StringIO()):
        loaded = project.load(ROOT, name="CityPassLedger")
        CONFIG.networks["citypass-local"]["host"] = node.url
        network.connect("citypass-local")
    from brownie import accounts

    admin = accounts.add(Account.decrypt(keystore, password))
    others = [accounts.add(Account.create().key) for _ in range(7)]

    def advance_to(timestamp: int) -> None:
        # Seals an empty block at that time; a refusal only means the clock is already later.
        node.admin("admin_setClock", [int(timestamp)])

    def stop() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            if network.is_connected():
                network.disconnect()
        node.stop()

    # One token per service, valid for the demo's run (a day of serving at most).
    urls = {
        service: node.url_with(node.mint(f"demo-{service}", permissions, DEMO_TOKEN_SECONDS))
        for service, permissions in SERVICE_PERMISSIONS.items()
    }
    return DemoChain(
        loaded, [admin, *others], advance_to, node.url, stop, data_dir, node.process, urls,
        node.base_url,
    )  # fmt: skip
