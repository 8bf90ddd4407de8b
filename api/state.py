"""What one running API holds: settings, ledger, read model, relayer, limits and metrics."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from api.indexer import Indexer
from api.ledger import Ledger
from api.metrics import Metrics
from api.ratelimit import TokenBucket
from api.relayer import Relayer
from api.settings import Settings

log = logging.getLogger("api.indexer")


@dataclass
class AppState:
    settings: Settings
    ledger: Ledger
    indexer: Indexer
    relayer: Relayer | None
    metrics: Metrics
    signer_limit: TokenBucket
    ip_limit: TokenBucket
    follower_error: str | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        return self.indexer.engine

    def start_follower(self) -> None:
        """The indexer follower as a daemon thread of the API process (one process to run)."""

        def run() -> None:
            try:
                self.indexer.follow()
            except Exception as exc:  # reported by /health; the API keeps serving reads
                self.follower_error = str(exc)
                log.error("follower stopped", extra={"error": str(exc)})

        self._thread = threading.Thread(target=run, name="indexer-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self.relayer is not None:
            self.relayer.stop()
        self.indexer.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.indexer.close()
