"""The evidence sweep inside a real oracle daemon over a real ledger node: evidence no incident
anchors is shredded by the daemon's own periodic sweep once its (here, seconds-long) period
runs out, and counted on /metrics; evidence of an open incident on chain survives the same
periods; `citypass-oracle sweep` lists and sweeps from the command line with the chain's
incident status, and refuses a bad period naming the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from oracles.evidence import EvidenceConfig, open_store
from oracles.evidence.errors import EvidenceShredded
from tests.oracle_helpers import (
    ROOT,
    OracleProcess,
    new_slot_with_device,
    png_still,
    start_chain,
    wait_until,
)

# About 1.7 s: the daemon sweeps every second.
TINY_DAYS = "0.00002"
PERIODS = {
    "CITYPASS_ORACLE_RETAIN_UNANCHORED_DAYS": TINY_DAYS,
    "CITYPASS_ORACLE_RETAIN_DISMISSED_DAYS": TINY_DAYS,
    "CITYPASS_ORACLE_RETAIN_CONFIRMED_DAYS": TINY_DAYS,
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("oracle-retention")
    chain = start_chain(base)
    daemon = OracleProcess(
        chain, base / "oracle", env={**PERIODS, "CITYPASS_ORACLE_RETENTION_SWEEP_SECONDS": "1"}
    ).start()
    yield chain, daemon
    daemon.stop()
    chain.node.stop()


def _sweep_cli(chain, daemon, *args: str, env: dict[str, str] | None = None):
    system = chain.system
    command = [
        sys.executable, "-m", "oracles.cli", "sweep", "--data-dir", str(daemon.data_dir),
        "--rpc-url", chain.node.url, "--device-registry", system.devices.address,
        "--occupancy-oracle", system.occupancy.address,
        "--incident-registry", system.incidents.address, "--clock", "chain", *args,
    ]  # fmt: skip
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, **PERIODS, **(env or {})},
    )  # fmt: skip


def test_the_daemon_shreds_unanchored_evidence_and_keeps_an_open_incidents(env):
    chain, daemon = env
    slot, camera = new_slot_with_device(chain, daemon, "camera")
    image = png_still(4_000)
    event = camera.event("illegal_parking", slot, chain.head_time() * 1000,
                         confidence_bps=9_100, evidence=image)  # fmt: skip
    assert len(daemon.post([event]).json()["accepted"]) == 1
    registry = chain.contract("incidents").functions
    incident_id = wait_until(lambda: registry.incidentBySource(event.event.event_id).call())
    anchored_hash = bytes(registry.incidentOf(incident_id).call()[7])  # contentHash
    # Evidence stored but anchored by no incident (as if its event had been refused).
    with open_store(EvidenceConfig.from_env(daemon.data_dir)) as store:
        loose = store.put(b"unanchored-still-" + os.urandom(64))

    shredded = 'kind="evidence",reason="retention"'
    wait_until(lambda: daemon.metric("citypass_oracle_records_shredded_total", shredded) >= 1,
               timeout=30)  # fmt: skip
    assert daemon.metric("citypass_oracle_deletion_records", shredded) == 1
    with open_store(EvidenceConfig.from_env(daemon.data_dir)) as store:
        with pytest.raises(EvidenceShredded):
            store.get(loose.cid)
        (record,) = store.keys.deletions()
        assert (record.subject, record.rule, record.process) == (
            loose.cid.text, "unanchored_evidence", "citypass-oracle",
        )  # fmt: skip
        kept = store.find(anchored_hash)
        assert kept is not None and store.get(kept.cid) == image  # its incident is open


def test_the_cli_lists_and_sweeps_with_the_chains_incidents(env):
    chain, daemon = env
    with open_store(EvidenceConfig.from_env(daemon.data_dir)) as store:
        loose = store.put(b"cli-unanchored-" + os.urandom(64))
    listed = _sweep_cli(chain, daemon, "--dry-run")
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    assert report["dryRun"] is True
    # Only the loose still is due (if the daemon has not shredded it first); never the
    # evidence of the open incident.
    assert {e["subject"] for e in report["shredded"]} <= {loose.cid.text}
    assert all(e["rule"] == "unanchored_evidence" for e in report["shredded"])
    done = _sweep_cli(chain, daemon)
    assert done.returncode == 0, done.stderr
    with open_store(EvidenceConfig.from_env(daemon.data_dir)) as store:
        wait_until(lambda: store.keys.deleted("evidence", loose.cid.text) is not None)
        with pytest.raises(EvidenceShredded):
            store.get(loose.cid)


def test_the_cli_explains_itself_and_refuses_bad_periods(env):
    chain, daemon = env
    helped = subprocess.run([sys.executable, "-m", "oracles.cli", "sweep", "--help"],
                            capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert helped.returncode == 0 and "--dry-run" in helped.stdout
    for value in ("-1", "0", "a month"):
        failed = _sweep_cli(chain, daemon, "--dry-run",
                            env={"CITYPASS_ORACLE_RETAIN_CONFIRMED_DAYS": value})  # fmt: skip
        assert failed.returncode == 1
        assert failed.stderr.startswith("error: ")
        assert "CITYPASS_ORACLE_RETAIN_CONFIRMED_DAYS" in failed.stderr


def test_the_cli_sweeps_nothing_when_the_inbox_cannot_be_read(env, tmp_path):
    """Without the daemon's inbox the sweep cannot tell which stills wait for their incident:
    it refuses in one line before it opens the evidence store."""
    chain, daemon = env
    data_dir = tmp_path / "oracle"
    data_dir.mkdir()
    (data_dir / "inbox.sqlite").write_bytes(b"not a database" * 100)
    command = [
        sys.executable, "-m", "oracles.cli", "sweep", "--data-dir", str(data_dir),
        "--rpc-url", chain.node.url, "--device-registry", chain.system.devices.address,
        "--occupancy-oracle", chain.system.occupancy.address,
        "--incident-registry", chain.system.incidents.address, "--clock", "chain",
    ]  # fmt: skip
    failed = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**os.environ, **PERIODS})  # fmt: skip
    assert failed.returncode == 1, failed.stderr
    assert failed.stderr.startswith("error: cannot read the daemon's inbox")
    assert "nothing was swept" in failed.stderr and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
