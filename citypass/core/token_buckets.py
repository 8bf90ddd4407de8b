"""Token buckets, one per client key: `rate` tokens a second, up to `burst` at once.

The one implementation behind the API's relay limits (api/ratelimit.py, per signer and per IP)
and the node's read limits (ledger_node/read_limits.py, per client IP). Buckets live in memory:
several processes do not share them. Thread-safe, since the API takes tokens from worker
threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Past this many keys, the buckets that are full again are forgotten (a forgotten key starts
# full, so nothing changes for it), so the map does not grow with every client ever seen.
KEYS_KEPT = 10_000


@dataclass
class TokenBuckets:
    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    # key → (tokens, last refill)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def take(self, key: str, wanted: int = 1) -> tuple[int, float]:
        """Takes up to `wanted` whole tokens of `key`'s bucket; answers how many, and the
        seconds until the bucket holds a token again (0 when it still does)."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            granted = min(wanted, int(tokens))
            tokens -= granted
            if len(self._buckets) > KEYS_KEPT:
                self._forget_full(now)
            self._buckets[key] = (tokens, now)
        return granted, max(0.0, (1 - tokens) / self.rate)

    def _forget_full(self, now: float) -> None:
        for key, (tokens, then) in list(self._buckets.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self._buckets[key]
