"""What one running API holds: settings, ledger, read model, relayer, limits and metrics."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from api.ledger import Ledger
from api.metrics import Metrics
from api.ratelimit import TokenBucket
from api.relayer import Relayer
from api.settings import Settings
from indexer import Indexer

log = logging.getLogger("indexer")

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 30.0


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
    _process: subprocess.Popen[str] | None = field(default=None, repr=False)
    _stopping: bool = field(default=False, repr=False)

    @property
    def engine(self) -> Engine:
        return self.indexer.engine

    def start_follower(self) -> None:
        """Keep the read model following the chain: a child process (follow_mode "process",
        its own interpreter and GIL) or a daemon thread of this process ("thread")."""
        if self.settings.follow_mode == "process":
            self._start_process()
        else:
            self._start_thread()

    def _start_thread(self) -> None:
        def run() -> None:
            try:
                self.indexer.follow()
            except Exception as exc:  # reported by /health; the API keeps serving reads
                self.follower_error = str(exc)
                log.error("follower stopped", extra={"error": str(exc)})

        self._thread = threading.Thread(target=run, name="indexer-follower", daemon=True)
        self._thread.start()

    def _start_process(self) -> None:
        settings = self.settings
        command = [
            sys.executable, "-m", "indexer", "run", "--db", settings.db,
            "--deployment", str(Path(settings.deployment).resolve()),
            "--poll-interval", str(settings.poll_interval), "--parent-pid", str(os.getpid()),
            "--log-level", logging.getLevelName(logging.getLogger().level),
        ]  # fmt: skip
        # Same working directory (relative sqlite paths), and our code importable from it.
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        # Its JSON log lines are relayed to our stderr; the last one explains an early exit.
        # The node URL (it may carry the API's token) goes in the environment, not in the
        # command line every local user can read with ps.
        env = {**os.environ, "PYTHONPATH": path, "CITYPASS_INDEXER_RPC_URL": settings.rpc_url}
        self._process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._thread = threading.Thread(
            target=self._watch_process, args=(self._process,), name="indexer-process", daemon=True
        )
        self._thread.start()
        log.info("follower process started", extra={"pid": self._process.pid})

    def _watch_process(self, process: subprocess.Popen[str]) -> None:
        last = ""
        assert process.stderr is not None
        for line in process.stderr:
            sys.stderr.write(line)
            if line.strip():
                last = line.strip()
        code = process.wait()
        if not self._stopping:
            self.follower_error = (
                f"the indexer process exited with code {code} ({last[-500:] or 'no output'}); "
                "restart the API after fixing the cause"
            )
            log.error("follower stopped", extra={"error": self.follower_error})

    def stop(self) -> None:
        self._stopping = True
        if self.relayer is not None:
            self.relayer.stop()
        self.indexer.stop()
        if self._process is not None and self._process.poll() is None:
            # SIGTERM: the child finishes the block range under way, then exits 0.
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT_S)
        self.indexer.close()
