"""In-memory token buckets, one per key (a signer address or a client IP).

One API process serves one ledger; buckets are not shared across processes (documented)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from api.errors import RateLimited

# Buckets full again are forgotten, so the map does not grow with every address ever seen.
_SWEEP_EVERY = 1024


class TokenBucket:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._state: dict[str, tuple[float, float]] = {}  # key → (tokens, last refill)
        self._lock = threading.Lock()
        self._calls = 0

    def take(self, key: str, what: str) -> None:
        """Spend one token of `key` or raise RateLimited with the seconds until the next one."""
        now = self.clock()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._state[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise RateLimited(
                    f"too many relay requests for {what}: at most {self.burst} at once and "
                    f"{self.rate:g} per second; retry in {wait} s",
                    retry_after=wait,
                )
            self._state[key] = (tokens - 1.0, now)
            self._calls += 1
            if self._calls % _SWEEP_EVERY == 0:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        full = [
            key
            for key, (tokens, last) in self._state.items()
            if tokens + (now - last) * self.rate >= self.burst
        ]
        for key in full:
            del self._state[key]
