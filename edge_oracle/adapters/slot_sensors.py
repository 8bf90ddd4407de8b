"""Magnetometer / ultrasonic readings, one JSON object per line:

    {"sensor":"mag-0037","slot":37,"occupied":true,"ts":"2026-11-24T08:01:02.123+09:00",
     "kind":"magnetometer","heartbeat":false}

`ts` may also be epoch milliseconds; `kind` defaults to magnetometer; `heartbeat` to false;
`"status":"decommissioned"` marks a sensor taken out of service.
"""

from __future__ import annotations

from edge_oracle.adapters.fields import load_json_object, require, sensor_id, slot_id, timestamp_ms
from edge_oracle.errors import ReadingError
from edge_oracle.readings import SLOT_SENSOR_KINDS, SlotReading


def parse_slot_line(line: str) -> tuple[SlotReading, list[str]]:
    """The reading and the personal-looking keys that were dropped; ReadingError if malformed."""
    obj, dropped = load_json_object(line)
    kind = obj.get("kind", "magnetometer")
    if kind not in SLOT_SENSOR_KINDS:
        raise ReadingError(
            "bad_field", f"kind {kind!r} is not one of {', '.join(SLOT_SENSOR_KINDS)}"
        )
    status = obj.get("status", "active")
    if status not in ("active", "decommissioned"):
        raise ReadingError("bad_field", f"status {status!r} must be active or decommissioned")
    heartbeat = obj.get("heartbeat", False)
    if not isinstance(heartbeat, bool):
        raise ReadingError("bad_field", "field 'heartbeat' must be true or false")
    reading = SlotReading(
        sensor=sensor_id(require(obj, "sensor", str), "sensor"),
        kind=kind,
        slot=slot_id(require(obj, "slot", (int, str)), "slot"),
        occupied=require(obj, "occupied", bool),
        ts_ms=timestamp_ms(require(obj, "ts", (int, str)), "ts"),
        heartbeat=heartbeat,
        decommissioned=status == "decommissioned",
    )
    return reading, dropped
