"""Write a simulated day as the adapters' input: slot sensors' JSON lines, camera detections
(DeepStream-like, stills as PNG files beside them) and the device bindings (no keys)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from citypass.core.timeunits import KST
from edge_oracle.readings import CameraDetection, SlotReading
from edge_oracle.simulator.day import SimulatedDay

SLOT_FILE = "magnetometer.jsonl"
CAMERA_FILE = "camera.jsonl"
DEVICES_FILE = "devices.json"
IMAGE_DIR = "images"


def iso_kst(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, KST).isoformat(timespec="milliseconds")


def slot_line(reading: SlotReading) -> dict:
    return {
        "sensor": reading.sensor,
        "slot": reading.slot,
        "occupied": reading.occupied,
        "ts": iso_kst(reading.ts_ms),
        "kind": reading.kind,
        "heartbeat": reading.heartbeat,
    }


def camera_line(detection: CameraDetection, image_path: str | None) -> dict:
    line: dict = {
        "sensor": {"id": detection.sensor},
        "place": {"id": str(detection.slot)} if detection.slot else {},
        "object": {"vehicle": {"type": detection.vehicle_type}} if detection.vehicle_type else {},
        "event": {"type": detection.event},
        "confidence": detection.confidence_bps / 10_000,
        "@timestamp": iso_kst(detection.ts_ms),
        "location": {"lat": detection.lat_e6 / 1e6, "lon": detection.lon_e6 / 1e6},
    }
    if image_path is not None:
        line["imagePath"] = image_path
    return line


def write_day(day: SimulatedDay, out: Path) -> dict[str, int]:
    """Files in `out`; returns how many lines / images were written."""
    (out / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    counts = {"slotLines": 0, "cameraLines": 0, "images": 0}
    with (out / SLOT_FILE).open("w") as slots, (out / CAMERA_FILE).open("w") as cameras:
        for reading in day.readings:
            if isinstance(reading, SlotReading):
                slots.write(json.dumps(slot_line(reading)) + "\n")
                counts["slotLines"] += 1
                continue
            path = None
            if reading.image is not None:
                path = f"{IMAGE_DIR}/{counts['cameraLines'] + 1:06d}.png"
                (out / path).write_bytes(reading.image)
                counts["images"] += 1
            cameras.write(json.dumps(camera_line(reading, path)) + "\n")
            counts["cameraLines"] += 1
    (out / DEVICES_FILE).write_text(json.dumps({"devices": day.layout.devices()}, indent=1) + "\n")
    return counts
