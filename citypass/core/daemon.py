"""Run a daemon until SIGTERM or SIGINT, then shut it down cleanly: one way for every daemon.

`run_until_stopped` is for asyncio daemons (the ledger node, the oracle and edge daemons);
`stop_signals` is the same signal handling for code that blocks a thread instead (the indexer's
follow loop, uvicorn, the demo's wait). Either way a stop signal never raises into the code
that is running (no KeyboardInterrupt half-way through a commit): it only asks it to stop, and
a second signal during the shutdown is ignored rather than cutting the shutdown short."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_log = logging.getLogger("citypass.daemon")


@contextmanager
def stop_signals(on_stop: Callable[[int], object]) -> Iterator[None]:
    """Call `on_stop(signum)` on SIGTERM/SIGINT while inside; the previous handlers come back
    on exit. Only the main thread may install signal handlers (Python's rule)."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        on_stop(signum)

    previous = {signum: signal.signal(signum, handle) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


async def run_until_stopped(
    *,
    ready: Callable[[], object] | None = None,
    work: Callable[[asyncio.Event], Awaitable[object]] | None = None,
    shutdown: Callable[[], Awaitable[object]] | None = None,
    stop: asyncio.Event | None = None,
    log: logging.Logger = _log,
) -> None:
    """Serve until SIGTERM/SIGINT (or until `stop` is set, or `work` returns), then shut down.

    With the stop signals handled: `ready()` (start what may only run once a signal stops it
    cleanly, and say so: the "ready" line a supervisor waits for), then `work(stop)` (default:
    wait for `stop`), then `shutdown()`, which runs whatever way `work` ended, an exception
    included; the previous handlers come back at the end. The loop's own signal handling (not
    `stop_signals`) wakes the loop at once, whichever thread took the signal."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        if ready is not None:
            ready()
        await (work(stop) if work is not None else stop.wait())
    finally:
        log.info("stopping")
        try:
            if shutdown is not None:
                await shutdown()
        finally:
            for signum, handler in previous.items():
                loop.remove_signal_handler(signum)
                if handler is not None:  # None: a handler not set from Python; leave the default
                    signal.signal(signum, handler)
        log.info("stopped")
