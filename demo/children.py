"""The demo's daemons as child processes: started with their log beside their data, dying with
the demo even after a kill -9 (citypass/core/process.py), and asked for their /health."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import requests

from citypass.core.process import die_with_parent

STARTUP_TIMEOUT_S = 60


@dataclass
class ChildDaemon:
    """A daemon the demo started for an organisation: its key, where it answers, its data."""

    name: str  # in the demo's messages, and its log file's name (`<name>.log`)
    address: str  # its key's address
    url: str
    data_dir: Path
    process: subprocess.Popen


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -m ARGS` writing to `log`. Its own session: Ctrl-C reaches the demo alone, which
    stops its children in order."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", *args], env=env, stdout=handle, stderr=handle,
            start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip


def wait_healthy(url: str, process: subprocess.Popen, name: str, log: Path) -> None:
    """Until `url`/health answers (200 or 503: up, maybe still catching up)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(
                f"the {name} did not start (exit {process.returncode}); see {log}"
            )
        if get_json(url + "/health") is not None:
            return
        time.sleep(0.2)
    raise click.ClickException(f"the {name} did not answer /health within {STARTUP_TIMEOUT_S} s")


def check_alive(processes: dict[str, subprocess.Popen], logs: Path) -> None:
    """A clear error naming the first child that stopped, and its log under `logs`."""
    for name, process in processes.items():
        if process.poll() is not None:
            raise click.ClickException(
                f"the {name} stopped (exit {process.returncode}); see {logs / (name + '.log')}"
            )


def stop_all(processes: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM every child at once, then wait for each (SIGKILL after `timeout`)."""
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


def get_text(url: str) -> str:
    try:
        return requests.get(url, timeout=5).text
    except requests.RequestException:
        return ""
