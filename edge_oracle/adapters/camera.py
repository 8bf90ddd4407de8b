"""AI-camera detections in a DeepStream-like JSON object per line:

    {"sensor":{"id":"cam-03"},"place":{"id":"37"},"object":{"vehicle":{"type":"car"}},
     "event":{"type":"illegal_parking"},"confidence":0.93,"@timestamp":"2026-11-24T08:01:02Z",
     "image":"<base64 PNG/JPEG>" | "imagePath":"stills/0001.png",
     "location":{"lat":37.5031,"lon":126.7872}}

plus, when the camera reads plates, `object.vehicle.license` (DeepStream's name) or
`object.vehicle.plate`.

Only the fields above are read. A plate, a face or any other personal field in the input is
never copied (DESIGN §6); the parser reports which keys it dropped so they can be counted. A
plate is hashed here, with the month key of the reading's KST month (edge_oracle/plate_hasher),
and only its tag goes on; without a key for that month it is dropped untagged.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from citypass.protocol.sensor_events import MAX_EVIDENCE_BYTES, VEHICLE_TYPES, ZERO_HASH
from edge_oracle.adapters.fields import load_json_object, require, sensor_id, slot_id, timestamp_ms
from edge_oracle.errors import ReadingError
from edge_oracle.plate_hasher import PlateHasher
from edge_oracle.readings import CameraDetection

# Camera event types we act on: incidents, and a bay turning occupied / free.
INCIDENT_EVENTS = ("illegal_parking", "illegal_dumping", "jaywalking")
OCCUPANCY_EVENTS = {"parked": True, "entry": True, "left": False, "exit": False, "empty": False}
# Events a camera emits that carry nothing for the ledger (a vehicle driving past).
IGNORED_EVENTS = ("moving", "stopped", "tracking")
_VEHICLE_ALIASES = {"sedan": "car", "suv": "car", "scooter": "kick_scooter", "pedestrian": "person"}


def parse_camera_line(
    line: str, image_root: Path | None = None, plates: PlateHasher | None = None
) -> tuple[CameraDetection | None, list[str]]:
    """The detection (None for an event type that is ignored) and the personal-looking keys that
    were dropped; ReadingError if malformed. `imagePath` is resolved against `image_root`; a
    plate becomes a tag with `plates` (without it, it is only dropped)."""
    obj, dropped = load_json_object(line)
    event = str(_nested(obj, "event", "type")).lower()
    if event in IGNORED_EVENTS:
        return None, dropped
    if event not in INCIDENT_EVENTS and event not in OCCUPANCY_EVENTS:
        known = ", ".join((*INCIDENT_EVENTS, *OCCUPANCY_EVENTS, *IGNORED_EVENTS))
        raise ReadingError("bad_field", f"event.type {event!r} is not one of {known}")
    place = obj.get("place")
    if isinstance(place, dict):
        place = place.get("id", 0)
    slot = 0 if place in (None, "", 0) else slot_id(place, "place.id")
    if event in OCCUPANCY_EVENTS and slot == 0:
        raise ReadingError("bad_field", f"a {event!r} event needs place.id (the parking spot id)")
    confidence = require(obj, "confidence", (int, float))
    if not 0 <= confidence <= 1:
        raise ReadingError("bad_field", "confidence must be between 0 and 1")
    image = _image(obj, image_root)
    if event in INCIDENT_EVENTS and image is None:
        raise ReadingError("missing_field", f"an {event} incident needs image or imagePath")
    lat, lon = _location(obj)
    ts_ms = timestamp_ms(require(obj, "@timestamp", (int, str)), "@timestamp")
    plate = _plate(obj)
    tag = plates.tag(plate, ts_ms) if plates is not None and plate is not None else None
    del plate  # nothing below may carry it on
    detection = CameraDetection(
        sensor=sensor_id(_nested(obj, "sensor", "id"), "sensor.id"),
        slot=slot,
        event=event,
        vehicle_type=_vehicle_type(obj),
        confidence_bps=int(round(confidence * 10_000)),
        ts_ms=ts_ms,
        lat_e6=lat,
        lon_e6=lon,
        image=image,
        plate_tag=tag or ZERO_HASH,
    )
    return detection, dropped


def _plate(obj: dict[str, Any]) -> Any:
    """The plate the camera read, if any (never logged, never kept)."""
    thing = obj.get("object")
    vehicle = thing.get("vehicle") if isinstance(thing, dict) else None
    if not isinstance(vehicle, dict):
        return None
    for name in ("license", "plate"):
        if vehicle.get(name) not in (None, ""):
            return vehicle[name]
    return None


def _nested(obj: dict[str, Any], outer: str, inner: str) -> Any:
    value = obj.get(outer)
    if isinstance(value, dict):
        value = value.get(inner)
    if value in (None, ""):
        raise ReadingError("missing_field", f"field {outer}.{inner} is missing")
    return value


def _vehicle_type(obj: dict[str, Any]) -> str:
    thing = obj.get("object")
    if not isinstance(thing, dict):
        return ""
    vehicle = thing.get("vehicle")
    kind = vehicle.get("type", "") if isinstance(vehicle, dict) else ""
    if not kind and isinstance(thing.get("person"), dict):
        kind = "person"
    kind = _VEHICLE_ALIASES.get(str(kind).lower(), str(kind).lower())
    return kind if kind in VEHICLE_TYPES else "other"


def _location(obj: dict[str, Any]) -> tuple[int, int]:
    where = obj.get("location")
    if where is None:
        return 0, 0
    if not isinstance(where, dict):
        raise ReadingError("bad_field", "location must be an object with lat and lon")
    lat, lon = where.get("lat"), where.get("lon")
    for name, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > limit:
            raise ReadingError("bad_field", f"location.{name} must be degrees within ±{limit}")
    assert isinstance(lat, (int, float)) and isinstance(lon, (int, float))  # checked above
    return int(round(lat * 1e6)), int(round(lon * 1e6))


def _image(obj: dict[str, Any], image_root: Path | None) -> bytes | None:
    if obj.get("image") not in (None, ""):
        text = obj["image"]
        if not isinstance(text, str):
            raise ReadingError("bad_field", "image must be a base64 string")
        if len(text) > MAX_EVIDENCE_BYTES * 4 // 3 + 4:
            raise ReadingError("oversized", f"image is larger than {MAX_EVIDENCE_BYTES} bytes")
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ReadingError("bad_field", f"image is not base64 ({exc})") from exc
    if obj.get("imagePath") not in (None, ""):
        path = Path(str(obj["imagePath"]))
        if not path.is_absolute() and image_root is not None:
            path = image_root / path
        try:
            if path.stat().st_size > MAX_EVIDENCE_BYTES:
                raise ReadingError("oversized", f"{path} is larger than {MAX_EVIDENCE_BYTES} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise ReadingError(
                "bad_image", f"cannot read imagePath {path}: {exc.strerror}"
            ) from exc
    return None
