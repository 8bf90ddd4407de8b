"""`ledger-node` on the command line: help, init, start's refusals, status, and a clean SIGTERM.

Every command runs the installed console script as a subprocess, the way an operator types it.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
from pathlib import Path

import pytest
from eth_account import Account

from ledger_node.cli import main as cli_group
from ledger_node.launcher import NodeProcess, init_data_dir
from tests.ledger_helpers import (
    PASSWORD,
    PASSWORD_ENV,
    Rpc,
    Signer,
    anvil_processes_for,
    authority_key,
    log_path,
    new_node,
    run_ledger_node,
    wait_until,
)


def one_error_line(result) -> str:
    """The command failed with exactly one `error: …` line on stderr and no traceback."""
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A data directory as `ledger-node init` leaves it (never started)."""
    data_dir = tmp_path_factory.mktemp("pristine") / "data"
    init_data_dir(data_dir, PASSWORD, block_period=0)
    return data_dir


@pytest.fixture
def data_dir(pristine, tmp_path):
    return Path(shutil.copytree(pristine, tmp_path / "data"))


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    node = new_node(tmp_path_factory.mktemp("running"), "node", block_period=0, snapshot_every=2)
    yield node
    node.stop()


# ------------------------------------------------------------------------------------ help


def test_help_lists_every_subcommand():
    result = run_ledger_node("--help")
    assert result.returncode == 0, result.stderr
    for name in cli_group.commands:
        assert name in result.stdout
    assert set(cli_group.commands) >= {"init", "start", "status", "verify", "export-besu"}


