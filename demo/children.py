"""The demo's daemons as child processes: started with their log beside their data, dying with
the demo even after a kill -9 (citypass/core/process.py), asked for their /health, and
restarted when they die, as a service manager would (systemd's Restart=on-failure): each
resumes from its own data (docs/oracle-daemon.md, docs/witnesses.md)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import click
import requests

from citypass.core.process import die_with_parent

STARTUP_TIMEOUT_S = 60
# A daemon that keeps dying is not one a restart will save: after this many restarts within
# the window the demo stops, naming it.
RESTART_LIMIT = 5
RESTART_WINDOW_S = 60
# Not sooner than this after its previous restart (a service manager's RestartSec): a daemon
# that dies as it starts is not restarted RESTART_LIMIT times within a second.
RESTART_DELAY_S = 1.0


class DaemonLost(click.ClickException):
    """A daemon the demo does not restart: it stopped cleanly (someone stopped it), or died again
    after RESTART_LIMIT restarts within RESTART_WINDOW_S."""


@dataclass
class ChildDaemon:
    """A daemon the demo runs for an organisation: where it answers, its data, and what
    restarting it takes (the same command, environment and log). `process` is always the
    running one: a restart replaces it, and every reader (stop_all, health checks) reads it
    at the time."""

    name: str  # in the demo's messages, and its log file's name (`<name>.log`)
    url: str
    data_dir: Path
    args: list[str]  # `python -m ARGS`
    env: dict[str, str]
    log: Path
    process: subprocess.Popen = field(init=False)
    _restarts: list[float] = field(default_factory=list, init=False, repr=False)
    _coming_back: bool = field(default=False, init=False, repr=False)

    def start(self) -> Self:
        self.process = spawn(self.args, self.env, self.log)
        return self

    def wait_healthy(self) -> None:
        """Until its /health answers (200 or 503: up, maybe still catching up)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise click.ClickException(
                    f"the {self.name} did not start (exit {self.process.returncode}); "
                    f"see {self.log}"
                )
            if get_json(self.url + "/health") is not None:
                return
            time.sleep(0.2)
        raise click.ClickException(
            f"the {self.name} did not answer /health within {STARTUP_TIMEOUT_S} s"
        )

    def supervise(self) -> None:
        """Restart it if it failed, with a line saying so, and another once its /health
        answers again. A clean exit (0: someone stopped it on purpose) is not restarted, as
        under Restart=on-failure: DaemonLost, as after RESTART_LIMIT restarts within
        RESTART_WINDOW_S."""
        code = self.process.poll()
        if code is None:
            if self._coming_back and get_json(self.url + "/health") is not None:
                self._coming_back = False
                click.echo(f"the {self.name} is back (pid {self.process.pid})", err=True)
            return
        now = time.monotonic()
        if self._restarts and now - self._restarts[-1] < RESTART_DELAY_S:
            return
        self._restarts = [at for at in self._restarts if now - at < RESTART_WINDOW_S]
        if code == 0:
            raise DaemonLost(f"the {self.name} stopped (exit 0); see {self.log}")
        if len(self._restarts) >= RESTART_LIMIT:
            raise DaemonLost(
                f"the {self.name} stopped (exit {code}) after {RESTART_LIMIT} restarts within "
                f"{RESTART_WINDOW_S} s; see {self.log}"
            )
        click.echo(
            f"the {self.name} stopped (exit {code}); restarting it (it resumes from its own data)",
            err=True,
        )
        self._restarts.append(now)
        self._coming_back = True
        self.start()


def supervise(daemons: Iterable[ChildDaemon]) -> None:
    """ChildDaemon.supervise for each; DaemonLost names the first the demo cannot keep."""
    for daemon in daemons:
        daemon.supervise()


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -m ARGS` writing to `log`. Its own session: Ctrl-C reaches the demo alone, which
    stops its children in order."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", *args], env=env, stdout=handle, stderr=handle,
            start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip


def stop_all(daemons: Iterable[ChildDaemon], timeout: float = 30) -> None:
    """SIGTERM every daemon's current process at once, then wait for each (SIGKILL after
    `timeout`)."""
    processes = [daemon.process for daemon in daemons]
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get_json(url: str) -> dict[str, Any] | None:
    """A daemon's JSON answer (a 503 /health still says why), None when it does not answer."""
    try:
        response = requests.get(url, timeout=5)
        return response.json() if response.status_code in (200, 503) else None
    except (requests.RequestException, ValueError):
        return None
