"""Sensor → chain through a real ledger node and a real daemon process: a magnetometer's arrival
checks a lease in, a departure after the lease's end settles it with overstay, parking without
a lease files an UNAUTHORISED_OCCUPANCY incident, and a camera's illegal parking becomes an
incident whose CID resolves in the evidence store to the original image."""

from __future__ import annotations

import hashlib
import os

import pytest
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from oracles.evidence import EvidenceConfig, open_store
from tests.oracle_helpers import (
    HALF_HOUR,
    OracleProcess,
    new_slot_with_device,
    png_still,
    start_chain,
    wait_until,
)

CHECKED_IN, SETTLED = 2, 3
ILLEGAL_PARKING, UNAUTHORISED_OCCUPANCY, JAYWALKING = 0, 1, 3


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("oracle-e2e")
    chain = start_chain(base)
    daemon = OracleProcess(chain, base / "oracle").start()
    yield chain, daemon
    daemon.stop()
    chain.node.stop()


def move_clock(chain, daemon, timestamp: int) -> None:
    chain.set_clock(timestamp)
    daemon.wait_clock(timestamp)


def incidents_at(chain, slot: int) -> list[dict]:
    registry = chain.contract("incidents")
    return [
        dict(e["args"])
        for e in registry.events.IncidentReported().get_logs(
            from_block=0, argument_filters={"slotId": slot}
        )
    ]


