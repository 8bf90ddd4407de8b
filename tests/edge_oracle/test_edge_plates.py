"""Plates at the edge: a real `citypass-edge run` reads camera lines carrying plates, hashes
each with the month key of the reading's KST month (from its month keys file) and drops the
plate. Only the tag travels, inside the signed event; a reading of a month without a key, or a
plate of no known format, goes on without a tag. No plate is in the events, the outbox, the
data directory or the daemon's output."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from citypass.core.timeunits import month_of
from citypass.protocol.plate_tags import month_key, plate_tag, save_month_keys
from citypass.protocol.sensor_events import parse_event, recover_signer
from edge_oracle.adapters.camera import parse_camera_line
from edge_oracle.cli import main
from edge_oracle.plate_hasher import PlateHasher
from edge_oracle.testing import ContractReceiver, free_port
from tests.edge_oracle.test_edge_daemon import DOMAIN, ROOT

SECRET = bytes(range(1, 33))
DEC_1 = 1_796_050_800_000  # 2026-12-01 00:00 KST, in ms
JAN_1 = 1_798_729_200_000  # 2027-01-01 00:00 KST
STILL = base64.b64encode(b"\x89PNG a still").decode()


def _line(slot: int, plate: str, ts_ms: int, event: str = "parked") -> str:
    return json.dumps(
        {"sensor": {"id": "cam-01"}, "place": {"id": str(slot)},
         "object": {"vehicle": {"type": "car", "license": plate}}, "event": {"type": event},
         "confidence": 0.95, "@timestamp": ts_ms, "image": STILL},
        ensure_ascii=False,
    )  # fmt: skip


PLATES = {1: ("12가 3456", DEC_1 + 3_600_000), 2: ("서울34나5678", DEC_1 + 7_200_000),
          3: ("77다1234", JAN_1 + 3_600_000), 4: ("not a plate", DEC_1 + 9_000_000)}  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("plates")
    assert month_of(DEC_1 // 1000) == "2026-12" and month_of(JAN_1 // 1000) == "2027-01"
    devices = base / "devices.json"
    made = CliRunner().invoke(
        main, ["devices", "create", "--out", str(devices), "--slots", "20", "--throwaway"]
    )
    assert made.exit_code == 0, made.output
    data_dir = base / "edge"
    # Provisioned for December only: the January reading finds no key.
    save_month_keys(data_dir / "plate-keys.json", {"2026-12": month_key(SECRET, "2026-12")})
    cameras = base / "camera.jsonl"
    cameras.write_text("".join(_line(s, p, t) + "\n" for s, (p, t) in PLATES.items()))
    receiver = ContractReceiver(DOMAIN).start()
    command = [
        sys.executable, "-m", "edge_oracle.cli", "run", "--data-dir", str(data_dir),
        "--oracle-url", receiver.url, "--chain-id", str(DOMAIN.chain_id),
        "--registry", DOMAIN.registry, "--devices-file", str(devices),
        "--cameras", str(cameras), "--listen-port", str(free_port()), "--exit-when-done",
    ]  # fmt: skip
    result = subprocess.run(
        command, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    yield receiver, result, data_dir
    receiver.close()


def _by_slot(receiver: ContractReceiver) -> dict[int, dict]:
    return {w["slotId"]: w for w in receiver.events.values() if w["eventType"] == "park_start"}


def test_a_plate_becomes_the_tag_of_its_readings_month(run):
    receiver, _result, _data_dir = run
    events = _by_slot(receiver)
    key = month_key(SECRET, "2026-12")
    assert events[1]["plateTag"] == "0x" + plate_tag(key, "12가3456").hex()
    assert events[2]["plateTag"] == "0x" + plate_tag(key, "서울34나5678").hex()
    # The tagged arrival carries its still (evidence for a mismatch) and a valid signature.
    parsed = parse_event(events[1])
    assert parsed.evidence == base64.b64decode(STILL)
    assert recover_signer(parsed, DOMAIN).lower() == parsed.event.device


def test_without_a_month_key_or_with_a_bad_plate_no_tag_goes_on(run):
    receiver, result, _data_dir = run
    events = _by_slot(receiver)
    assert "plateTag" not in events[3] and "plateTag" not in events[4]
    assert "evidence" not in events[3]  # an untagged arrival needs no still
    assert "has no key for that month" in result.stderr and "2027-01" in result.stderr


def test_no_plate_anywhere_the_edge_writes(run):
    receiver, result, data_dir = run
    sent = json.dumps(list(receiver.events.values()), ensure_ascii=False)
    files = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    for plate, _ in PLATES.values():
        for form in {plate, plate.replace(" ", "")}:
            assert form not in sent and form not in result.stderr + result.stdout
            assert form.encode() not in files
            assert form.encode().hex() not in files.decode("latin-1")
    assert "dropped personal fields object.vehicle.license" in result.stderr


def test_the_adapter_drops_the_plate_from_the_detection(tmp_path):
    save_month_keys(tmp_path / "k.json", {"2026-12": month_key(SECRET, "2026-12")})
    hasher = PlateHasher(tmp_path / "k.json")
    detection, dropped = parse_camera_line(_line(5, "12가3456", DEC_1), None, hasher)
    assert detection is not None and dropped == ["object.vehicle.license"]
    assert detection.plate_tag == plate_tag(month_key(SECRET, "2026-12"), "12가3456")
    assert "12가3456" not in repr(detection)
    # Without month keys the plate is dropped all the same.
    bare, _ = parse_camera_line(_line(5, "12가3456", DEC_1))
    assert bare is not None and bare.plate_tag == b"\x00" * 32


def test_a_new_month_keys_file_is_picked_up_without_a_restart(tmp_path):
    path = tmp_path / "plate-keys.json"
    hasher = PlateHasher(path)
    assert hasher.tag("12가3456", JAN_1) is None
    save_month_keys(path, {"2027-01": month_key(SECRET, "2027-01")})
    assert hasher.tag("12가3456", JAN_1) == plate_tag(month_key(SECRET, "2027-01"), "12가3456")
    assert hasher.months == ["2027-01"]


def test_a_broken_month_keys_file_keeps_the_loaded_keys(tmp_path):
    path = tmp_path / "plate-keys.json"
    save_month_keys(path, {"2026-12": month_key(SECRET, "2026-12")})
    hasher = PlateHasher(path)
    path.write_text('{"version": 1, "months": {"2026-12": "zz"}}')
    assert hasher.tag("12가3456", DEC_1) is not None
    assert hasher.months == ["2026-12"]
