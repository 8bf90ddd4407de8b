"""What the adapters produce: one reading of a slot sensor, or one camera detection. Only the
fields listed here ever leave an adapter, so a plate or a face in the input cannot be forwarded."""

from __future__ import annotations

from dataclasses import dataclass

from citypass.protocol.sensor_events import ZERO_HASH

SLOT_SENSOR_KINDS = ("magnetometer", "ultrasonic")


@dataclass(frozen=True)
class SlotReading:
    """A magnetometer or ultrasonic sensor's view of its slot."""

    sensor: str
    kind: str
    slot: int
    occupied: bool
    ts_ms: int
    heartbeat: bool = False
    decommissioned: bool = False


@dataclass(frozen=True)
class CameraDetection:
    """One detection of an AI camera. `event` is the camera's event type, lower-case."""

    sensor: str
    slot: int
    event: str
    vehicle_type: str
    confidence_bps: int
    ts_ms: int
    lat_e6: int = 0
    lon_e6: int = 0
    image: bytes | None = None
    plate_tag: bytes = ZERO_HASH  # the keyed-hash tag of a plate read (the plate is dropped)


Reading = SlotReading | CameraDetection
