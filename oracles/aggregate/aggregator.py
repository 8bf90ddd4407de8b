"""Per-slot aggregation state: events in (in inbox order), observations out (per report).

Event handling:
- park_start / park_end (any source): an occupancy observation, debounced per source, then
  reconciled between sensor and camera (oracles.aggregate.reconcile).
- scheduled_report (heartbeat): marks the slot observed with its current state (refreshing its
  freshness on chain) without changing it; only a slot the daemon knows nothing about yet takes
  the heartbeat's value.
- comms_lost / comms_restored / decommissioned: counted, no state change.
- incident types: filed as incidents elsewhere, no state change here.
The whole state is JSON (snapshot/restore) so it is checkpointed with each report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oracles.aggregate.debounce import Debouncer
from oracles.aggregate.reconcile import reconcile

OCCUPANCY_TYPES = {"park_start": True, "park_end": False}


@dataclass
class SlotState:
    sensor: Debouncer = field(default_factory=Debouncer)
    camera: Debouncer = field(default_factory=Debouncer)
    committed: bool | None = None
    overridden: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "sensor": self.sensor.to_json(),
            "camera": self.camera.to_json(),
            "committed": self.committed,
            "overridden": self.overridden,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SlotState:
        return cls(
            Debouncer.from_json(data["sensor"]),
            Debouncer.from_json(data["camera"]),
            data["committed"],
            data["overridden"],
        )


@dataclass
class Observation:
    occupied: bool
    event_time_ms: int  # the event that caused it (a change) or confirmed it (a heartbeat)
    changed: bool


class Aggregator:
    def __init__(self, debounce_ms: int, reconcile_ms: int, camera_min_confidence_bps: int) -> None:
        self.debounce_ms = debounce_ms
        self.reconcile_ms = reconcile_ms
        self.camera_min_confidence_bps = camera_min_confidence_bps
        self.slots: dict[int, SlotState] = {}
        self.observed: dict[int, Observation] = {}
        self.waiting: set[int] = set()  # slots with a debounce or reconcile still open
        self.counts = {"disagreement": 0, "comms_lost": 0, "low_confidence": 0, "flaps": 0}

    # ------------------------------------------------------------------------------- input

    def feed(
        self,
        event_type: str,
        source_type: str,
        slot_id: int,
        occupied: bool,
        confidence_bps: int,
        time_ms: int,
    ) -> None:
        if event_type == "comms_lost":
            self.counts["comms_lost"] += 1
            return
        if slot_id == 0:
            return
        if event_type == "scheduled_report":
            state = self.slots.setdefault(slot_id, SlotState())
            if state.committed is None:
                state.sensor.feed(occupied, time_ms, 0)
                self._settle(slot_id, time_ms, time_ms)
            elif slot_id not in self.observed:
                self.observed[slot_id] = Observation(state.committed, time_ms, False)
            return
        if event_type not in OCCUPANCY_TYPES:
            return
        value = OCCUPANCY_TYPES[event_type]
        state = self.slots.setdefault(slot_id, SlotState())
        if source_type == "camera":
            if confidence_bps < self.camera_min_confidence_bps:
                self.counts["low_confidence"] += 1
                return
            source = state.camera
        else:
            source = state.sensor
        if source.waiting and value == source.stable:
            self.counts["flaps"] += 1  # back to the stable state before the window ended
        source.feed(value, time_ms, self.debounce_ms)
        self._settle(slot_id, time_ms, time_ms)

    # ------------------------------------------------------------------------------ output

    def collect(self, now_ms: int) -> dict[int, Observation]:
        """Promote whatever has held long enough by `now_ms`; return and clear the
        observations since the last collect."""
        for slot_id in list(self.waiting):
            self._settle(slot_id, now_ms, None)
        out, self.observed = self.observed, {}
        return out

    def _settle(self, slot_id: int, now_ms: int, event_ms: int | None) -> None:
        state = self.slots[slot_id]
        state.sensor.advance(now_ms, self.debounce_ms)
        state.camera.advance(now_ms, self.debounce_ms)
        value, overridden = reconcile(state.sensor, state.camera, now_ms, self.reconcile_ms)
        if overridden and not state.overridden:
            self.counts["disagreement"] += 1
        state.overridden = overridden
        if value is not None and value != state.committed:
            state.committed = value
            cause = max(state.sensor.stable_since_ms, state.camera.stable_since_ms)
            if overridden:
                cause = state.camera.stable_since_ms
            elif state.sensor.stable is not None:
                cause = state.sensor.stable_since_ms
            self.observed[slot_id] = Observation(value, cause, True)
        # Keep re-checking while a candidate waits or a camera disagreement may still override.
        disagreeing = (
            state.camera.stable is not None
            and state.sensor.stable is not None
            and state.camera.stable != state.sensor.stable
            and not overridden
            and state.camera.stable_since_ms > state.sensor.stable_since_ms
        )
        if state.sensor.waiting or state.camera.waiting or disagreeing:
            self.waiting.add(slot_id)
        else:
            self.waiting.discard(slot_id)

    # -------------------------------------------------------------------------- checkpoints

    def snapshot(self) -> dict[str, Any]:
        return {
            "slots": {str(k): v.to_json() for k, v in self.slots.items()},
            "waiting": sorted(self.waiting),
            "counts": dict(self.counts),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.slots = {int(k): SlotState.from_json(v) for k, v in data["slots"].items()}
        self.waiting = set(data["waiting"])
        self.counts.update(data.get("counts", {}))
        self.observed = {}
