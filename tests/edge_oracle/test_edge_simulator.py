"""The Sangsalmi day simulator: deterministic, pilot-sized, commute peaks, 3 h heartbeats, an
error rate in its band, valid generated stills, no personal data; its CLI modes."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from citypass.protocol.sensor_events import EventDomain
from edge_oracle.adapters.camera import parse_camera_line
from edge_oracle.adapters.slot_sensors import parse_slot_line
from edge_oracle.cli import main
from edge_oracle.readings import CameraDetection, SlotReading
from edge_oracle.simulator import SimConfig, plan_day, simulate_day
from edge_oracle.simulator.day import HEARTBEAT_MS, HOUR_MS
from edge_oracle.simulator.png import decode_png
from edge_oracle.testing import ContractReceiver


@pytest.fixture(scope="module")
def day():
    return plan_day(SimConfig(seed=11))


def test_same_seed_same_day_other_seed_other_day():
    small = SimConfig(seed=5, slots=30, vehicles=42)
    assert list(simulate_day(small)) == list(simulate_day(small))
    assert list(simulate_day(small)) != list(simulate_day(SimConfig(seed=6, slots=30, vehicles=42)))


def test_a_pilot_sized_day(day):
    assert len(day.layout.magnetometers) == 280
    vehicles = {s.vehicle for s in day.sessions}
    assert 300 <= len(vehicles) <= 389
    changes = sum(1 for r in day.readings if isinstance(r, SlotReading) and not r.heartbeat)
    heartbeats = sum(1 for r in day.readings if isinstance(r, SlotReading) and r.heartbeat)
    per_space = (changes + heartbeats) / 280
    assert 10 <= per_space <= 18  # DESIGN §4: about 14 events per space per day
    times = [r.ts_ms for r in day.readings]
    assert times == sorted(times)


def test_error_rate_stays_in_the_configured_band(day):
    assert 0.02 <= day.error_share <= 0.05
    assert set(day.errors) <= {"missed", "flap", "false_reading"} and len(day.errors) == 3
    clean = plan_day(SimConfig(seed=11, error_rate=0.0))
    assert clean.error_share == 0
    noisy = plan_day(SimConfig(seed=11, error_rate=0.05))
    assert 0.035 <= noisy.error_share <= 0.065


def test_arrivals_and_departures_peak_at_the_commutes(day):
    t0 = int(day.config.start.timestamp() * 1000)
    arrivals, departures = Counter(), Counter()
    for session in day.sessions:
        if session.arrive_ms > t0:
            arrivals[(session.arrive_ms - t0) // HOUR_MS] += 1
        if session.leave_ms < t0 + 24 * HOUR_MS:
            departures[(session.leave_ms - t0) // HOUR_MS] += 1
    night = sum(arrivals[h] for h in range(0, 5)) + sum(departures[h] for h in range(0, 5))
    assert night <= 5
    morning_in = sum(arrivals[h] for h in (8, 9))
    evening_in = sum(arrivals[h] for h in (18, 19))
    midday_in = sum(arrivals[h] for h in (13, 14))
    assert morning_in > 1.3 * midday_in and evening_in > midday_in
    assert sum(departures[h] for h in (7, 8)) > 1.3 * sum(departures[h] for h in (13, 14))
    assert sum(departures[h] for h in (17, 18)) > sum(departures[h] for h in (13, 14))


def test_every_sensor_sends_a_heartbeat_every_three_hours(day):
    beats: dict[str, list[int]] = {}
    for r in day.readings:
        if isinstance(r, SlotReading) and r.heartbeat:
            beats.setdefault(r.sensor, []).append(r.ts_ms)
    assert len(beats) == 280
    for times in beats.values():
        assert len(times) == 8
        assert {b - a for a, b in zip(times, times[1:], strict=False)} == {HEARTBEAT_MS}


def test_camera_incidents_with_valid_generated_stills(day):
    incidents = [r for r in day.readings if isinstance(r, CameraDetection)]
    counts = Counter(r.event for r in incidents)
    assert 156 <= counts["illegal_parking"] <= 266
    assert counts["illegal_dumping"] >= 1 and counts["jaywalking"] >= 1
    for r in incidents:
        width, height, _ = decode_png(r.image)
        assert (width, height) == (64, 48)
        assert 6000 <= r.confidence_bps < 10_000
    assert len({r.image for r in incidents}) == len(incidents)  # noise: every still differs


def test_simulate_out_writes_adapter_input_without_personal_data(tmp_path):
    result = CliRunner().invoke(
        main,
        ["simulate", "--out", str(tmp_path), "--slots", "20", "--vehicles", "28", "--seed", "3"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    slot_lines = (tmp_path / "magnetometer.jsonl").read_text().splitlines()
    camera_lines = (tmp_path / "camera.jsonl").read_text().splitlines()
    assert len(slot_lines) == summary["slotLines"] and len(camera_lines) == summary["cameraLines"]
    for line in slot_lines:
        parse_slot_line(line)
    for line in camera_lines:
        detection, dropped = parse_camera_line(line, tmp_path)
        assert dropped == [] and detection.image is not None
    text = (tmp_path / "camera.jsonl").read_text().lower()
    assert "plate" not in text and "face" not in text and "licen" not in text
    devices = json.loads((tmp_path / "devices.json").read_text())["devices"]
    assert sum(1 for d in devices if d["kind"] == "magnetometer") == 20


def test_simulate_deliver_sends_a_signed_day_through_the_outbox(tmp_path):
    devices = tmp_path / "devices.json"
    runner = CliRunner()
    created = runner.invoke(
        main,
        ["devices", "create", "--out", str(devices), "--slots", "6", "--throwaway", "--seed", "1"],
    )
    assert created.exit_code == 0 and "THROWAWAY" in created.output
    exported = json.loads(
        runner.invoke(main, ["devices", "export", "--devices-file", str(devices)]).output
    )
    assert [d["slots"] for d in exported["devices"][:6]] == [[i] for i in range(1, 7)]
    assert all("privateKey" not in d for d in exported["devices"])
    domain = EventDomain(82032, "0x" + "78" * 20)
    receiver = ContractReceiver(domain).start()
    try:
        result = runner.invoke(
            main,
            [
                "simulate", "--deliver", "--slots", "6", "--vehicles", "8", "--seed", "2",
                "--data-dir", str(tmp_path / "edge"), "--devices-file", str(devices),
                "--oracle-url", receiver.url, "--chain-id", "82032", "--registry", domain.registry,
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        assert summary["events"] > 48  # 6 sensors × 8 heartbeats, plus changes and incidents
        assert summary["delivered"] == summary["events"] == len(receiver.order)
        assert summary["pending"] == 0 and summary["deadLettered"] == 0
        types = Counter(w["eventType"] for w in receiver.events.values())
        assert types["scheduled_report"] == 48 and types["park_start"] > 0
    finally:
        receiver.close()
