"""After the demo's day: serve the whole stack (indexer + API, explorer, dashboard) over the
still-running ledger node, oracle daemons, edge oracle and witnesses until the operator presses
Ctrl-C. A daemon that dies is restarted (demo/children.py); the node's or the API's death stops
the demo."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from citypass.chain.session import ROOT
from citypass.core.daemon import stop_signals
from citypass.core.net import free_port, port_is_free
from citypass.core.process import die_with_parent, stop_process
from citypass.protocol.roles import ROLES
from demo.children import ChildDaemon, DaemonLost, supervise
from demo.world import World

PREFERRED_API_PORT = 8080
KEY_COMMANDS = ("init-relayer", "init-onboarder", "init-treasury")
# The indexer backfills the day's blocks (a few thousand) before the pages mean anything.
CATCH_UP_TIMEOUT_S = 300


@dataclass
class DemoApi:
    url: str
    process: subprocess.Popen
    log_path: Path
    # The simulated payment provider residents top up through (it moves no money).
    provider_url: str
    provider: subprocess.Popen

    def stop(self) -> None:
        stop_process(self.provider, timeout=10)
        stop_process(self.process, timeout=30)

    def processes(self) -> dict[str, subprocess.Popen]:
        return {"API": self.process, "payment provider": self.provider}

    def urls(self) -> dict[str, str]:
        return {
            "Resident app": f"{self.url}/app",
            "API docs": f"{self.url}/docs",
            "Explorer": f"{self.url}/explorer",
            "Dashboard": f"{self.url}/dashboard",
            "Health": f"{self.url}/health",
            "Payments": f"{self.provider_url}/checkout (the demo's simulated payment provider)",
        }


def start_api(world: World, rpc_url: str, chain_id: int, root: Path, evidence_dir: Path) -> DemoApi:
    """`citypass-api serve` as a child process with its in-process indexer follower, a relayer
    key made for this run (encrypted; the password only in memory and the child's environment)
    and onboarded as a member, and a fresh SQLite read model. `evidence_dir` is the oracle
    daemon's data directory, whose evidence store the API reads for inspectors (same host)."""
    from citypass.protocol.deployment_record import CONTRACTS, Deployment

    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("readmodel.db*"):
        stale.unlink()  # a new chain each run: the previous read model belongs to a dead chain
    for stale_key in ("relayer.json", "onboarder.json", "treasury.json"):  # an earlier chain's
        (root / "keystore" / stale_key).unlink(missing_ok=True)
    addresses = {key: getattr(world.system, key).address for key in CONTRACTS}
    deployment = Deployment(chain_id, addresses).write(root / "deployment.json")
    port = PREFERRED_API_PORT if port_is_free(PREFERRED_API_PORT) else free_port()
    url = f"http://127.0.0.1:{port}"
    provider_url = f"http://127.0.0.1:{free_port()}"
    webhook_secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "CITYPASS_API_PASSWORD": secrets.token_urlsafe(24),
        "CITYPASS_API_TREASURY_PASSWORD": secrets.token_urlsafe(24),
        # The demo approves residents' applications at once (the API's answers say so).
        "CITYPASS_API_AUTO_APPROVE": "true",
        "CITYPASS_API_PAYMENTS_WEBHOOK_SECRET": webhook_secret,
        "CITYPASS_API_PAYMENTS_CHECKOUT_URL": f"{provider_url}/checkout",
        "CITYPASS_API_EVIDENCE_DIR": str(evidence_dir),
        # The node URL carries the API's token: in the environment, not on the command line,
        # which `ps` shows every local user (api/state.py does the same for its indexer child).
        "CITYPASS_API_RPC_URL": rpc_url,
    }
    relayer, onboarder, treasury = (_init_key(command, root, env) for command in KEY_COMMANDS)
    admin = {"from": world.people.admin}
    with contextlib.redirect_stdout(io.StringIO()):  # brownie narrates every transaction
        # The ledger gateway only lets members transact: the city onboards the API's relayer,
        # lets its onboarding key approve applications (CityAccess.onboard) and its treasury
        # key mint top-ups (a key of its own: the demo's seeding mints with the treasury's).
        world.system.access.onboard(relayer, admin)
        world.system.access.grantRole(ROLES["OPERATOR"], onboarder, admin)
        world.system.access.grantRole(ROLES["TREASURY"], treasury, admin)
    log_path = root / "api.log"
    command = [
        sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--db", f"sqlite:///{root / 'readmodel.db'}",
        "--deployment", str(deployment), "--data-dir", str(root),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops the API in order
        )  # fmt: skip
    provider = _start_payment_provider(
        provider_url, f"{url}/v1/payments/webhook", webhook_secret, root
    )
    api = DemoApi(url, process, log_path, provider_url, provider)
    wait_until_indexed(api, "Indexing the deployment")
    return api