@pytest.mark.parametrize("command", sorted(cli_group.commands))
def test_every_subcommand_help_exits_zero(command):
    result = run_ledger_node(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: ledger-node {command} ")
    assert result.stderr == ""


# ------------------------------------------------------------------------------------ init


def test_init_writes_a_data_directory(tmp_path):
    target = tmp_path / "fresh"
    result = run_ledger_node(
        "init", "--data-dir", target, "--block-period", "0.5", "--chain-id", "4242"
    )
    assert result.returncode == 0, result.stderr
    assert f"initialised {target}" in result.stdout
    config = json.loads((target / "config.json").read_text())
    assert config["chain_id"] == 4242 and config["block_period"] == 0.5
    keystore = json.loads((target / "keystore" / "authority.json").read_text())
    assert Account.from_key(Account.decrypt(keystore, PASSWORD)).address == config["authority"]
    assert PASSWORD not in result.stdout + result.stderr
    assert oct((target / "keystore" / "authority.json").stat().st_mode & 0o777) == "0o600"


def test_init_refuses_an_existing_non_empty_directory(tmp_path):
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    line = one_error_line(run_ledger_node("init", "--data-dir", target))
    assert str(target) in line and "not empty" in line
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_init_refuses_an_existing_data_directory(pristine):
    before = (pristine / "config.json").read_text()
    line = one_error_line(run_ledger_node("init", "--data-dir", pristine))
    assert "already exists" in line
    assert (pristine / "config.json").read_text() == before


@pytest.mark.parametrize(
    "password, words",
    [(None, "no keystore password"), ("short", "at least 8")],
    ids=["none", "short"],
)
def test_init_refuses_a_missing_or_short_password(tmp_path, password, words):
    line = one_error_line(
        run_ledger_node("init", "--data-dir", tmp_path / "new", password=password)
    )
    assert words in line


# ----------------------------------------------------------------------- start refusals

CORRUPT_CONFIGS = {
    "not-json": lambda text: text[: len(text) // 2],
    "not-an-object": lambda text: "[1, 2, 3]",
    "wrong-type": lambda text: json.dumps({**json.loads(text), "chain_id": "eighty-two"}),
    "wrong-type-list": lambda text: json.dumps({**json.loads(text), "gas_limit": [30_000_000]}),
    "null-value": lambda text: json.dumps({**json.loads(text), "genesis_timestamp": None}),
    "missing-key": lambda text: json.dumps(
        {k: v for k, v in json.loads(text).items() if k != "snapshot_every"}
    ),
    "unknown-key": lambda text: json.dumps({**json.loads(text), "colour": "blue"}),
    "out-of-range": lambda text: json.dumps({**json.loads(text), "block_period": 600}),
    "bad-authority": lambda text: json.dumps({**json.loads(text), "authority": "0x1234"}),
    "empty": lambda text: "",
}
CONFIG_WORDS = {
    "not-json": "not valid JSON",
    "not-an-object": "must hold a JSON object",
    "wrong-type": "wrong type",
    "wrong-type-list": "wrong type",
    "null-value": "wrong type",
    "missing-key": "snapshot_every",
    "unknown-key": "colour",
    "out-of-range": "block_period",
    "bad-authority": "authority",
    "empty": "not valid JSON",
}


@pytest.mark.parametrize("case", sorted(CORRUPT_CONFIGS))
def test_start_refuses_a_corrupt_config_in_one_line(data_dir, case):
    path = data_dir / "config.json"
    path.write_text(CORRUPT_CONFIGS[case](path.read_text()))
    line = one_error_line(run_ledger_node("start", "--data-dir", data_dir, "--rpc-port", "1"))
    assert CONFIG_WORDS[case] in line
    if case not in ("out-of-range", "bad-authority"):  # range checks name the key, not the file
        assert "config.json" in line
    assert not anvil_processes_for(data_dir)


def test_start_refuses_a_missing_keystore(data_dir):
    (data_dir / "keystore" / "authority.json").unlink()
    line = one_error_line(run_ledger_node("start", "--data-dir", data_dir))
    assert "authority.json" in line and "missing" in line


def test_start_refuses_an_unreadable_keystore(data_dir):
    (data_dir / "keystore" / "authority.json").write_text("{not json")
    assert "unreadable" in one_error_line(run_ledger_node("start", "--data-dir", data_dir))


def test_start_refuses_a_wrong_password(data_dir):
    line = one_error_line(
        run_ledger_node("start", "--data-dir", data_dir, password="not-the-password")
    )
    assert "wrong password" in line
    assert "not-the-password" not in line


def test_start_refuses_no_password(data_dir):
    line = one_error_line(run_ledger_node("start", "--data-dir", data_dir, password=None))
    assert PASSWORD_ENV in line and "--password-file" in line


def test_start_reads_the_password_file_and_refuses_a_missing_one(data_dir, tmp_path):
    line = one_error_line(
        run_ledger_node(
            "start", "--data-dir", data_dir, "--password-file", tmp_path / "nope", password=None
        )
    )
    assert "cannot read the password file" in line


def test_start_refuses_a_missing_data_directory(tmp_path):
    line = one_error_line(run_ledger_node("start", "--data-dir", tmp_path / "nowhere"))
    assert "does not exist" in line and "ledger-node init" in line


def test_start_refuses_a_keystore_of_another_account(data_dir):
    other = Account.encrypt(Account.create().key, PASSWORD)
    (data_dir / "keystore" / "authority.json").write_text(json.dumps(other))
    line = one_error_line(run_ledger_node("start", "--data-dir", data_dir))
    assert Account.from_key(Account.decrypt(other, PASSWORD)).address in line
    assert json.loads((data_dir / "config.json").read_text())["authority"] in line
    assert not anvil_processes_for(data_dir)


def test_start_refuses_a_port_in_use(data_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error_line(run_ledger_node("start", "--data-dir", data_dir, "--rpc-port", port))
    assert f"127.0.0.1:{port}" in line and "--rpc-port" in line
    assert not anvil_processes_for(data_dir)


def test_start_refuses_dev_clock_without_admin_port(data_dir):
    line = one_error_line(run_ledger_node("start", "--data-dir", data_dir, "--dev-clock"))
    assert "--admin-port" in line


# ---------------------------------------------------------------------------------- status


def test_status_prints_head_pending_journal_snapshot_and_peers(running):
    rpc = Rpc(running.url)
    authority = Signer(authority_key(running.data_dir), int(rpc.result("eth_chainId"), 16))
    for _ in range(2):  # two blocks: snapshot_every is 2
        signed = authority.sign(b"\x5e" * 20, b"", 21_000)
        assert rpc.send(signed.raw)["result"] == signed.hash
    result = run_ledger_node("status", "--rpc-url", running.url)
    assert result.returncode == 0, result.stderr
    fields = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition("  ")
        fields[key.strip()] = value.strip()
    status = rpc.status()
    assert fields["head"] == str(int(status["head"], 16))
    assert fields["pending"] == str(status["pending"])
    assert fields["journal"].endswith(f"{status['journalTransactions']} transactions")
    assert fields["head"] == "2"
    assert fields["last snapshot"] == "2"
    assert fields["peers"].startswith("none")
    assert fields["authority"] == status["authority"]
    assert fields["chain id"] == str(int(status["chainId"], 16))


def test_status_against_a_dead_port_prints_one_error_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = one_error_line(run_ledger_node("status", "--rpc-url", f"http://127.0.0.1:{port}"))
    assert f"http://127.0.0.1:{port}" in line and "is it running" in line


def test_status_against_something_that_is_not_a_ledger_node(running):
    line = one_error_line(run_ledger_node("status", "--rpc-url", f"{running.url}/metrics"))
    assert "no ledger node answers" in line


def test_verify_refuses_a_missing_data_directory(tmp_path):
    result = run_ledger_node("verify", "--data-dir", tmp_path / "nowhere")
    assert result.returncode == 1
    # verify opens its progress bar ("Verifying") on stderr before it looks at the directory.
    lines = [line for line in result.stderr.splitlines() if line.strip() != "Verifying"]
    assert len(lines) == 1 and lines[0].startswith("error: data directory"), result.stderr
    assert "does not exist" in lines[0] and "Traceback" not in result.stderr


# --------------------------------------------------------------------------------- signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_node_cleanly_and_its_engine_with_it(data_dir, signum):
    node = NodeProcess(data_dir, PASSWORD).start()
    engines = anvil_processes_for(data_dir)
    assert len(engines) == 1
    node.process.send_signal(signum)
    assert node.process.wait(timeout=30) == 0
    wait_until(lambda: not anvil_processes_for(data_dir), timeout=10)
    log = log_path(data_dir).read_text()
    assert '"msg": "stopping"' in log
    assert "Traceback" not in log
    # The journal was closed cleanly: the node starts again on it at once.
    again = NodeProcess(data_dir, PASSWORD).start()
    try:
        assert Rpc(again.url).status()["head"] == "0x0"
    finally:
        assert again.stop() == 0
