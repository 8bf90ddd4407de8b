"""The real `python -m edge_oracle.cli run` process: kill -9 in the middle of delivery and
restart loses and duplicates nothing; SIGTERM stops cleanly; the CLI's help and error paths."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from citypass.protocol.sensor_events import EventDomain
from edge_oracle.cli import main
from edge_oracle.outbox import Outbox
from edge_oracle.testing import ContractReceiver, free_port

DOMAIN = EventDomain(82032, "0x" + "34" * 20)
ROOT = Path(__file__).resolve().parents[2]


def write_readings(path: Path, count: int) -> None:
    """Two sensors, each line a state change, so every line becomes one event."""
    with path.open("w") as handle:
        for i in range(count):
            sensor = 1 + i % 2
            line = {
                "sensor": f"mag-{sensor:04d}",
                "slot": sensor,
                "occupied": (i // 2) % 2 == 0,
                "ts": 1_790_000_000_000 + i * 10_000,
            }
            handle.write(json.dumps(line) + "\n")


def devices_file(tmp_path: Path) -> Path:
    path = tmp_path / "devices.json"
    result = CliRunner().invoke(
        main,
        ["devices", "create", "--out", str(path), "--slots", "2", "--throwaway", "--seed", "7"],
    )
    assert result.exit_code == 0, result.output
    return path


def start_run(tmp_path: Path, url: str, inputs: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CITYPASS_EDGE_BACKOFF_MAX_S": "0.5"}
    env.pop("CITYPASS_EDGE_PASSWORD", None)
    command = [
        sys.executable, "-m", "edge_oracle.cli", "run",
        "--data-dir", str(tmp_path / "edge"),
        "--oracle-url", url,
        "--chain-id", str(DOMAIN.chain_id),
        "--registry", DOMAIN.registry,
        "--devices-file", str(devices_file(tmp_path) if not (tmp_path / "devices.json").exists() else tmp_path / "devices.json"),
        "--sensors", str(inputs),
        "--listen-port", str(free_port()),
        "--batch-events", "50",
        *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture
def receiver():
    sink = ContractReceiver(DOMAIN).start()
    yield sink
    sink.close()


def test_kill_9_mid_delivery_then_restart_delivers_everything_exactly_once(tmp_path, receiver):
    inputs = tmp_path / "readings.jsonl"
    write_readings(inputs, 600)
    receiver.delay_s = 0.25  # slow replies, so the kill lands mid-delivery
    first = start_run(tmp_path, receiver.url, inputs, "--exit-when-done")
    try:
        assert receiver.wait_for(100, timeout=60), first.stderr.read() if first.poll() else ""
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert len(receiver.events) < 600, "the kill came too late to test anything"
    receiver.delay_s = 0
    second = start_run(tmp_path, receiver.url, inputs, "--exit-when-done")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    # Every line became exactly one event, delivered exactly once, in each device's order.
    assert len(receiver.order) == len(set(receiver.order)) == 600
    wires = [receiver.events[i] for i in receiver.order]
    times = [w["eventTimeMs"] for w in wires]
    assert times == sorted(times)
    for device in {w["device"] for w in wires}:
        sequences = [w["sequence"] for w in wires if w["device"] == device]
        assert sequences == list(range(1, 301))
    outbox = Outbox(tmp_path / "edge" / "outbox.sqlite")
    try:
        assert outbox.counts() == {"pending": 0, "delivered": 600, "deadLettered": 0}
        # the lines taken count across the restart (the readings counter restarts at 0)
        assert outbox.positions() == {f"slot:{inputs}": 600}
    finally:
        outbox.close()


def test_sigterm_stops_cleanly_and_health_answers_while_running(tmp_path, receiver):
    inputs = tmp_path / "readings.jsonl"
    write_readings(inputs, 20)
    port = free_port()
    child = start_run(tmp_path, receiver.url, inputs, "--follow", "--listen-port", str(port))
    try:
        assert receiver.wait_for(20, timeout=60)
        health = requests.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        assert health["outboxDepth"] == 0 and health["oracleReachable"] is True
        assert health["inputLines"] == {f"slot:{inputs}": 20}, health
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'citypass_edge_readings_total{source="slot"} 20.0' in metrics
        # A line appended to the followed file is picked up while the daemon runs.
        with inputs.open("a") as handle:
            handle.write(
                json.dumps(
                    {"sensor": "mag-0001", "slot": 1, "occupied": True, "ts": 1_790_001_000_000}
                )
                + "\n"
            )
        assert receiver.wait_for(21, timeout=30)
    finally:
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert '"msg": "stopping"' in err
    assert "Traceback" not in err


def test_malformed_lines_are_logged_with_their_line_number_and_skipped(tmp_path, receiver):
    inputs = tmp_path / "readings.jsonl"
    inputs.write_text(
        json.dumps({"sensor": "mag-0001", "slot": 1, "occupied": True, "ts": 1_790_000_000_000})
        + "\n{not json\n"
        + json.dumps({"sensor": "mag-0001", "slot": 1, "occupied": "yes", "ts": 1})
        + "\n"
        + json.dumps({"sensor": "mag-0001", "slot": 1, "occupied": False, "ts": 1_790_000_060_000})
        + "\n"
    )
    child = start_run(tmp_path, receiver.url, inputs, "--exit-when-done")
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert len(receiver.events) == 2
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    skipped = [entry for entry in logged if "skipped" in entry["msg"]]
    assert [entry["line"] for entry in skipped] == [2, 3]
    assert {entry["reason"] for entry in skipped} == {"bad_json", "bad_field"}


def test_a_line_nested_too_deep_is_skipped_and_the_daemon_goes_on(tmp_path, receiver):
    inputs = tmp_path / "readings.jsonl"
    good = {"sensor": "mag-0001", "slot": 1, "occupied": True, "ts": 1_790_000_000_000}
    inputs.write_text(
        json.dumps(good)
        + "\n"
        + "[" * 100_000
        + "]" * 100_000
        + "\n"
        + json.dumps({**good, "occupied": False, "ts": 1_790_000_060_000})
        + "\n"
    )
    child = start_run(tmp_path, receiver.url, inputs, "--exit-when-done")
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert len(receiver.events) == 2
    assert "RecursionError" not in err and "Traceback" not in err
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    skipped = [entry for entry in logged if "skipped" in entry["msg"]]
    assert [(entry["line"], entry["reason"]) for entry in skipped] == [(2, "bad_json")]


def test_help_of_every_command():
    runner = CliRunner()
    for command in (
        [],
        ["init"],
        ["run"],
        ["simulate"],
        ["status"],
        ["devices", "create"],
        ["devices", "export"],
    ):
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
    top = runner.invoke(main, ["--help"]).output
    for name in ("init", "run", "simulate", "status", "devices"):
        assert name in top


def test_module_is_runnable():
    result = subprocess.run(
        [sys.executable, "-m", "edge_oracle.cli", "--help"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "simulate" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["run", "--data-dir", "D"], {}, "error: no inputs"),
        (
            [
                "run",
                "--data-dir",
                "D",
                "--sensors",
                "-",
                "--oracle-url",
                "ftp://x",
                "--chain-id",
                "1",
                "--registry",
                "0x" + "11" * 20,
            ],
            {},
            "error: oracle_url 'ftp://x' is not an http(s) URL",
        ),
        (
            [
                "run",
                "--data-dir",
                "D",
                "--sensors",
                "-",
                "--chain-id",
                "1",
                "--registry",
                "0x" + "11" * 20,
                "--batch-events",
                "0",
            ],
            {},
            "error: batch_events 0 is out of range",
        ),
        (["run", "--data-dir", "D", "--sensors", "-"], {}, "error: chain_id 0 is not set"),
        (
            ["run", "--data-dir", "D", "--sensors", "-", "--chain-id", "1", "--registry", "nope"],
            {},
            "error: registry 'nope' is not an address",
        ),
        (
            ["run", "--sensors", "-"],
            {"CITYPASS_EDGE_CHAIN_ID": "seven"},
            "error: CITYPASS_EDGE_CHAIN_ID='seven' is not a valid int",
        ),
        (["init", "--data-dir", "D"], {}, "error: no keystore password"),
        (["simulate"], {}, "error: choose one: --out DIR"),
        (["status", "--data-dir", "D"], {}, "error: no outbox at"),
    ],
)
def test_cli_errors_are_one_readable_line(tmp_path, monkeypatch, args, env, message):
    monkeypatch.delenv("CITYPASS_EDGE_PASSWORD", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = [str(tmp_path / "d") if a == "D" else a for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(message), result.output
    assert "Traceback" not in result.output


def test_init_creates_an_encrypted_keystore_and_prints_the_address(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYPASS_EDGE_PASSWORD", "correct horse battery")
    data = tmp_path / "edge"
    result = CliRunner().invoke(main, ["init", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    address = result.output.split()[2]
    keystore = json.loads((data / "keystore" / "device.json").read_text())
    assert keystore["crypto"]["kdf"] == "scrypt"
    assert keystore["address"].lower() == address[2:].lower()
    assert oct((data / "keystore" / "device.json").stat().st_mode)[-3:] == "600"
    again = CliRunner().invoke(main, ["init", "--data-dir", str(data)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_run_reads_stdin_and_simulated_camera_files(tmp_path, receiver):
    out, devices = tmp_path / "day", tmp_path / "devices.json"
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "simulate",
            "--out",
            str(out),
            "--slots",
            "40",
            "--vehicles",
            "10",
            "--seed",
            "4",
            "--hours",
            "6",
            "--start",
            "2026-11-24T06:00:00+09:00",
        ],
    )
    assert made.exit_code == 0, made.output
    keys = runner.invoke(
        main, ["devices", "create", "--out", str(devices), "--slots", "40", "--throwaway"]
    )
    assert keys.exit_code == 0, keys.output
    # Cameras from the file, magnetometers piped through stdin.
    command = [
        sys.executable, "-m", "edge_oracle.cli", "run", "--data-dir", str(tmp_path / "edge"),
        "--oracle-url", receiver.url, "--chain-id", str(DOMAIN.chain_id), "--registry", DOMAIN.registry,
        "--devices-file", str(devices), "--sensors", "-",
        "--cameras", str(out / "camera.jsonl"), "--listen-port", str(free_port()), "--exit-when-done",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        input=(out / "magnetometer.jsonl").read_text(),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    wires = list(receiver.events.values())
    heartbeats = [w for w in wires if w["eventType"] == "scheduled_report"]
    assert len(heartbeats) == 40 * 2  # every sensor at 0 h and 3 h
    incidents = [w for w in wires if w["sourceType"] == "camera"]
    assert len(incidents) == json.loads(made.output)["cameraLines"] > 0
    for wire in incidents:
        image = base64.b64decode(wire["evidence"])
        assert "0x" + hashlib.sha256(image).hexdigest() == wire["evidenceHash"]
