"""The demo's mobility part, run in-process on the test chain: a small village (a few member
wallets, Samjeong public lot B) gets the day's scooter, car-share and bus trips, journeys and
valet jobs through the same `run_day` loop `make demo` uses, and the summary is read back."""

from __future__ import annotations

import random
import re

import pytest
from eth_account import Account

from citypass.core.windows import EVERY_DAY, Window
from demo import chain_figures
from demo.day import run_day
from demo.mobility_day import (
    SUBSIDY_BUDGET,
    VALET_LOT,
    MobilityResult,
    build_mobility,
    plan_mobility,
    render_mobility,
)
from demo.summary import render
from demo.village import LOTS
from demo.world import Slot, World
from tests.contract_helpers import mine_at, next_day_start

HOUR = 3600


@pytest.fixture(scope="module")
def small_world(accounts, system, people):
    members, keys = [], {}
    for _ in range(24):
        local = Account.create()
        member = accounts.add(local.key)
        system.access.onboard(member, {"from": people.admin})
        system.credit.mint(member, 100_000, b"\x00" * 32, {"from": people.treasury})
        members.append(member)
        keys[member.address] = local.key
    world = World(system, people, members, keys)
    lot = next(plan for plan in LOTS if plan.lot_id == VALET_LOT)
    for index in range(16):
        slot_id = system.slots.registerSlot(
            people.city_fund,
            lot.category,
            lot.lot_id,
            lot.lat_e6 + index,
            lot.lon_e6,
            {"from": people.operator},
        ).return_value
        system.slots.setWindows(
            slot_id, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": people.city_fund}
        )
        world.slots.append(Slot(slot_id, lot, people.city_fund))
    return world


def test_mobility_day_runs_and_reports(small_world, accounts):
    rng = random.Random(2019)
    world = small_world
    day = next_day_start() + 86400
    mine_at(day + 5 * HOUR)
    mobility = build_mobility(world, accounts, rng, riders=20)
    result = MobilityResult()
    steps = plan_mobility(world, mobility, day, rng, result)
    assert len(steps) > 200
    day_result = run_day(world, day, [], mine_at, also=steps)

    assert not day_result.failures, day_result.failures
    names = [operator.spec.name for operator in mobility.operators]
    assert all(result.trips[name] > 0 for name in names), result.trips
    ended = sum(result.trips.values())
    assert result.settled == ended == world.system.trips.tripCount()
    # every fare split and credited: the operators' claimables are their shares of what riders paid
    for operator in mobility.operators:
        assert world.system.split.claimable(operator.account) > 0
    assert result.journeys > 0 and result.transfers > 0
    assert result.discounts == SUBSIDY_BUDGET - world.system.journeys.pool() > 0
    returned = sum(result.valet_jobs.values())
    assert returned == result.valet_requests - result.valet_cancelled > 0
    for worker in mobility.workers:
        assert world.system.split.claimable(worker) == result.valet_jobs[worker.address] * 3500

    # the summary's revenue table reads the allocations back from the chain's logs: nobody has
    # claimed yet, so each mobility group's figure is what its payees may claim
    figures = chain_figures.read(world, day, len(world.slots))
    claimable = world.system.split.claimable
    operators = sum(claimable(op.account) for op in mobility.operators)
    workers = sum(claimable(worker) for worker in mobility.workers)
    assert figures.revenue["mobility operators"] == operators > 0
    assert figures.revenue["valet workers"] == workers > 0
    table = render(world, day_result, figures)
    assert re.search(rf"Mobility operators \(fares\) +₩{operators:,} ", table), table
    assert re.search(rf"Valet workers \(fees\) +₩{workers:,} ", table), table
    summary = render_mobility(world, mobility, result)
    assert f"trips {result.trips[names[0]]:>4}" in summary
    assert f"subsidies spent ₩{result.discounts:,}" in summary
    assert f"cars returned: {returned}" in summary
