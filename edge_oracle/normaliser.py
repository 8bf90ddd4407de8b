"""Readings → unsigned CDS events (park_start / park_end / scheduled_report / comms_lost /
comms_restored / decommissioned) and incident events.

State per sensor (last known occupancy per slot, last reading time, whether comms are lost) is
kept here and committed with the outbox insert, so a restart does not turn a repeated reading
into a second park event."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from citypass.protocol.sensor_events import SOURCE_TYPES, ZERO_HASH, CameraFields, evidence_hash
from edge_oracle.adapters.camera import INCIDENT_EVENTS, OCCUPANCY_EVENTS
from edge_oracle.readings import CameraDetection, Reading, SlotReading


@dataclass(frozen=True)
class Draft(CameraFields):
    """An event before the outbox gives it a device sequence and the device key signs it."""

    sensor: str
    event_type: str
    source_type: str
    slot_id: int
    event_time_ms: int
    occupied: bool = False
    evidence: bytes | None = None


@dataclass
class SensorState:
    source_type: str
    last_seen_ms: int = 0
    lost: bool = False
    decommissioned: bool = False
    slots: dict[str, bool] = field(default_factory=dict)  # JSON keys: slot ids as strings

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SensorState:
        return cls(**raw)


class Normaliser:
    def __init__(self, comms_lost_after_ms: int, states: dict[str, SensorState] | None = None):
        self.comms_lost_after_ms = comms_lost_after_ms
        self.states: dict[str, SensorState] = dict(states or {})
        self.changed: set[str] = set()
        self.duplicates = 0

    def take_changed(self) -> dict[str, SensorState]:
        """States changed since the last call: the outbox commits them with the events."""
        changed = {sensor: self.states[sensor] for sensor in self.changed}
        self.changed = set()
        return changed

    def process(self, reading: Reading) -> list[Draft]:
        source = "camera" if isinstance(reading, CameraDetection) else reading.kind
        state = self.states.get(reading.sensor)
        if state is None:
            state = self.states[reading.sensor] = SensorState(SOURCE_TYPES[source])
        self.changed.add(reading.sensor)
        drafts = self._comms(reading.sensor, state, reading.ts_ms)
        if isinstance(reading, SlotReading):
            drafts += self._slot(state, reading)
        else:
            drafts += self._camera(state, reading)
        state.last_seen_ms = max(state.last_seen_ms, reading.ts_ms)
        return drafts

    def tick(self, now_ms: int) -> list[Draft]:
        """comms_lost for every sensor silent for longer than the threshold at `now_ms`."""
        drafts: list[Draft] = []
        for sensor, state in self.states.items():
            silent = now_ms - state.last_seen_ms > self.comms_lost_after_ms
            if state.last_seen_ms and silent and not state.lost and not state.decommissioned:
                drafts.append(self._lost(sensor, state))
                self.changed.add(sensor)
        return drafts

    # ------------------------------------------------------------------------------ internals

    def _comms(self, sensor: str, state: SensorState, ts_ms: int) -> list[Draft]:
        drafts: list[Draft] = []
        gap = ts_ms - state.last_seen_ms
        if state.last_seen_ms and not state.lost and gap > self.comms_lost_after_ms:
            drafts.append(self._lost(sensor, state))
        if state.lost:
            state.lost = False
            drafts.append(self._status(sensor, state, "comms_restored", ts_ms))
        return drafts

    def _lost(self, sensor: str, state: SensorState) -> Draft:
        state.lost = True
        # Dated when the silence crossed the threshold, not when it was noticed.
        return self._status(
            sensor, state, "comms_lost", state.last_seen_ms + self.comms_lost_after_ms
        )

    def _status(self, sensor: str, state: SensorState, kind: str, ts_ms: int) -> Draft:
        slot, occupied = next(iter(state.slots.items()), ("0", False))
        return Draft(sensor, kind, state.source_type, int(slot), ts_ms, occupied)

    def _slot(self, state: SensorState, reading: SlotReading) -> list[Draft]:
        key = str(reading.slot)
        known = state.slots.get(key)
        state.slots[key] = reading.occupied
        if reading.decommissioned:
            if state.decommissioned:
                self.duplicates += 1
                return []
            state.decommissioned = True
            return [self._draft(state, reading, "decommissioned")]
        state.decommissioned = False
        if reading.heartbeat:
            return [self._draft(state, reading, "scheduled_report")]
        if known is reading.occupied:
            self.duplicates += 1  # the same state again: not a new arrival or departure
            return []
        return [self._draft(state, reading, "park_start" if reading.occupied else "park_end")]

    def _draft(self, state: SensorState, reading: SlotReading, kind: str) -> Draft:
        return Draft(
            reading.sensor, kind, state.source_type, reading.slot, reading.ts_ms, reading.occupied
        )

    def _camera(self, state: SensorState, detection: CameraDetection) -> list[Draft]:
        common: dict[str, Any] = {
            "sensor": detection.sensor,
            "source_type": state.source_type,
            "slot_id": detection.slot,
            "event_time_ms": detection.ts_ms,
            "confidence_bps": detection.confidence_bps,
            "lat_e6": detection.lat_e6,
            "lon_e6": detection.lon_e6,
            "vehicle_type": detection.vehicle_type,
            "plate_tag": detection.plate_tag,
        }
        if detection.event in INCIDENT_EVENTS:
            image = detection.image or b""
            return [
                Draft(
                    event_type=detection.event,
                    occupied=detection.event == "illegal_parking",
                    evidence_hash=evidence_hash(image),
                    evidence=image,
                    **common,
                )
            ]
        occupied = OCCUPANCY_EVENTS[detection.event]
        key = str(detection.slot)
        if state.slots.get(key) is occupied:
            self.duplicates += 1
            return []
        state.slots[key] = occupied
        if occupied and detection.plate_tag != ZERO_HASH and detection.image:
            # An arrival whose plate was read carries its still: if the tag matches no lessee
            # of the slot, the oracle files an unauthorised occupancy with it as evidence.
            common["evidence_hash"] = evidence_hash(detection.image)
            common["evidence"] = detection.image
        return [
            Draft(event_type="park_start" if occupied else "park_end", occupied=occupied, **common)
        ]
