"""citypass/core/daemon.py: a stop signal ends the work and the shutdown always runs."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from citypass.core.daemon import run_until_stopped, stop_signals


def test_sigterm_stops_the_runner_and_the_shutdown_runs():
    before = signal.getsignal(signal.SIGTERM)
    steps: list[str] = []

    async def shutdown() -> None:
        steps.append("shutdown")

    def ready() -> None:
        steps.append("ready")
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)

    asyncio.run(asyncio.wait_for(run_until_stopped(ready=ready, shutdown=shutdown), 10))
    assert steps == ["ready", "shutdown"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_shutdown_runs_when_the_work_fails_and_the_work_may_set_stop_itself():
    steps: list[str] = []

    async def shutdown() -> None:
        steps.append("shutdown")

    async def fail(stop: asyncio.Event) -> None:
        raise RuntimeError("input gone")

    async def finish(stop: asyncio.Event) -> None:
        stop.set()
        await stop.wait()

    with pytest.raises(RuntimeError, match="input gone"):
        asyncio.run(run_until_stopped(work=fail, shutdown=shutdown))
    asyncio.run(run_until_stopped(work=finish, shutdown=shutdown))
    assert steps == ["shutdown", "shutdown"]


def test_stop_signals_calls_back_instead_of_interrupting_and_restores_the_handler():
    before = signal.getsignal(signal.SIGINT)
    seen: list[int] = []
    with stop_signals(seen.append):
        os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: only the callback
    assert seen == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is before
