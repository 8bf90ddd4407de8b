"""Who may read a resident's records through the API (api/record_access.py, docs/privacy.md):
her leases, balance, trips and journeys, and a person's slots and earnings, need her own SIWE
session or a staff session of AUDITOR, INSPECTOR or CITY_ADMIN. An outsider hears 401 and
another resident (or staff of another role) 403, each saying what is needed; an organisation's
slots and earnings stay public. Real API over HTTP, a real node, real SIWE signatures."""

from __future__ import annotations

import pytest
from eth_account import Account

from citypass.protocol.roles import ROLES
from tests.api_helpers import World, error_of, sqlite_world
from tests.indexer_helpers import PERSONAL, PRIVATE_LOT
from tests.oracle_helpers import wait_until
from tests.siwe_helpers import bearer, resident_bearer

RECORDS = ("leases", "balance", "trips", "journeys")


# Who may read a record is decided in Python (api/record_access.py), not by a query: one
# database is enough; the queries behind each endpoint run on both in their own suites.
world = sqlite_world


@pytest.fixture(scope="module")
def staff(world: World) -> dict[str, dict[str, str]]:
    """A staff session of each role that reads records, and one (OPERATOR) that does not."""
    admin = {"from": world.chain.people.admin}
    sessions = {}
    for role in ("AUDITOR", "INSPECTOR", "CITY_ADMIN", "OPERATOR"):
        account = Account.create()
        world.chain.system.access.grantRole(ROLES[role], account.address, admin)
        sessions[role] = bearer(world.api.url, world.chain.chain_id, account)
    return sessions


def _without_block(reply) -> dict:
    """The answer but its indexed block (the follower may move between two reads)."""
    assert reply.status_code == 200, reply.text
    return {k: v for k, v in reply.json().items() if k != "indexedBlock"}


def _get(world: World, address: str, record: str, headers: dict | None = None):
    return world.api.get(f"/v1/members/{address}/{record}", headers=headers or {})


@pytest.mark.parametrize("record", RECORDS)
def test_an_outsider_is_refused_and_told_what_is_needed(world: World, record: str):
    lessee = world.scenario.lessee.address
    error = error_of(_get(world, lessee, record), 401)
    assert error["code"] == "session_missing"
    assert "resident's own wallet session" in error["message"] and "AUDITOR" in error["message"]
    forged = error_of(_get(world, lessee, record, {"Authorization": "Bearer not-a-token"}), 401)
    assert forged["code"] == "session_unknown"


@pytest.mark.parametrize("record", RECORDS)
def test_another_resident_is_refused(world: World, record: str):
    other = Account.create()
    own = resident_bearer(world.api.url, world.chain.chain_id, other)
    lessee = world.scenario.lessee.address
    error = error_of(_get(world, lessee, record, own), 403)
    assert error["code"] == "not_your_records"
    assert other.address in error["message"] and lessee in error["message"]
    # Her own (empty) records are hers to read.
    assert _get(world, other.address, record, own).status_code == 200


def test_the_resident_herself_and_the_record_readers_see_the_same_records(
    world: World, staff: dict
):
    s = world.scenario
    own = resident_bearer(world.api.url, world.chain.chain_id, s.lessee)
    for record in RECORDS:
        mine = _without_block(_get(world, s.lessee.address, record, own))
        for role in ("AUDITOR", "INSPECTOR", "CITY_ADMIN"):
            assert _without_block(_get(world, s.lessee.address, record, staff[role])) == mine
    leases = _get(world, s.lessee.address, "leases", staff["AUDITOR"]).json()["leases"]
    assert {lease["leaseId"] for lease in leases} >= set(s.leases.values())
    balance = _get(world, s.lessee.address, "balance", staff["AUDITOR"]).json()
    assert balance["balance"] == 94_000 and balance["history"]


def test_staff_of_another_role_is_refused(world: World, staff: dict):
    error = error_of(_get(world, world.scenario.lessee.address, "leases", staff["OPERATOR"]), 403)
    assert (
        error["code"] == "not_your_records" and "AUDITOR, INSPECTOR, CITY_ADMIN" in error["message"]
    )


def test_a_bad_address_is_still_422_before_any_session(world: World):
    for record in RECORDS:
        error = error_of(world.api.get(f"/v1/members/0x1234/{record}"), 422)
        assert "40 hex digits" in error["message"]


def _register(world: World, owner: str, category: int) -> int:
    chain = world.chain
    slot_id = chain.contract("slots").functions.slotCount().call() + 1
    chain.system.slots.registerSlot(
        owner, category, 21, 37_520_000, 126_780_000, {"from": chain.people.operator}
    )
    head = chain.w3.eth.block_number
    wait_until(lambda: world.api.get("/health").json()["indexedBlock"] >= head, timeout=30)
    return slot_id


def test_a_person_owner_needs_her_session_and_an_organisation_stays_public(
    world: World, staff: dict
):
    # A resident sharing her home space is a person; a lot operator (owns a private lot's
    # space) is an organisation (api/address_book/facts.py).
    resident = world.chain.new_member()
    home = _register(world, resident.address, PERSONAL)
    lot_operator = Account.create()
    lot_slot = _register(world, lot_operator.address, PRIVATE_LOT)
    stranger = resident_bearer(world.api.url, world.chain.chain_id, Account.create())
    own = resident_bearer(world.api.url, world.chain.chain_id, resident)
    for path in ("slots", "earnings"):
        url = f"/v1/owners/{resident.address}/{path}"
        assert error_of(world.api.get(url), 401)["code"] == "session_missing"
        assert error_of(world.api.get(url, headers=stranger), 403)["code"] == "not_your_records"
        mine = _without_block(world.api.get(url, headers=own))
        assert mine == _without_block(world.api.get(url, headers=staff["AUDITOR"]))
        public = world.api.get(f"/v1/owners/{lot_operator.address}/{path}")
        assert public.status_code == 200, public.text
    slots = world.api.get(f"/v1/owners/{resident.address}/slots", headers=own).json()["slots"]
    assert [slot["slotId"] for slot in slots] == [home]
    public = world.api.get(f"/v1/owners/{lot_operator.address}/slots").json()["slots"]
    assert [slot["slotId"] for slot in public] == [lot_slot]
    # A slot's details name a person owner only to her and to record readers; an organisation
    # owner to everyone. A session that is sent must be live.
    detail = f"/v1/slots/{home}"
    assert world.api.get(detail).json()["owner"] is None
    assert world.api.get(detail, headers=stranger).json()["owner"] is None
    assert world.api.get(detail, headers=own).json()["owner"] == resident.address
    assert world.api.get(detail, headers=staff["AUDITOR"]).json()["owner"] == resident.address
    assert world.api.get(detail, headers=staff["OPERATOR"]).json()["owner"] is None
    assert world.api.get(f"/v1/slots/{lot_slot}").json()["owner"] == lot_operator.address
    forged = world.api.get(detail, headers={"Authorization": "Bearer not-a-token"})
    assert error_of(forged, 401)["code"] == "session_unknown"
