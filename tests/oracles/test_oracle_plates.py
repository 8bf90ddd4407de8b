"""Plate matching on a real chain, a real citypass-api and a real oracle daemon: a resident
registers her vehicle through the API; a camera's arrival on her leased slot with her plate's
tag checks the lease in (LeaseMarket.checkIn from the ORACLE account, idempotent); another
plate's tag on a leased slot files an unauthorised occupancy with the still as evidence; a tag
on a slot with no lease files nothing. The camera events here are below the occupancy
threshold, so the OccupancyOracle's own check-in cannot be what checks the lease in."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import pytest

from citypass.core.timeunits import month_of
from citypass.protocol.plate_tags import month_key, plate_tag
from oracles.config import load_settings
from oracles.errors import ConfigError
from scripts._cli.api_client import StaffApi, sign_text
from tests.api_helpers import ApiServer, start_api_server
from tests.oracle_helpers import (
    HALF_HOUR,
    Chain,
    OracleProcess,
    png_still,
    start_chain,
    wait_until,
)

BOOKED, CHECKED_IN = 1, 2
UNAUTHORISED_OCCUPANCY = 1
LOW_CONFIDENCE = 5_000  # below the daemon's camera threshold: no occupancy report from it
STILL = png_still(2_000)


@dataclass
class Lot:
    """The module's world: a chain, the API, the oracle daemon with plate matching, and a
    resident with a registered vehicle."""

    chain: Chain
    api: ApiServer
    daemon: OracleProcess
    resident: Any

    @property
    def secret(self) -> bytes:
        return bytes.fromhex((self.api.data_dir / "plate-tag.key").read_text().strip())


@pytest.fixture(scope="module")
def lot(tmp_path_factory):
    base = tmp_path_factory.mktemp("plates")
    chain = start_chain(base / "chain")
    _deployment, api = start_api_server(chain, base)
    daemon = OracleProcess(
        chain, base / "oracle",
        extra_args=("--api-url", api.url, "--lease-market", chain.system.market.address),
    ).start()  # fmt: skip
    resident = chain.resident()
    signed_in = StaffApi.sign_in(api.url, resident.address, sign_text(resident), scope="resident")
    reply = api.post(
        "/v1/vehicles", json={"plate": "12가3456"},
        headers={"Authorization": f"Bearer {signed_in.token}"},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    yield Lot(chain, api, daemon, resident)
    daemon.stop()
    api.stop()
    chain.node.stop()


def _tag(lot: Lot, plate: str, when: int) -> bytes:
    return plate_tag(month_key(lot.secret, month_of(when)), plate)


def _watched_slot(lot: Lot) -> tuple[int, Any]:
    """A new shared slot and a new camera watching it."""
    slot = lot.chain.shared_slot(lot.chain.new_member())
    return slot, lot.chain.register_device("camera", [slot])


def _leased_slot(lot: Lot, lessee: Any = None) -> tuple[int, Any, int, int]:
    """A watched slot booked (by the resident with a vehicle, unless `lessee`) from the next
    half-hour, the clock moved a minute into the lease: (slot, camera, lease id, now)."""
    chain = lot.chain
    slot, camera = _watched_slot(lot)
    start = (chain.head_time() // HALF_HOUR + 2) * HALF_HOUR
    lease = chain.book(lessee or lot.resident, slot, start, start + 2 * HALF_HOUR)
    chain.set_clock(start + 60)
    lot.daemon.wait_clock(start + 60)
    return slot, camera, lease, start + 60


def _arrive(lot: Lot, camera: Any, slot: int, when: int, tag: bytes) -> bytes:
    event = camera.event(
        "park_start", slot, when * 1000, confidence_bps=LOW_CONFIDENCE, evidence=STILL,
        vehicle_type="car", plate_tag=tag,
    )  # fmt: skip
    reply = wait_until(lambda: lot.daemon.post([event]).json()["accepted"], timeout=20)
    assert reply == ["0x" + event.event.event_id.hex()]
    return event.event.event_id


def _settled(lot: Lot, outcome: str, count: int) -> None:
    wait_until(lambda: lot.daemon.health()["plateReads"].get(outcome, 0) >= count, timeout=30)


def test_the_lessees_plate_checks_the_lease_in_from_the_oracle_account(lot):
    slot, camera, lease, now = _leased_slot(lot)
    _arrive(lot, camera, slot, now, _tag(lot, "12가3456", now))
    market = lot.chain.contract("market")
    wait_until(lambda: market.functions.leaseOf(lease).call()[2] == CHECKED_IN, timeout=30)
    checked = market.events.LeaseCheckedIn().get_logs(
        from_block=0, argument_filters={"leaseId": lease}
    )
    assert [e["args"]["by"] for e in checked] == [lot.chain.people.oracle.address]
    _settled(lot, "checked_in", 1)
    # The same car seen again: the lease is already in, which is no error.
    _arrive(lot, camera, slot, now + 30, _tag(lot, "12가3456", now))
    _settled(lot, "matched", 1)
    assert lot.daemon.metric("citypass_oracle_plate_reads_total", 'outcome="matched"') >= 1
    assert lot.daemon.health()["plateReads"].get("pending", 0) == 0


def test_another_plate_on_a_leased_slot_is_an_unauthorised_occupancy_with_evidence(lot):
    slot, camera, lease, now = _leased_slot(lot)
    event_id = _arrive(lot, camera, slot, now, _tag(lot, "99허9999", now))
    registry = lot.chain.contract("incidents").functions
    incident_id = wait_until(lambda: registry.incidentBySource(event_id).call(), timeout=30)
    stored = registry.incidentOf(incident_id).call()
    assert stored[0] == UNAUTHORISED_OCCUPANCY and stored[6] == slot
    assert stored[5] == lot.chain.people.oracle.address
    assert bytes(stored[7]) == hashlib.sha256(STILL).digest()  # the still is the evidence
    reported = (
        lot.chain.contract("incidents")
        .events.IncidentReported()
        .get_logs(from_block=0, argument_filters={"slotId": slot})
    )
    assert len(reported) == 1 and len(reported[0]["args"]["evidenceCid"]) == 36
    assert lot.chain.contract("market").functions.leaseOf(lease).call()[2] == BOOKED
    _settled(lot, "mismatch", 1)


def test_a_read_waits_while_the_api_is_killed_and_settles_once_it_is_back(lot):
    """Break it: the API dies (kill -9) before the oracle asks for the lessee's tags. The read
    stays pending, nothing is filed and the lease stays booked; once the API is back on its
    port the read settles: the lease is checked in."""
    driver = lot.chain.resident()  # not in the oracle's tag cache yet
    signed_in = StaffApi.sign_in(lot.api.url, driver.address, sign_text(driver), scope="resident")
    registered = lot.api.post(
        "/v1/vehicles", json={"plate": "34나 5678"},
        headers={"Authorization": f"Bearer {signed_in.token}"},
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    slot, camera, lease, now = _leased_slot(lot, lessee=driver)
    lot.api.process.kill()
    lot.api.process.wait()
    try:
        event_id = _arrive(lot, camera, slot, now, _tag(lot, "34나5678", now))
        wait_until(lambda: lot.daemon.health()["plateReads"].get("pending", 0) >= 1, timeout=30)
        time.sleep(3)  # several of the daemon's cycles, each failing to reach the API
        assert lot.daemon.health()["plateReads"].get("pending", 0) >= 1
        market = lot.chain.contract("market")
        assert market.functions.leaseOf(lease).call()[2] == BOOKED
        assert lot.chain.contract("incidents").functions.incidentBySource(event_id).call() == 0
    finally:
        lot.api.restart()
    wait_until(lambda: market.functions.leaseOf(lease).call()[2] == CHECKED_IN, timeout=60)
    wait_until(lambda: lot.daemon.health()["plateReads"].get("pending", 0) == 0, timeout=30)


def test_a_lessee_without_a_vehicle_is_never_an_intruder_on_her_own_space(lot):
    slot, camera, lease, now = _leased_slot(lot, lessee=lot.chain.resident())
    event_id = _arrive(lot, camera, slot, now, _tag(lot, "99허9999", now))
    _settled(lot, "unregistered", 1)
    assert lot.chain.contract("incidents").functions.incidentBySource(event_id).call() == 0
    assert lot.chain.contract("market").functions.leaseOf(lease).call()[2] == BOOKED


def test_a_tag_on_a_slot_without_a_lease_files_nothing(lot):
    chain = lot.chain
    slot, camera = _watched_slot(lot)
    now = chain.head_time()
    before = lot.daemon.health()["plateReads"].get("no_lease", 0)
    _arrive(lot, camera, slot, now, _tag(lot, "99허9999", now))
    _settled(lot, "no_lease", before + 1)
    reported = (
        chain.contract("incidents")
        .events.IncidentReported()
        .get_logs(from_block=0, argument_filters={"slotId": slot})
    )
    assert reported == []


ADDRESSES = {"device_registry": "0x" + "11" * 20, "occupancy_oracle": "0x" + "22" * 20,
             "incident_registry": "0x" + "33" * 20}  # fmt: skip


@pytest.mark.parametrize(
    "flags, message",
    [({"api_url": "ftp://api"}, "api_url='ftp://api' must be the citypass-api's http(s) base URL"),
     ({"api_url": "http://127.0.0.1:8080"}, "api_url needs lease_market"),
     ({"lease_market": "0x12"}, "lease_market='0x12' is not an address"),
     ({"plate_cache_seconds": 0}, "plate_cache_seconds must be in (0, 3600]")],
)  # fmt: skip
def test_bad_plate_settings_are_refused_by_name(flags, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, overrides={**ADDRESSES, **flags})
    assert message in str(caught.value)
