"""After the demo's day: serve the whole stack (indexer + API, explorer, dashboard) over the
still-running ledger node, oracle daemon and edge oracle until the operator presses Ctrl-C."""

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
from citypass.protocol.roles import ROLES
from demo.world import World

PREFERRED_API_PORT = 8080
KEY_COMMANDS = ("init-relayer", "init-onboarder")
# The indexer backfills the day's blocks (a few thousand) before the pages mean anything.
CATCH_UP_TIMEOUT_S = 300


@dataclass
class DemoApi:
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def urls(self) -> dict[str, str]:
        return {
            "API docs": f"{self.url}/docs",
            "Explorer": f"{self.url}/explorer",
            "Dashboard": f"{self.url}/dashboard",
            "Health": f"{self.url}/health",
        }


def start_api(world: World, rpc_url: str, chain_id: int, root: Path) -> DemoApi:
    """`citypass-api serve` as a child process with its in-process indexer follower, a relayer
    key made for this run (encrypted; the password only in memory and the child's environment)
    and onboarded as a member, and a fresh SQLite read model."""
    from citypass.protocol.deployment_record import CONTRACTS, Deployment

    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("readmodel.db*"):
        stale.unlink()  # a new chain each run: the previous read model belongs to a dead chain
    for stale_key in ("relayer.json", "onboarder.json"):  # keys of an earlier run's chain
        (root / "keystore" / stale_key).unlink(missing_ok=True)
    addresses = {key: getattr(world.system, key).address for key in CONTRACTS}
    deployment = Deployment(chain_id, addresses).write(root / "deployment.json")
    # The demo approves residents' applications at once (the API's answers say so).
    env = {
        **os.environ,
        "CITYPASS_API_PASSWORD": secrets.token_urlsafe(24),
        "CITYPASS_API_AUTO_APPROVE": "true",
    }
    relayer, onboarder = (_init_key(command, root, env) for command in KEY_COMMANDS)
    admin = {"from": world.people.admin}
    with contextlib.redirect_stdout(io.StringIO()):  # brownie narrates every transaction
        # The ledger gateway only lets members transact: the city onboards the API's relayer,
        # and lets the API's onboarding key approve applications (CityAccess.onboard).
        world.system.access.onboard(relayer, admin)
        world.system.access.grantRole(ROLES["OPERATOR"], onboarder, admin)
    port = PREFERRED_API_PORT if port_is_free(PREFERRED_API_PORT) else free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = root / "api.log"
    command = [
        sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--rpc-url", rpc_url, "--db", f"sqlite:///{root / 'readmodel.db'}",
        "--deployment", str(deployment), "--data-dir", str(root),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops the API in order
        )  # fmt: skip
    api = DemoApi(url, process, log_path)
    wait_until_indexed(api, "Indexing the deployment")
    return api


def _init_key(command: str, root: Path, env: dict[str, str]) -> str:
    """`citypass-api init-relayer|init-onboarder`: a new encrypted key; its address."""
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


def wait_for_interrupt(children: dict[str, subprocess.Popen]) -> str:
    """Block until Ctrl-C / SIGTERM, or until one of the stack's processes dies; say which."""
    stop = threading.Event()
    reason = {"why": "interrupted"}

    def on_signal(signum: int) -> None:
        reason["why"] = signal.Signals(signum).name
        stop.set()

    with stop_signals(on_signal):
        while not stop.wait(1.0):
            for name, process in children.items():
                if process.poll() is not None:
                    return f"the {name} stopped (exit {process.returncode})"
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
