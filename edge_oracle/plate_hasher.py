"""Plates become keyed-hash tags at the edge, in the camera adapter, and the plate is dropped
(DESIGN §6). The month keys come from the month keys file in the data directory
(`plate-keys.json`, written by the operator's `citypass-api plate-keys`); the edge never holds
the secret they are derived from. A reading is hashed with the key of its own KST month.

The file is re-read when it changes, so provisioning next month's key needs no restart. No
message or log line here carries a plate."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from citypass.core.timeunits import month_of
from citypass.protocol.plate_tags import (
    MonthKeysError,
    PlateFormatError,
    load_month_keys,
    normalise_plate,
    plate_tag,
)

log = logging.getLogger("edge_oracle.plates")
KEYS_FILE = "plate-keys.json"
OUTCOMES = ("hashed", "bad_format", "no_month_key")


class PlateHasher:
    """`tag(plate, ts_ms)`: the tag, or None (the plate is dropped either way). `outcomes` is a
    labelled Prometheus counter (hashed / bad_format / no_month_key)."""

    def __init__(self, path: Path, outcomes: Any = None) -> None:
        self.path = path
        self._outcomes = outcomes
        self._keys: dict[str, bytes] = {}
        self._stamp: tuple[int, int] | None = None
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self.refresh()

    def __repr__(self) -> str:
        return f"PlateHasher({self.path}, months={self.months})"

    @property
    def months(self) -> list[str]:
        return sorted(self._keys)

    def refresh(self) -> None:
        """Re-read the file if it changed; a broken file keeps the keys already loaded."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            keys = load_month_keys(self.path)
        except MonthKeysError as exc:
            log.error(f"plate month keys not loaded: {exc}")
            return
        with self._lock:
            self._keys, self._stamp = keys, stamp
        log.info("plate month keys loaded", extra={"fields": {"months": self.months}})

    def tag(self, plate: Any, ts_ms: int) -> bytes | None:
        self.refresh()
        try:
            normalised = normalise_plate(plate)
        except PlateFormatError:
            self._count("bad_format")
            return None
        month = month_of(ts_ms // 1000)
        with self._lock:
            key = self._keys.get(month)
        if key is None:
            self._count("no_month_key")
            if month not in self._warned:
                self._warned.add(month)
                log.warning(
                    f"a camera read a plate in {month} but {self.path} has no key for that "
                    "month: provision it with `citypass-api plate-keys`; until then plates "
                    "are dropped untagged"
                )
            return None
        self._count("hashed")
        return plate_tag(key, normalised)

    def _count(self, outcome: str) -> None:
        if self._outcomes is not None:
            self._outcomes.labels(outcome).inc()
