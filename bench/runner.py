"""What every benchmark's main does: a temporary directory, SIGTERM as SystemExit, cleanup in
reverse order, the JSON on stdout; and the machine it ran on."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import psutil

from ledger_node.engine import anvil_binary

Cleanup = list[Callable[[], Any]]
Bench = Callable[[argparse.Namespace, Path, Cleanup], Coroutine[Any, Any, dict[str, Any]]]


def progress_printer(tag: str) -> Callable[[str], None]:
    """progress(message): a timestamped line on stderr, so stdout stays the JSON alone."""

    def progress(message: str) -> None:
        print(f"[{tag} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    return progress


def run_bench(
    args: argparse.Namespace, bench: Bench, *, prefix: str, progress: Callable[[str], None]
) -> int:
    """Run `bench(args, tmp, cleanup)`, clean up whatever it registered, print its JSON; the
    exit status is 1 when the result lists errors. `args.keep` keeps the directory."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    cleanup: Cleanup = []

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        result = asyncio.run(bench(args, tmp, cleanup))
    finally:
        for stop in reversed(cleanup):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - keep cleaning up
                progress(f"cleanup: {exc}")
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine(load_at_start: list[float]) -> dict[str, Any]:
    """The machine and what else loaded it, for the report."""
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "mem_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "anvil": anvil_version(),
        "loadavg_start": load_at_start,
        "loadavg_end": load_average(),
        "note": "load from other processes on the machine competes with the benchmark",
    }


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def anvil_version() -> str | None:
    try:
        out = subprocess.run(
            [str(anvil_binary()), "--version"], capture_output=True, text=True, timeout=10
        )
        return out.stdout.splitlines()[0].strip() if out.stdout else None
    except Exception:  # noqa: BLE001 - the version is a nicety of the report
        return None
