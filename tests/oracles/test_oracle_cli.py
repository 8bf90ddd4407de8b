"""`citypass-oracle` CLI and settings: help, readable one-line errors, keystores, validation,
and a daemon with no ledger yet (answers `unavailable`, health degraded, SIGTERM exits 0)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from citypass.chain.session import free_port
from oracles.config import load_settings
from oracles.errors import ConfigError
from tests.oracle_helpers import ORACLE_PASSWORD, ROOT, wait_until

ADDRESSES = {
    "device_registry": "0x" + "11" * 20,
    "occupancy_oracle": "0x" + "22" * 20,
    "incident_registry": "0x" + "33" * 20,
}
ADDRESS_FLAGS = [
    "--device-registry", ADDRESSES["device_registry"],
    "--occupancy-oracle", ADDRESSES["occupancy_oracle"],
    "--incident-registry", ADDRESSES["incident_registry"],
]  # fmt: skip


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "oracles.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=timeout,
        env={**os.environ, "CITYPASS_ORACLE_PASSWORD": ORACLE_PASSWORD, **(env or {})},
    )  # fmt: skip


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, line
    for fragment in fragments:
        assert fragment in line, line


def test_help_lists_commands_with_short_help():
    result = cli("--help")
    assert result.returncode == 0
    for command in ("init", "run", "status"):
        assert command in result.stdout
    assert "Run the daemon until SIGTERM" in result.stdout
    assert cli("run", "--help").returncode == 0


def test_run_without_addresses_names_the_setting():
    assert_one_line_error(cli("run", "--data-dir", "/tmp/none"), "device_registry", "deployment")


def test_run_with_a_bad_env_value_names_it(tmp_path):
    result = cli("run", "--data-dir", str(tmp_path), *ADDRESS_FLAGS,
                 env={"CITYPASS_ORACLE_DEBOUNCE_SECONDS": "soon"})  # fmt: skip
    assert_one_line_error(result, "CITYPASS_ORACLE_DEBOUNCE_SECONDS='soon'", "not a valid number")


def test_run_without_a_keystore_says_how_to_create_it(tmp_path):
    result = cli("run", "--data-dir", str(tmp_path), *ADDRESS_FLAGS)
    assert_one_line_error(result, "submitter.json", "citypass-oracle init")


def test_init_creates_an_encrypted_keystore_once(tmp_path):
    keystore = tmp_path / "k.json"
    result = cli("init", "--keystore", str(keystore))
    assert result.returncode == 0, result.stderr
    assert '"address": "0x' in result.stdout and ORACLE_PASSWORD not in keystore.read_text()
    assert oct(keystore.stat().st_mode)[-3:] == "600"
    assert_one_line_error(cli("init", "--keystore", str(keystore)), "already exists")
    short = cli("init", "--keystore", str(tmp_path / "s.json"),
                env={"CITYPASS_ORACLE_PASSWORD": "short"})  # fmt: skip
    assert_one_line_error(short, "at least 8")


def test_wrong_password_is_a_readable_error(tmp_path):
    assert cli("init", "--keystore", str(tmp_path / "keystore" / "submitter.json")).returncode == 0
    result = cli("run", "--data-dir", str(tmp_path), *ADDRESS_FLAGS,
                 env={"CITYPASS_ORACLE_PASSWORD": "another-password"})  # fmt: skip
    assert_one_line_error(result, "wrong password")


def test_status_without_a_daemon_is_a_readable_error():
    assert_one_line_error(cli("status", "--url", f"http://127.0.0.1:{free_port()}"), "running")


def test_settings_file_env_and_flags_layer_and_validate(tmp_path):
    config = tmp_path / "oracle.toml"
    config.write_text("[oracle]\nport = 9001\nreport_interval = 5\ndebounce_seconds = 1\n")
    env = {"CITYPASS_ORACLE_REPORT_INTERVAL": "4"}
    s = load_settings(config, env=env, overrides={**ADDRESSES, "debounce_seconds": 0.5})
    assert (s.port, s.report_interval, s.debounce_seconds) == (9001, 4.0, 0.5)
    with pytest.raises(ConfigError, match="max_batch_events"):
        load_settings(None, env={}, overrides={**ADDRESSES, "max_batch_events": 501})
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(None, env={}, overrides={**ADDRESSES, "colour": "blue"})
    config.write_text("port = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, env={}, overrides=ADDRESSES)


def test_settings_read_a_deployment_record(tmp_path):
    record = tmp_path / "net.json"
    names = {"devices": "device_registry", "occupancy": "occupancy_oracle"}
    names["incidents"] = "incident_registry"
    record.write_text(json.dumps({"contracts": {k: ADDRESSES[v] for k, v in names.items()}}))
    s = load_settings(None, env={}, overrides={"deployment": record})
    assert s.occupancy_oracle == ADDRESSES["occupancy_oracle"]


def test_daemon_without_a_ledger_answers_unavailable_and_stops_on_sigterm(tmp_path):
    assert cli("init", "--keystore", str(tmp_path / "keystore" / "submitter.json")).returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oracles.cli", "run", "--data-dir", str(tmp_path),
         "--port", str(port), "--rpc-url", f"http://127.0.0.1:{free_port()}", *ADDRESS_FLAGS],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "CITYPASS_ORACLE_PASSWORD": ORACLE_PASSWORD},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        health = wait_until(lambda: _get(url + "/health"), timeout=30)
        assert health["ledger"] == "down" and health["status"] == "degraded"
        assert not health["ready"]
        reply = requests.post(url + "/v1/events", json={"events": [{"eventId": "0x01"}]}, timeout=5)
        assert reply.json()["rejected"][0]["reason"] == "unavailable"
        metrics = requests.get(url + "/metrics", timeout=5).text
        assert 'citypass_oracle_events_rejected_total{reason="unavailable"} 1.0' in metrics
        assert "citypass_oracle_ledger_up 0.0" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert '"msg": "stopped"' in stderr
    assert all(line.startswith("{") for line in stderr.strip().splitlines())


def _get(url: str):
    try:
        return requests.get(url, timeout=2).json()
    except requests.RequestException:
        return None


def test_keystore_files_are_not_in_the_repository():
    assert not list(Path(ROOT / "oracles").rglob("*.json"))


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--peer", "ftp://b:1"], ["peers: 'ftp://b:1'", "http(s) base URL"]),
        (["--peer", "http://b:1", "--peer", "http://b:1"], ["only once"]),
        (["--peer", "http://b:1", "--signer-keystore", "x.json"], ["exclude each other"]),
        (["--cosign-wait-seconds", "0"], ["cosign_wait_seconds must be in (0, 60]"]),
        (["--proposer-timeout-seconds", "-1"], ["proposer_timeout_seconds must be in"]),
    ],
)
def test_run_with_bad_peer_settings_names_them(tmp_path, flags, fragments):
    """Independent oracles' settings (docs/oracle-daemon.md, Several oracles)."""
    assert_one_line_error(
        cli("run", "--data-dir", str(tmp_path), *ADDRESS_FLAGS, *flags), *fragments
    )


def test_peer_settings_from_the_environment():
    env = {
        "CITYPASS_ORACLE_PEERS": "http://a:1, http://b:2",
        "CITYPASS_ORACLE_FILE_INCIDENTS": "false",
    }
    s = load_settings(None, env=env, overrides=ADDRESSES)
    assert s.peers == ("http://a:1", "http://b:2") and s.file_incidents is False