def test_arrival_checks_in_and_late_departure_settles_with_overstay(env):
    chain, daemon = env
    owner, resident = chain.new_member(), chain.resident()
    slot = chain.shared_slot(owner)
    mag = chain.register_device("magnetometer", [slot])
    start = (chain.head_time() // HALF_HOUR + 2) * HALF_HOUR
    end = start + 2 * HALF_HOUR
    lease = chain.book(resident, slot, start, end)
    wait_until(lambda: daemon.health()["devices"] >= 1)
    market = chain.contract("market").functions

    move_clock(chain, daemon, start + 60)
    assert daemon.post([mag.event("park_start", slot, (start + 60) * 1000)]).json()["accepted"]
    wait_until(lambda: market.leaseOf(lease).call()[2] == CHECKED_IN, timeout=20)

    leave = end + 25 * 60
    move_clock(chain, daemon, leave)
    assert daemon.post([mag.event("park_end", slot, leave * 1000)]).json()["accepted"]
    wait_until(lambda: market.leaseOf(lease).call()[2] == SETTLED, timeout=20)
    assert daemon.health()["settlingSlots"] == 0  # nothing seen is left out of a report
    settled = (
        chain.contract("market")
        .events.LeaseSettled()
        .get_logs(from_block=0, argument_filters={"leaseId": lease})
    )
    assert len(settled) == 1 and settled[0]["args"]["overstayCharge"] > 0
    assert chain.contract("occupancy").functions.occupancyOf(slot).call() == 0
    assert daemon.metric("citypass_oracle_e2e_lag_seconds_count") >= 2


def test_parking_without_a_lease_on_a_shared_slot_files_an_incident(env):
    chain, daemon = env
    slot, mag = new_slot_with_device(chain, daemon, "magnetometer")
    now = chain.head_time()
    assert daemon.post([mag.event("park_start", slot, now * 1000)]).json()["accepted"]
    found = wait_until(lambda: incidents_at(chain, slot), timeout=20)
    assert [i["kind"] for i in found] == [UNAUTHORISED_OCCUPANCY]
    assert found[0]["reporter"] == chain.system.occupancy.address


def test_camera_illegal_parking_incident_anchors_the_evidence(env):
    chain, daemon = env
    slot, camera = new_slot_with_device(chain, daemon, "camera")
    image = png_still(40_000)
    now = chain.head_time()
    event = camera.event(
        "illegal_parking", slot, now * 1000, confidence_bps=9_100, evidence=image,
        vehicle_type="car",
    )  # fmt: skip
    walker = camera.event(
        "jaywalking", 0, now * 1000, confidence_bps=8_000, evidence=b"still-" + os.urandom(64)
    )
    bare = camera.event("illegal_dumping", 0, now * 1000)
    reply = daemon.post([event, walker, bare]).json()
    assert len(reply["accepted"]) == 2, reply
    assert [r["reason"] for r in reply["rejected"]] == ["missing_evidence"]
    registry = chain.contract("incidents").functions
    incident_id = wait_until(lambda: registry.incidentBySource(event.event.event_id).call())
    stored = registry.incidentOf(incident_id).call()
    assert stored[0] == ILLEGAL_PARKING and stored[6] == slot and stored[2] == 9_100
    assert stored[7] == hashlib.sha256(image).digest()
    reported = [i for i in incidents_at(chain, slot) if i["incidentId"] == incident_id][0]
    with open_store(EvidenceConfig.from_env(daemon.data_dir)) as store:
        assert store.get(bytes(reported["evidenceCid"])) == image
    jay = wait_until(lambda: registry.incidentBySource(walker.event.event_id).call())
    assert registry.incidentOf(jay).call()[0] == JAYWALKING
    assert daemon.metric("citypass_oracle_incidents_filed_total") == 2
    # Re-sending the same events files nothing twice.
    again = daemon.post([event, walker]).json()
    assert len(again["duplicates"]) == 2
    assert registry.incidentCount().call() == 3  # + the unauthorised occupancy above


PROPERTY_SLOTS = [2000 + i for i in range(6)]


@pytest.fixture(scope="module")
def property_devices(env):
    chain, daemon = env
    mags = [chain.register_device("magnetometer", [s]) for s in PROPERTY_SLOTS]
    wait_until(lambda: daemon.health()["devices"] >= 3 + len(mags))
    return mags, {}


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=25))
def test_on_chain_bitmap_equals_the_model_for_any_event_sequence(env, property_devices, steps):
    chain, daemon = env
    mags, model = property_devices
    now = chain.head_time() * 1000
    events = []
    for i, (index, occupied) in enumerate(steps):
        slot = PROPERTY_SLOTS[index]
        kind = "park_start" if occupied else "park_end"
        events.append(mags[index].event(kind, slot, now + i))
        model[slot] = occupied
    assert len(daemon.post(events).json()["accepted"]) == len(events)
    wait_until(
        lambda: daemon.health()["inboxDepth"] == 0 and daemon.health()["pendingReports"] == 0
    )
    oracle = chain.contract("occupancy").functions
    assert {s: oracle.occupancyOf(s).call() == 1 for s in model} == model


def test_reports_carry_a_quorum_of_two_signers(env, tmp_path):
    """With quorum 2 the daemon signs with the submitter and a co-signer, sorted by address."""
    chain, daemon = env
    from eth_account import Account

    from oracles.keystore import create_keystore
    from tests.oracle_helpers import ORACLE_PASSWORD

    cosigner = Account.create()
    keystore = tmp_path / "cosigner.json"
    create_keystore(keystore, ORACLE_PASSWORD, bytes(cosigner.key))
    admin = {"from": chain.people.admin}
    chain.system.occupancy.setSigner(cosigner.address, True, admin)
    chain.system.occupancy.setQuorum(2, admin)
    daemon.stop()
    daemon.process = None
    daemon.extra_args = ("--signer-keystore", str(keystore))
    daemon.start()
    slot = 2100
    mag = chain.register_device("magnetometer", [slot])
    wait_until(lambda: daemon.health()["devices"] >= 10)
    before = chain.contract("occupancy").functions.lastSequence().call()
    assert daemon.post([mag.event("park_start", slot, chain.head_time() * 1000)]).json()["accepted"]
    oracle = chain.contract("occupancy").functions
    wait_until(lambda: oracle.occupancyOf(slot).call() == 1)
    assert oracle.lastSequence().call() == before + 1
    assert oracle.quorum().call() == 2
