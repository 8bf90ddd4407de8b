"""Adapters: slot sensors' JSON lines, DeepStream-like camera detections (personal fields
dropped), and line sources (resumable file, FIFO)."""

from __future__ import annotations

import base64
import json
import os
import threading
from datetime import UTC, datetime

import pytest

from edge_oracle.adapters.camera import parse_camera_line
from edge_oracle.adapters.slot_sensors import parse_slot_line
from edge_oracle.adapters.sources import LineSource
from edge_oracle.errors import ConfigError, ReadingError

PNG = b"\x89PNG\r\n\x1a\nnot-really-but-bytes"


def test_slot_line_with_iso_time_and_with_epoch_ms():
    reading, dropped = parse_slot_line(
        '{"sensor":"mag-0037","slot":37,"occupied":true,"ts":"2026-11-24T08:01:02.123+09:00",'
        '"kind":"magnetometer","heartbeat":false}'
    )
    assert (reading.sensor, reading.slot, reading.occupied, reading.heartbeat) == (
        "mag-0037",
        37,
        True,
        False,
    )
    # 08:01:02.123 KST is 23:01:02.123 UTC the day before.
    utc = datetime(2026, 11, 23, 23, 1, 2, 123_000, tzinfo=UTC)
    assert reading.ts_ms == int(utc.timestamp()) * 1000 + 123
    assert dropped == []
    epoch, _ = parse_slot_line(
        '{"sensor":"u-1","slot":"5","occupied":false,"ts":1795993262123,"kind":"ultrasonic"}'
    )
    assert (epoch.kind, epoch.slot, epoch.ts_ms) == ("ultrasonic", 5, 1_795_993_262_123)


@pytest.mark.parametrize(
    ("line", "reason", "words"),
    [
        ("{nope", "bad_json", "not JSON"),
        ("[1,2]", "bad_json", "one JSON object"),
        ('{"slot":1,"occupied":true,"ts":1}', "missing_field", "'sensor' is missing"),
        ('{"sensor":"m","slot":1,"occupied":"yes","ts":1}', "bad_field", "'occupied' must be bool"),
        (
            '{"sensor":"m","slot":-3,"occupied":true,"ts":1}',
            "bad_field",
            "slot must be a parking slot id",
        ),
        (
            '{"sensor":"m","slot":1,"occupied":true,"ts":"2026-11-24T08:00:00"}',
            "bad_timestamp",
            "no UTC offset",
        ),
        (
            '{"sensor":"m","slot":1,"occupied":true,"ts":"yesterday"}',
            "bad_timestamp",
            "not ISO 8601",
        ),
        (
            '{"sensor":"m","slot":1,"occupied":true,"ts":1,"kind":"lidar"}',
            "bad_field",
            "kind 'lidar'",
        ),
    ],
)
def test_malformed_slot_lines_name_the_problem(line, reason, words):
    with pytest.raises(ReadingError) as caught:
        parse_slot_line(line)
    assert caught.value.reason == reason
    assert words in str(caught.value)


@pytest.mark.parametrize("parse", [parse_slot_line, parse_camera_line], ids=["slot", "camera"])
@pytest.mark.parametrize(
    "line",
    ["[" * 100_000 + "]" * 100_000, '{"sensor": ' + '{"a": ' * 40 + "1" + "}" * 41],
    ids=["beyond-the-parser", "beyond-the-limit"],
)
def test_json_nested_too_deep_is_a_bad_json_line(parse, line):
    # A RecursionError here used to stop the ingest thread, and with it the daemon.
    with pytest.raises(ReadingError) as caught:
        parse(line)
    assert caught.value.reason == "bad_json"
    assert "nested too deep" in str(caught.value)


def camera(**fields) -> str:
    base = {
        "sensor": {"id": "cam-03"},
        "place": {"id": "37"},
        "object": {"vehicle": {"type": "car", "license": "12가3456", "color": "white"}},
        "event": {"type": "illegal_parking"},
        "confidence": 0.93,
        "@timestamp": "2026-11-24T08:01:02Z",
        "image": base64.b64encode(PNG).decode(),
        "location": {"lat": 37.5031, "lon": 126.7872},
        "licensePlate": "12가3456",
        "face": {"bbox": [1, 2, 3, 4]},
        "driverName": "Hong Gildong",
    }
    base.update(fields)
    return json.dumps(base, ensure_ascii=False)


def test_camera_detection_keeps_only_the_allowed_fields_and_drops_plates_and_faces():
    detection, dropped = parse_camera_line(camera())
    assert detection.sensor == "cam-03" and detection.slot == 37
    assert detection.event == "illegal_parking" and detection.vehicle_type == "car"
    assert detection.confidence_bps == 9300 and detection.image == PNG
    assert (detection.lat_e6, detection.lon_e6) == (37_503_100, 126_787_200)
    assert sorted(dropped) == ["driverName", "face", "licensePlate", "object.vehicle.license"]
    assert "12가3456" not in repr(detection) and "Hong" not in repr(detection)


def test_camera_image_path_is_read_relative_to_the_input(tmp_path):
    (tmp_path / "stills").mkdir()
    (tmp_path / "stills" / "a.png").write_bytes(PNG)
    detection, _ = parse_camera_line(camera(image=None, imagePath="stills/a.png"), tmp_path)
    assert detection.image == PNG
    with pytest.raises(ReadingError) as caught:
        parse_camera_line(camera(image=None, imagePath="stills/missing.png"), tmp_path)
    assert caught.value.reason == "bad_image"


def test_camera_events_moving_is_ignored_and_unknown_is_malformed():
    assert parse_camera_line(camera(event={"type": "moving"}))[0] is None
    parked, _ = parse_camera_line(camera(event={"type": "parked"}, image=None))
    assert parked.event == "parked" and parked.image is None
    with pytest.raises(ReadingError, match="event.type 'teleported'"):
        parse_camera_line(camera(event={"type": "teleported"}))
    with pytest.raises(ReadingError, match="needs image or imagePath"):
        parse_camera_line(camera(image=None))
    with pytest.raises(ReadingError, match="confidence must be between 0 and 1"):
        parse_camera_line(camera(confidence=93))


def test_file_source_resumes_from_a_committed_offset(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a":1}\n\n\xff\xfe\n{"b":2}\n')
    source = LineSource(str(path), "slot")
    assert source.resumable
    lines = list(source.lines((0, 0), threading.Event()))
    assert [(line.number, line.text) for line in lines] == [
        (1, '{"a":1}'),
        (2, ""),
        (3, None),
        (4, '{"b":2}'),
    ]
    resumed = list(source.lines((lines[1].number, lines[1].offset), threading.Event()))
    assert [line.number for line in resumed] == [3, 4]


def test_fifo_source_reads_a_serial_like_stream(tmp_path):
    fifo = tmp_path / "serial"
    os.mkfifo(fifo)
    source = LineSource(str(fifo), "slot")
    assert not source.resumable

    def writer() -> None:
        with open(fifo, "w") as handle:
            handle.write('{"x":1}\n{"x":2}\n')

    thread = threading.Thread(target=writer)
    thread.start()
    lines = list(source.lines((5, 500), threading.Event()))  # a stream ignores offsets
    thread.join(5)
    assert [(line.number, line.text) for line in lines] == [(1, '{"x":1}'), (2, '{"x":2}')]


def test_missing_input_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        LineSource(str(tmp_path / "nope"), "slot")
