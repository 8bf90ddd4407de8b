"""JSON-line logs on stderr, one shape for every daemon (ledger node, edge oracle, oracle daemon,
indexer), so one log pipeline can read them all.

Structured fields travel as `log.info("msg", extra={...})` (top-level keys) or, as the edge does,
`extra={"fields": {...}}`; either way they become top-level keys of the line."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
# Libraries that log every request or call at INFO; their warnings still come through.
_CHATTY = ("aiohttp.access", "web3", "urllib3")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key == "fields" and isinstance(value, dict):
                entry.update(value)
            elif key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> None:
    """Send the root logger's records to stderr as JSON lines at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in _CHATTY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
