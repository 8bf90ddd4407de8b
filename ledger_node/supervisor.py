"""Supervision of the engine child: notice its death within a fraction of a second, restore it
from snapshot and journal (the same recovery as on start), and say so on /health.

While the engine is away the node keeps serving what needs no engine (/health, ledger_status,
seals, journal entries); every request that needs the engine gets a JSON-RPC error asking to
retry. Restart attempts are bounded: after `max_attempts` failures in a row (or an engine that
keeps dying soon after each restart) the node reports the engine down, with the reason, and
leaves the decision to the operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from citypass.core.ranges import check_range
from ledger_node.engine import Engine
from ledger_node.errors import (
    INTERNAL_ERROR,
    LIMIT_EXCEEDED,
    ConfigError,
    RecoveryError,
    RpcError,
)

log = logging.getLogger("ledger_node.supervisor")

RUNNING = "running"
RESTARTING = "restarting"
DOWN = "down"
# waitpid(WNOHANG) every 100 ms costs nothing and notices a death well within a second.
WATCH_INTERVAL = 0.1
# An engine that dies sooner than this after a restart counts as a failed attempt, so a crash
# loop backs off and ends in DOWN instead of restarting forever.
STABLE_SECONDS = 60.0
RESTARTING_MESSAGE = "the engine is restarting; retry in a moment"


@dataclass(frozen=True)
class SupervisionSettings:
    max_attempts: int = 5
    backoff: float = 0.5  # seconds before the second attempt; doubles after each failure
    max_backoff: float = 30.0

    def validate(self) -> None:
        check_range("engine restart attempts", self.max_attempts, 0, 100, error=ConfigError)
        if not 0.05 <= self.backoff <= 60:
            raise ConfigError(f"engine restart backoff {self.backoff} s is out of range: 0.05 … 60")
        if not self.backoff <= self.max_backoff <= 600:
            raise ConfigError(
                f"engine restart max backoff {self.max_backoff} s must be from the backoff to 600"
            )

    def delay(self, failures: int) -> float:
        return 0.0 if failures == 0 else min(self.backoff * 2 ** (failures - 1), self.max_backoff)


class EngineSupervisor:
    """Watches `engine`; after its death awaits `restore` (the node's: a new engine restored from
    snapshot and journal, RecoveryError when the journal does not replay). `position` gives
    (head block, pending transactions) for the log line of a successful restart."""

    def __init__(
        self,
        engine: Engine,
        restore: Callable[[], Awaitable[None]],
        position: Callable[[], tuple[int, int]],
        settings: SupervisionSettings,
    ) -> None:
        settings.validate()
        self.engine = engine
        self._restore = restore
        self._position = position
        self.settings = settings
        self.state = RUNNING
        self.restarts = 0  # successful restarts
        self.exits = 0  # engine deaths noticed
        self.failures = 0  # failed attempts in a row
        self.reason: str | None = None
        self.last_exit: str | None = None
        self.state_since = time.time()
        self._up_since = time.monotonic()
        self._running = asyncio.Event()
        self._running.set()
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._up_since = time.monotonic()
        self._task = asyncio.create_task(self._watch(), name="engine-supervisor")

    async def stop(self) -> None:
        """Before the node stops its engine: a deliberate stop is no death to recover from."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    # ------------------------------------------------------------------------------- queries

    def available(self) -> bool:
        return self.state == RUNNING and self.engine.exit_code() is None

    def unavailable_error(self) -> RpcError:
        if self.state == DOWN:
            return RpcError(
                INTERNAL_ERROR,
                f"the engine is down ({self.reason}); the operator must restart the node",
            )
        return RpcError(LIMIT_EXCEEDED, RESTARTING_MESSAGE)

    async def wait_available(self) -> None:
        """Until the engine serves again (forever once it is down)."""
        while not self.available():
            if self.state == RUNNING:  # dead, but not noticed by the watcher yet
                await asyncio.sleep(WATCH_INTERVAL)
            else:
                await self._running.wait()

    def current_state(self) -> str:
        """The state, counting a death the watcher has not noticed yet (≤ 100 ms)."""
        if self.state == RUNNING and self.engine.exit_code() is not None:
            return RESTARTING
        return self.state

    def health(self) -> dict[str, Any]:
        state = self.current_state()
        return {
            "state": state,
            "since": round(self.state_since, 3),
            "restarts": self.restarts,
            "exits": self.exits,
            "failedAttempts": self.failures,
            "lastExit": self.last_exit,
            "reason": self.reason if state == self.state else "the engine exited; restoring it",
        }

    # --------------------------------------------------------------------------- supervision

    async def _watch(self) -> None:
        while True:
            while self.engine.exit_code() is None:
                await asyncio.sleep(WATCH_INTERVAL)
            await self._recover_from_exit()
            if self.state == DOWN:
                return

    async def _recover_from_exit(self) -> None:
        engine = self.engine
        self.exits += 1
        self.last_exit = engine.exit_description()
        if self.restarts and time.monotonic() - self._up_since < STABLE_SECONDS:
            self.failures += 1
        else:
            self.failures = 0
        self._set(RESTARTING, f"the engine (anvil pid {engine.pid}) {self.last_exit}")
        log.error("%s; restoring it from the snapshot and the journal", self.reason)
        attempt = 0
        while True:
            if self.failures >= self.settings.max_attempts:
                self._set(
                    DOWN,
                    f"gave up after {self.failures} failed restart attempts in a row; "
                    f"last: {self.reason}",
                )
                log.critical("the engine is down: %s", self.reason)
                return
            await asyncio.sleep(self.settings.delay(self.failures))
            attempt += 1
            started = time.monotonic()
            try:
                await self._restore()
            except RecoveryError as exc:  # the journal does not replay: retrying cannot help
                self._set(DOWN, f"recovery refused: {exc}")
                log.critical("the engine is down: %s", self.reason)
                return
            except Exception as exc:  # noqa: BLE001 - any failure is one failed attempt
                self.failures += 1
                self.reason = f"restart attempt {attempt} failed: {exc}"
                log.warning("%s", self.reason)
                continue
            self.restarts += 1
            self._up_since = time.monotonic()
            self._set(RUNNING, None)
            head, pending = self._position()
            log.warning(
                "engine restored in %.2f s (restart %d): head %d, %d transactions pending",
                time.monotonic() - started,
                self.restarts,
                head,
                pending,
            )
            return

    def _set(self, state: str, reason: str | None) -> None:
        self.state = state
        self.reason = reason
        self.state_since = time.time()
        if state == RUNNING:
            self._running.set()
        else:
            self._running.clear()