def _start_payment_provider(
    url: str, webhook_url: str, secret: str, root: Path
) -> subprocess.Popen:
    port = url.rsplit(":", 1)[1]
    with (root / "payments.log").open("ab") as log:
        provider = subprocess.Popen(
            [sys.executable, "-m", "api.payments.demo_provider", "--port", port,
             "--webhook-url", webhook_url],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "CITYPASS_DEMO_PAY_SECRET": secret},
            start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while _get_json(f"{url}/health").get("ok") is not True:
        if provider.poll() is not None or time.monotonic() > deadline:
            raise click.ClickException(f"the demo payment provider did not start; see {root}")
        time.sleep(0.2)
    return provider


def _init_key(command: str, root: Path, env: dict[str, str]) -> str:
    """`citypass-api init-relayer|init-onboarder|init-treasury`: a new encrypted key; its
    address."""
    made = subprocess.run(
        [sys.executable, "-m", "api", command, "--data-dir", str(root)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    if made.returncode != 0:
        raise click.ClickException(f"citypass-api {command} failed: {made.stderr.strip()}")
    return made.stdout.strip()


def wait_until_indexed(api: DemoApi, label: str) -> None:
    """Until /health says the read model has caught up with the head, with a progress bar."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    with click.progressbar(length=100, label=label, file=sys.stderr) as bar:
        shown = 0
        while time.monotonic() < deadline:
            if api.process.poll() is not None:
                raise click.ClickException(
                    f"citypass-api stopped (exit {api.process.returncode}); see {api.log_path}"
                )
            health = _get_json(api.url + "/health")
            head, indexed = health.get("head"), health.get("indexedBlock")
            if isinstance(head, int) and isinstance(indexed, int) and head > 0:
                done = min(100, int(100 * indexed / head))
                bar.update(done - shown)
                shown = done
                if indexed >= head:
                    return
            time.sleep(0.5)
    raise click.ClickException(
        f"the API's indexer did not catch up within {CATCH_UP_TIMEOUT_S} s; see {api.log_path}"
    )


def wait_for_interrupt(processes: dict[str, subprocess.Popen], daemons: list[ChildDaemon]) -> str:
    """Block until Ctrl-C / SIGTERM, or until one of `processes` dies or one of `daemons` is
    lost (each is restarted when it fails: demo/children.py); say which."""
    stop = threading.Event()
    reason = {"why": "interrupted"}

    def on_signal(signum: int) -> None:
        reason["why"] = signal.Signals(signum).name
        stop.set()

    with stop_signals(on_signal):
        while not stop.wait(1.0):
            for name, process in processes.items():
                if process.poll() is not None:
                    return f"the {name} stopped (exit {process.returncode})"
            try:
                supervise(daemons)
            except DaemonLost as lost:
                return lost.message
        return reason["why"]


def _get_json(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as exc:  # /health answers 503 while catching up
        try:
            return json.loads(exc.read())
        except ValueError:
            return {}
    except (OSError, ValueError):
        return {}
