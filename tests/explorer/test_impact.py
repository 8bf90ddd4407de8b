"""The impact KPIs (api/explorer/impact.py) on a small real world: base and shared slots,
members, leases, incidents and roles put on a real ledger node, the API's read model following
it; each figure is checked against what the test put on chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from citypass.core.pilot import PILOT_REPORTED
from citypass.core.timeunits import day_label, local_day, next_weekday_midnight
from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.roles import ROLES
from tests.explorer_helpers import CID, ExplorerWorld, serve_world, write_deployment
from tests.indexer_helpers import Scenario
from tests.oracle_helpers import start_chain

HOUR = 3600
PUBLIC_LOT, PRIVATE_LOT, PERSONAL = 0, 1, 3
ALL_DAY = [Window(EVERY_DAY, 0, 48).as_tuple()]
# Illegal-parking incidents per day of the world (days 0, 1 before the first booking on day 2).
INCIDENTS = {0: [9, 17], 1: [7, 8, 12, 20], 2: [10], 3: [9, 11, 15]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    base = Path(tmp_path_factory.mktemp("impact"))
    chain = start_chain(base / "chain")
    system, people = chain.system, chain.people
    monday = next_weekday_midnight(chain.head_time() + HOUR, 0)

    def at(day: int, hour: float) -> int:
        return monday + day * 86_400 + int(hour * HOUR)

    chain.set_clock(at(0, 6))
    operator = {"from": people.operator}
    residents = [chain.resident(credit=100_000) for _ in range(6)]
    system.access.suspend(residents[5].address, b"moved".ljust(32, b"\0"), {"from": people.admin})
    technopark = chain.new_member()

    def slot(owner, category: int, lot: int, windows: list | None) -> int:
        slot_id = chain.contract("slots").functions.slotCount().call() + 1
        system.slots.registerSlot(owner.address, category, lot, 37_517_000, 126_777_000, operator)
        if windows:
            system.slots.setWindows(slot_id, windows, {"from": owner})
        return slot_id

    # Base spaces: three public (the city's), two private (a resident's); none shared.
    for _ in range(3):
        slot(people.city_fund, PUBLIC_LOT, 11, None)
    for _ in range(2):
        slot(residents[0], PERSONAL, 12, None)
    shared = [slot(technopark, PRIVATE_LOT, 1, ALL_DAY) for _ in range(2)]
    shared.append(slot(residents[1], PERSONAL, 5, ALL_DAY))
    withdrawn = slot(residents[1], PERSONAL, 5, ALL_DAY)
    system.slots.setActive(withdrawn, False, {"from": residents[1]})
    base_withdrawn = slot(people.city_fund, PUBLIC_LOT, 11, None)
    system.slots.setActive(base_withdrawn, False, {"from": people.city_fund})

    # Staff: two valet workers (one leaves), an inspector; the platform operator already holds
    # OPERATOR from the deployment. Staff are not members (no vehicle of theirs is counted).
    admin = {"from": people.admin}
    valets = [Account.create() for _ in range(2)]
    for worker in valets:
        system.access.grantRole(ROLES["VALET"], worker.address, admin)
    system.access.revokeRole(ROLES["VALET"], valets[1].address, admin)
    system.access.grantRole(ROLES["INSPECTOR"], Account.create().address, admin)

    number = 0
    for day in (0, 1):
        for hour in INCIDENTS[day]:
            chain.set_clock(at(day, hour))
            number += 1
            _report(chain, number, at(day, hour))
    # Sharing starts: the first booking on day 2 at 08:00.
    chain.set_clock(at(2, 8))
    chain.book(residents[2], shared[0], at(2, 9), at(2, 10))
    chain.book(residents[2], shared[0], at(3, 10), at(3, 12))  # 2 h on day 3
    chain.book(residents[3], shared[1], at(3, 22), at(4, 2))  # 2 h of it on day 3
    cancelled = chain.book(residents[4], shared[2], at(3, 14), at(3, 16))
    system.market.cancel(cancelled, {"from": residents[4]})
    for day in (2, 3):
        for hour in INCIDENTS[day]:
            chain.set_clock(at(day, hour))
            number += 1
            _report(chain, number, at(day, hour))
    chain.set_clock(at(4, 1))  # day 3 is the latest complete day

    world = ExplorerWorld(Scenario(chain, monday=monday), url="")
    serve_world(base, world, write_deployment(chain, base / "deployment.json"))
    world.wait_indexed()
    yield world
    world.stop()


def _report(chain, number: int, observed_at: int) -> None:
    incident = (0, 0, 37_503_000, 126_787_000, observed_at, 9_000, number.to_bytes(32, "big"),
                b"\x02" * 32, CID)  # fmt: skip
    chain.system.incidents.reportIncident(incident, {"from": chain.people.oracle})


@pytest.fixture(scope="module")
def impact(world):
    kpis = world.get("/v1/kpis").json()
    return kpis, {figure["key"]: figure for figure in kpis["impact"]["figures"]}


def test_every_figure_has_its_pilot_figure_definition_inputs_and_block(world, impact):
    kpis, figures = impact
    assert list(figures) == ["supplyRatio", "extraSpacesPerDay", "illegalParkingPerDay", "jobs"]
    assert kpis["impact"]["asOfBlock"] == kpis["indexedBlock"] == world.chain.w3.eth.block_number
    for key, figure in figures.items():
        assert figure["pilot"] == PILOT_REPORTED[key]
        assert figure["definition"] and figure["inputs"]


def test_the_supply_ratio_counts_registered_base_and_shared_spaces_per_member_vehicle(impact):
    figure = impact[1]["supplyRatio"]
    # 5 active base spaces (one withdrawn), 3 active shared (one withdrawn); 5 vehicles: six
    # residents less the suspended one (the city fund, platform and Technopark are not vehicles).
    assert figure["counts"] == {"baseSpaces": 5, "sharedSpaces": 3, "vehicles": 5}
    assert (figure["before"], figure["after"]) == (1.0, 1.6)


def test_extra_spaces_a_day_are_the_latest_days_leased_hours_over_24(world, impact):
    figure = impact[1]["extraSpacesPerDay"]
    day3 = day_label(local_day(world.scenario.monday) + 3)
    assert figure["day"] == day3
    assert figure["counts"]["leasedSpaceHours"] == 4.0  # the cancelled lease is not counted
    assert figure["value"] == round(4 / 24, 2)


def test_illegal_parking_before_and_after_sharing_from_the_chains_incidents(world, impact):
    figure = impact[1]["illegalParkingPerDay"]
    first = local_day(world.scenario.monday)
    assert figure["counts"]["byDay"] == {
        day_label(first + day): len(hours) for day, hours in INCIDENTS.items()
    }
    assert (figure["counts"]["beforeDays"], figure["counts"]["afterDays"]) == (2, 2)
    assert figure["before"] == (2 + 4) / 2 and figure["after"] == (1 + 3) / 2


def test_jobs_are_the_staff_roles_held_now(impact):
    figure = impact[1]["jobs"]
    assert figure["counts"] == {"VALET": 1, "INSPECTOR": 1, "OPERATOR": 1}
    assert figure["value"] == 3


def test_the_dashboard_still_draws_with_the_impact_figures(world):
    assert world.get("/dashboard").status_code == 200
