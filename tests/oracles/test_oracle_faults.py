"""Faults, with a real ledger node, real daemon processes and a real edge_oracle process:
the daemon down for "10 minutes" of sensor time while the edge keeps producing; the edge
killed -9 mid-delivery; the ledger node restarted; the daemon killed -9 around a submission.
Every time: all events delivered once, reports applied in order exactly once, bitmap right."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_oracle.devices import create_devices_file
from oracles.aggregate.aggregator import Aggregator
from oracles.inbox import Inbox
from oracles.ledger import Ledger
from oracles.metrics import Metrics
from oracles.reporter import Reporter
from tests.oracle_helpers import (
    KINDS,
    ROOT,
    OracleProcess,
    free_port,
    occupancy_reports,
    restart_node,
    start_chain,
    wait_until,
)

FIRST_SLOT = 1000  # slots 1000.. (not market slots: these tests are about delivery)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    chain = start_chain(tmp_path_factory.mktemp("oracle-faults"))
    yield chain
    chain.node.stop()


@pytest.fixture
def daemon(chain, tmp_path):
    process = OracleProcess(chain, tmp_path / "oracle")
    yield process
    process.kill()


def exactly_once_on_chain(chain) -> list[dict]:
    """Report sequences on chain are 1..n, each once, and n is lastSequence."""
    reports = occupancy_reports(chain)
    sequences = [r["sequence"] for r in reports]
    last = chain.contract("occupancy").functions.lastSequence().call()
    assert sequences == list(range(1, last + 1)), sequences
    return reports


def bitmap(chain, slots) -> dict[int, bool]:
    oracle = chain.contract("occupancy").functions
    return {s: oracle.occupancyOf(s).call() == 1 for s in slots}


def inbox_rows(daemon) -> list[tuple[str, int]]:
    db = sqlite3.connect(f"file:{daemon.data_dir / 'inbox.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT device, sequence FROM events ORDER BY row").fetchall()
    finally:
        db.close()


def settled(daemon) -> bool:
    health = daemon.health()
    return health["inboxDepth"] == 0 and health["pendingReports"] == 0


def watched_by_a_running_daemon(chain, daemon, slots) -> list:
    """A magnetometer on each of `slots`, and the daemon started and knowing them all."""
    mags = [chain.register_device("magnetometer", [s]) for s in slots]
    daemon.start()
    wait_until(lambda: daemon.health()["devices"] >= len(mags), timeout=20)
    return mags


def report_recorded_by_hand(chain, daemon, observations) -> tuple[Inbox, Reporter]:
    """With the daemon stopped, its own code path run by hand: `observations` (magnetometer,
    slot, time in s) committed to its inbox as park_start events and one report built from them
    and recorded, not yet sent. Returns the open inbox and the reporter."""
    inbox = Inbox(daemon.inbox_path)
    ledger = Ledger(
        chain.node.url, chain.system.devices.address, chain.system.occupancy.address,
        chain.system.incidents.address, "chain",
    )  # fmt: skip
    inbox.commit_batch(
        [
            (
                os.urandom(32), os.urandom(32), m.address.lower(), 10**6, "park_start",
                "in_ground", str(s), at * 1000, 1, 10_000, 0, 0, "", b"\0" * 32, None,
            )  # fmt: skip
            for m, s, at in observations
        ],
        [], {}, [],
    )  # fmt: skip
    reporter = Reporter(
        inbox, ledger, chain.people.oracle, [bytes(chain.people.oracle.key)],
        Aggregator(0, 0, 8000), Metrics(), 64,
    )  # fmt: skip
    ledger.refresh_head()
    assert reporter.build(ledger.now_ms()) == 1
    return inbox, reporter


# ------------------------------------------------------------------------------ the edge


def edge_devices(chain, tmp_path: Path, count: int, first_slot: int) -> tuple[Path, list[dict]]:
    layout = [
        {"sensor": f"mag-{i:03d}", "kind": "magnetometer", "slots": [first_slot + i]}
        for i in range(count)
    ]
    path = tmp_path / "devices.json"
    ring = create_devices_file(path, layout, None)
    for binding in ring.bindings():
        chain.system.devices.registerDevice(
            binding["address"], KINDS["magnetometer"], binding["slots"],
            {"from": chain.people.operator},
        )  # fmt: skip
    return path, layout


def sensor_lines(layout, start_s: int, span_s: int, per_slot: int) -> tuple[list[str], dict]:
    """Alternating arrivals/departures per slot spread over `span_s` seconds; the model's final
    state per slot."""
    lines, final = [], {}
    for k in range(per_slot):
        t_ms = (start_s + span_s * k // per_slot) * 1000
        for item in layout:
            slot = item["slots"][0]
            occupied = k % 2 == 0
            lines.append(
                json.dumps({"sensor": item["sensor"], "slot": slot, "occupied": occupied,
                            "ts": t_ms + slot})
            )  # fmt: skip
            final[slot] = occupied
    return lines, final


def start_edge(chain, data_dir: Path, devices: Path, sensors: Path, oracle_url: str):
    command = [
        sys.executable, "-m", "edge_oracle.cli", "run", "--data-dir", str(data_dir),
        "--oracle-url", oracle_url, "--chain-id", str(chain.chain_id),
        "--registry", chain.system.devices.address, "--devices-file", str(devices),
        "--sensors", str(sensors), "--listen-port", str(free_port()), "--exit-when-done",
        "--batch-events", "50",
    ]  # fmt: skip
    log = open(data_dir.parent / f"{data_dir.name}.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        command, stdout=log, stderr=log, cwd=ROOT, start_new_session=True, env=dict(os.environ)
    )
    log.close()
    return process


def edge_status(data_dir: Path) -> dict:
    if not (data_dir / "outbox.sqlite").exists():
        return {}
    out = subprocess.run(
        [sys.executable, "-m", "edge_oracle.cli", "status", "--data-dir", str(data_dir), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# ---------------------------------------------------------------------------------- tests


def test_daemon_down_for_ten_minutes_then_everything_lands_once_in_order(chain, daemon, tmp_path):
    devices, layout = edge_devices(chain, tmp_path, 10, FIRST_SLOT)
    daemon.start()
    daemon.stop()  # down: the edge keeps reading sensors into its outbox
    now = chain.head_time()
    lines, final = sensor_lines(layout, now - 600, 600, per_slot=12)
    sensors = tmp_path / "sensors.jsonl"
    sensors.write_text("\n".join(lines) + "\n")
    edge = start_edge(chain, tmp_path / "edge", devices, sensors, daemon.url)
    wait_until(lambda: edge_status(tmp_path / "edge").get("pending") == len(lines), timeout=60)
    time.sleep(1.0)
    assert edge.poll() is None  # still trying: nothing to deliver to
    daemon.process = None
    daemon.start()
    assert edge.wait(timeout=120) == 0
    wait_until(lambda: settled(daemon), timeout=60)
    rows = inbox_rows(daemon)
    assert len(rows) == len(lines) and len(set(rows)) == len(rows)
    for device in {d for d, _ in rows}:
        assert [s for d, s in rows if d == device] == list(range(1, 13))
    exactly_once_on_chain(chain)
    assert bitmap(chain, final) == final


def test_edge_killed_mid_delivery_loses_nothing(chain, daemon, tmp_path):
    devices, layout = edge_devices(chain, tmp_path, 20, FIRST_SLOT + 100)
    daemon.start()
    now = chain.head_time()
    lines, final = sensor_lines(layout, now - 300, 300, per_slot=60)  # 1,200 events
    sensors = tmp_path / "sensors.jsonl"
    sensors.write_text("\n".join(lines) + "\n")
    edge = start_edge(chain, tmp_path / "edge", devices, sensors, daemon.url)
    wait_until(lambda: len(inbox_rows(daemon)) > 0, timeout=60, interval=0.01)
    os.kill(edge.pid, signal.SIGKILL)
    edge.wait()
    delivered_before = len(inbox_rows(daemon))
    assert 0 < delivered_before < len(lines)  # killed mid-delivery
    edge = start_edge(chain, tmp_path / "edge", devices, sensors, daemon.url)
    assert edge.wait(timeout=180) == 0
    wait_until(lambda: settled(daemon), timeout=60)
    rows = inbox_rows(daemon)
    assert len(rows) == len(lines) and len(set(rows)) == len(rows), (
        delivered_before,
        len(rows),
    )
    for device in {d for d, _ in rows}:
        assert [s for d, s in rows if d == device] == list(range(1, 61))
    exactly_once_on_chain(chain)
    assert bitmap(chain, final) == final


def test_ledger_node_restart_loses_nothing_and_applies_no_report_twice(chain, daemon):
    slots = [FIRST_SLOT + 300 + i for i in range(5)]
    mags = watched_by_a_running_daemon(chain, daemon, slots)
    before = len(occupancy_reports(chain))
    now = chain.head_time()
    assert len(daemon.post([m.event("park_start", s, now * 1000) for m, s in zip(mags, slots, strict=True)])
               .json()["accepted"]) == 5  # fmt: skip
    wait_until(lambda: settled(daemon))
    chain.node.stop()
    wait_until(lambda: daemon.health()["ledger"] == "down", timeout=20)
    # The ledger is down; the daemon keeps ingesting.
    reply = daemon.post(
        [m.event("park_end", s, (now + 5) * 1000) for m, s in zip(mags, slots, strict=True)]
    )
    assert len(reply.json()["accepted"]) == 5
    assert daemon.health()["status"] == "degraded"
    time.sleep(1.0)
    restart_node(chain)
    wait_until(lambda: settled(daemon), timeout=60)
    assert daemon.health()["ledger"] == "up"
    reports = exactly_once_on_chain(chain)
    assert len(reports) > before
    assert bitmap(chain, slots) == dict.fromkeys(slots, False)


def test_daemon_killed_after_sending_a_report_does_not_send_it_again(chain, daemon):
    slots = [FIRST_SLOT + 400 + i for i in range(3)]
    mags = watched_by_a_running_daemon(chain, daemon, slots)
    wait_until(lambda: settled(daemon))
    daemon.stop()
    # The daemon's own code path, driven by hand to stop exactly between sending a report
    # and recording its receipt (what a kill -9 at that moment leaves behind).
    now = chain.head_time()
    observations = [(m, s, now) for m, s in zip(mags, slots, strict=True)]
    inbox, reporter = report_recorded_by_hand(chain, daemon, observations)
    pending = inbox.pending_reports()[0]
    reporter._send(pending)  # sent and sealed; the receipt is never recorded
    inbox.close()
    applied = len(occupancy_reports(chain))
    last = chain.contract("occupancy").functions.lastSequence().call()
    assert pending.sequence == last
    daemon.process = None
    daemon.start()
    wait_until(lambda: settled(daemon), timeout=30)
    assert daemon.health()["lastReportSequence"] == last
    assert len(occupancy_reports(chain)) == applied  # not sent a second time
    exactly_once_on_chain(chain)
    assert bitmap(chain, slots) == dict.fromkeys(slots, True)


def test_daemon_killed_repeatedly_while_reporting_keeps_exactly_once(chain, daemon):
    slots = [FIRST_SLOT + 500 + i for i in range(8)]
    mags = watched_by_a_running_daemon(chain, daemon, slots)
    final: dict[int, bool] = {}
    t = chain.head_time() - 120
    for round_ in range(4):
        for step in range(3):
            t += 1
            events = []
            for m, s in zip(mags, slots, strict=True):
                occupied = (round_ + step + s) % 2 == 0
                events.append(m.event("park_start" if occupied else "park_end", s, t * 1000))
                final[s] = occupied
            assert len(daemon.post(events).json()["accepted"]) == len(events)
            time.sleep(0.15)
        daemon.kill()  # anywhere: building, sending or recording a report
        daemon.process = None
        daemon.start()
    wait_until(lambda: settled(daemon), timeout=60)
    exactly_once_on_chain(chain)
    assert bitmap(chain, slots) == final


def test_report_pending_past_the_maximum_report_age_is_re_dated_and_applied(chain, daemon):
    """A report built before a long outage (over the contract's 24 h maximum report age) is
    sent with the same sequence and observations, observedAt moved up. Runs last: it moves the
    chain's clock a day ahead."""
    slot = FIRST_SLOT + 600
    (mag,) = watched_by_a_running_daemon(chain, daemon, [slot])
    wait_until(lambda: settled(daemon))
    daemon.stop()
    now = chain.head_time()
    inbox, _ = report_recorded_by_hand(chain, daemon, [(mag, slot, now)])  # never sent
    pending = inbox.pending_reports()[0]
    inbox.close()
    chain.set_clock(now + 25 * 3600)
    daemon.process = None
    daemon.start()
    wait_until(lambda: settled(daemon), timeout=30)
    oracle = chain.contract("occupancy").functions
    assert oracle.lastSequence().call() == pending.sequence
    assert oracle.lastObservedAt().call() > pending.payload["observedAt"]
    # The bit is applied, but an observation a day old is honestly not fresh: UNKNOWN.
    assert (oracle.occupancyWord(slot >> 8).call() >> (slot & 255)) & 1 == 1
    assert oracle.occupancyOf(slot).call() == 2
    exactly_once_on_chain(chain)
