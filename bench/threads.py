"""Measuring threads that run beside a benchmark: started on `with`, stopped and joined after."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Self


class BackgroundThreads:
    """A context manager over worker threads; each worker loops until `self.stopping` is set."""

    def __init__(self, *workers: Callable[[], None]) -> None:
        self.stopping = threading.Event()
        self._threads = [threading.Thread(target=worker, daemon=True) for worker in workers]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join()
        self.stopped()

    def stopped(self) -> None:
        """Called once every worker has returned (release what they used)."""
