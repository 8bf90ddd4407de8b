"""Debounce one source's view of one slot: a new state counts only once it has held for the
window (by event time, against the daemon's clock). A flap shorter than the window produces
nothing. Window 0 commits every change at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Debouncer:
    stable: bool | None = None
    stable_since_ms: int = 0
    candidate: bool | None = None
    candidate_since_ms: int = 0

    def feed(self, value: bool, time_ms: int, window_ms: int) -> bool:
        """Record an observation; True if the stable state changed right now (window 0)."""
        if value == self.stable:
            self.candidate = None  # a flap back before the window ended: nothing happened
            return False
        if self.candidate != value:
            self.candidate, self.candidate_since_ms = value, time_ms
        return self.advance(time_ms, window_ms)

    def advance(self, now_ms: int, window_ms: int) -> bool:
        """Promote the candidate if it has held for the window; True if the state changed."""
        if self.candidate is None or now_ms < self.candidate_since_ms + window_ms:
            return False
        self.stable, self.stable_since_ms = self.candidate, self.candidate_since_ms
        self.candidate = None
        return True

    @property
    def waiting(self) -> bool:
        return self.candidate is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Debouncer:
        return cls(**data)
