"""A small time-to-live cache so feeds never hammer the ledger node: each document is built at
most once per `ttl` seconds, however many clients poll it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class TtlCache:
    """Values by key, each rebuilt when older than `ttl` seconds. Thread-safe: concurrent misses
    on one key build once (the others wait), so a burst of polls costs one chain read."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._values: dict[Any, tuple[float, Any]] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Any, build: Callable[[], T]) -> T:
        hit = self._fresh(key)
        if hit is not None:
            return hit[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._fresh(key)
            if hit is not None:
                return hit[1]
            value = build()
            self._values[key] = (time.monotonic(), value)
            return value

    def age(self, key: Any) -> float | None:
        """Seconds since `key` was built, or None when it never was."""
        entry = self._values.get(key)
        return None if entry is None else time.monotonic() - entry[0]

    def _fresh(self, key: Any) -> tuple[float, Any] | None:
        entry = self._values.get(key)
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry
        return None
