"""The in-memory slot search (indexer/search_index.py) against its reference, `search_slots`
over the same read model: a real ledger node, the indexer scenario plus a scattered neighbourhood
of slots with assorted windows, blackouts and leases, indexed into real SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from citypass.core.timeunits import local_day
from citypass.core.windows import EVERY_DAY, WEEKDAYS, WEEKEND, Window
from citypass.protocol.coarse_location import on_chain_location
from indexer import Indexer, IndexerError, search_slots
from indexer.search_index import (
    SearchIndex,
    Snapshot,
    build_snapshot,
    patch_snapshot,
    read_transaction,
)
from tests.indexer_helpers import (
    CENTER,
    DATABASES,
    PERSONAL,
    PRIVATE_LOT,
    Scenario,
    read_model_url,
    write_deployment,
)
from tests.indexer_helpers import build_scenario as build_indexer_scenario
from tests.oracle_helpers import start_chain, wait_until

HALF_HOUR = 1800
DAY = 86_400
WEEK_UNITS = 7 * 48
# Assorted sharing windows: all day, office hours, overnight on weekdays, weekends, two windows.
WINDOW_SETS = [
    [Window(EVERY_DAY, 0, 48)],
    [Window.hours(WEEKDAYS, "09:00", "18:00")],
    [Window.hours(WEEKDAYS, "19:00", "08:00")],
    [Window(WEEKEND, 0, 48)],
    [Window.hours(EVERY_DAY, "06:00", "10:30"), Window.hours(0b0101010, "17:00", "23:30")],
]


def _register(world: Scenario, dlat: float, dlon: float, windows: list[Window]) -> int:
    chain, system = world.chain, world.chain.system
    slot_id = chain.contract("slots").functions.slotCount().call() + 1
    lat, lon = round((CENTER[0] + dlat) * 1e6), round((CENTER[1] + dlon) * 1e6)
    category = PERSONAL if slot_id % 2 else PRIVATE_LOT
    lat, lon = on_chain_location(category, lat, lon)  # a personal space by its coarse cell
    system.slots.registerSlot(
        world.owner.address, category, 7, lat, lon, {"from": chain.people.operator}
    )
    system.slots.setWindows(slot_id, [w.as_tuple() for w in windows], {"from": world.owner})
    return slot_id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The indexer scenario, then 36 more slots within ~1.5 km: assorted windows and prices,
    blackouts, some withdrawn, and leases booked (some cancelled) through the scenario's week."""
    chain = start_chain(tmp_path_factory.mktemp("chain"))
    try:
        scenario = build_indexer_scenario(chain)
        rng = random.Random(5)
        system = chain.system
        all_day = []
        for i in range(36):
            windows = WINDOW_SETS[i % len(WINDOW_SETS)]
            slot_id = _register(
                scenario, rng.uniform(-0.012, 0.012), rng.uniform(-0.015, 0.015), windows
            )
            if i % len(WINDOW_SETS) == 0:
                all_day.append(slot_id)
            if i % 3 == 0:
                system.slots.setTerms(
                    slot_id, rng.randrange(100, 3000), 100, {"from": scenario.owner}
                )
            if i % 4 == 1 and slot_id not in all_day:
                day = local_day(scenario.at(rng.randrange(1, 7), 12))
                system.slots.setBlackout(slot_id, day, True, {"from": scenario.owner})
            if i % 9 == 4:
                system.slots.setActive(slot_id, False, {"from": scenario.owner})
        system.credit.mint(
            scenario.lessee.address, 10_000_000, b"\0" * 32, {"from": chain.people.treasury}
        )
        # 8 all-day slots × 6 days: each (slot, day) once, so no booking overlaps another.
        for n in range(24):
            slot_id = all_day[n % len(all_day)]
            start = scenario.at(1 + n % 6, 0) + rng.randrange(0, 40) * HALF_HOUR
            lease = chain.book(
                scenario.lessee, slot_id, start, start + rng.randrange(1, 9) * HALF_HOUR
            )
            if n % 4 == 0:
                system.market.cancel(lease, {"from": scenario.lessee})
        yield scenario
    finally:
        chain.node.stop()


@pytest.fixture(scope="module")
def deployment_file(world: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_deployment(world.chain, tmp_path_factory.mktemp("deployment") / "ledger.json")


@pytest.fixture(scope="module", params=DATABASES)
def indexer(
    request: pytest.FixtureRequest, world: Scenario, deployment_file: Path, tmp_path_factory: Any
) -> Iterator[Indexer]:
    url = read_model_url(request.param, tmp_path_factory.mktemp("readmodel"), request.config)
    built = Indexer(url, world.chain.node.url, deployment_file, chunk_size=64)
    built.backfill()
    yield built
    built.close()


def _reference(indexer: Indexer, *query: Any) -> list:
    with Session(indexer.engine) as session:
        return search_slots(session, *query)


def _assert_same_answers(indexer: Indexer, snapshot: Snapshot, queries: list[tuple]) -> None:
    for query in queries:
        assert snapshot.search(*query) == _reference(indexer, *query), query


def _cells(snapshot: Snapshot) -> dict:
    return {cell: {s.slot_id for s in members} for cell, members in snapshot.cells.items()}


# ------------------------------------------------------------------------------- answers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dlat=st.floats(-0.015, 0.015),
    dlon=st.floats(-0.02, 0.02),
    radius_m=st.one_of(st.sampled_from([300.0, 500.0, 1000.0, 5000.0]), st.floats(1, 5000)),
    first_unit=st.integers(0, WEEK_UNITS),
    units=st.integers(1, WEEK_UNITS),
)
def test_index_answers_exactly_as_search_slots(
    indexer: Indexer, world: Scenario, dlat, dlon, radius_m, first_unit, units
):
    snapshot = SearchIndex(indexer.engine).refresh()
    start = world.monday + first_unit * HALF_HOUR
    query = (CENTER[0] + dlat, CENTER[1] + dlon, radius_m, start, start + units * HALF_HOUR)
    assert snapshot.search(*query) == _reference(indexer, *query)


def test_index_finds_what_the_scenario_says_and_pages_the_nearest(
    indexer: Indexer, world: Scenario
):
    snapshot = SearchIndex(indexer.engine).refresh()
    slots = world.slots
    lat, lon = CENTER
    # Monday 10:00–12:00: A is leased, B blacked out, C open on weekdays 09–18 at ₩1,000.
    monday = snapshot.search(lat, lon, 500, world.at(0, 10), world.at(0, 12))
    assert slots["C"] in [o.slot_id for o in monday]
    assert {slots["A"], slots["B"], slots["E"]}.isdisjoint(o.slot_id for o in monday)
    found, page = snapshot.search_page(lat, lon, 2000, world.at(1, 20), world.at(1, 21), 3)
    everything = _reference(indexer, lat, lon, 2000, world.at(1, 20), world.at(1, 21))
    assert found == len(everything) > 3 and page == everything[:3]


def test_far_away_and_polar_queries_match_the_reference(indexer: Indexer, world: Scenario):
    snapshot = SearchIndex(indexer.engine).refresh()
    start = world.at(1, 10)
    _assert_same_answers(
        indexer, snapshot,
        [(89.99, 0.0, 5000, start, start + HALF_HOUR),  # a box over every longitude
         (-37.5, -126.7, 5000, start, start + HALF_HOUR),
         (CENTER[0], 179.999, 5000, start, start + HALF_HOUR)],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("radius_m", "shift_start", "shift_end", "words"),
    [
        (500, 60, 0, "half-hour"),
        (500, 0, -4 * HALF_HOUR, "start before it ends"),
        (0, 0, 0, "must be positive"),
        (-5, 0, 0, "must be positive"),
    ],
)
def test_bad_queries_fail_as_the_reference_does(
    indexer: Indexer, world: Scenario, radius_m, shift_start, shift_end, words
):
    snapshot = SearchIndex(indexer.engine).refresh()
    query = (*CENTER, radius_m, world.at(1, 10) + shift_start, world.at(1, 11) + shift_end)
    with pytest.raises(IndexerError, match=words) as from_index:
        snapshot.search(*query)
    with pytest.raises(IndexerError) as from_reference:
        _reference(indexer, *query)
    assert str(from_index.value) == str(from_reference.value)


# ------------------------------------------------------------------------------- refresh


def test_refresh_patches_in_leases_cancellations_windows_blackouts_and_withdrawals(
    indexer: Indexer, world: Scenario
):
    chain, system, owner = world.chain, world.chain.system, world.owner
    # Fresh slots of this test's own (it runs once per database on the same chain).
    fresh = [_register(world, 0.0004 * i, -0.0003 * i, WINDOW_SETS[0]) for i in range(1, 7)]
    leased, freed, reshaped, blacked, withdrawn, repriced = fresh
    day = 2  # Wednesday of the scenario's week
    to_cancel = chain.book(world.lessee, freed, world.at(day, 10), world.at(day, 12))
    indexer.backfill()
    index = SearchIndex(indexer.engine)
    before = index.refresh()
    assert {leased, freed, reshaped, blacked, withdrawn, repriced} <= set(before.slots)

    chain.book(world.lessee, leased, world.at(day, 11), world.at(day, 13))
    system.market.cancel(to_cancel, {"from": world.lessee})
    system.slots.setWindows(reshaped, [Window(WEEKEND, 0, 48).as_tuple()], {"from": owner})
    system.slots.setBlackout(blacked, local_day(world.at(day, 0)), True, {"from": owner})
    system.slots.setActive(withdrawn, False, {"from": owner})
    system.slots.setTerms(repriced, 2222, 100, {"from": owner})
    added = _register(world, -0.0005, 0.0005, WINDOW_SETS[0])
    indexer.backfill()

    # Patching the old snapshot gives exactly what a full build of the new read model gives.
    with read_transaction(indexer.engine) as conn:
        patched = patch_snapshot(before, conn)
        built = build_snapshot(conn)
    assert patched is not None and patched is not before
    assert (patched.block, patched.block_hash) == (built.block, built.block_hash)
    assert patched.slots == built.slots and _cells(patched) == _cells(built)

    after = index.refresh()
    assert after.block == indexer.cursor()[0] > before.block
    window = (*CENTER, 500, world.at(day, 10), world.at(day, 12))
    offers = {o.slot_id: o for o in after.search(*window)}
    assert freed in offers and added in offers
    assert {leased, reshaped, blacked, withdrawn}.isdisjoint(offers)
    assert offers[repriced].price == 4 * 2222
    _assert_same_answers(
        indexer, after,
        [window, (*CENTER, 300, world.at(day, 13), world.at(day, 15)),
         (*CENTER, 1000, world.at(day - 1, 22), world.at(day + 1, 2))],
    )  # fmt: skip


def test_refresh_without_new_blocks_keeps_the_snapshot(indexer: Indexer):
    index = SearchIndex(indexer.engine)
    first = index.refresh()
    assert index.refresh() is first
    assert index.current(max_age=60) is first


def test_a_rebuilt_read_model_is_read_afresh(
    indexer: Indexer, world: Scenario, deployment_file: Path, tmp_path: Path
):
    ahead = SearchIndex(indexer.engine).refresh()
    behind = Indexer(f"sqlite:///{tmp_path / 'rebuilt.db'}", world.chain.node.url, deployment_file)
    try:
        behind.backfill(to_block=ahead.block - 3)
        with read_transaction(behind.engine) as conn:
            assert patch_snapshot(ahead, conn) is None  # the cursor went back: build afresh
        rebuilt = SearchIndex(behind.engine).refresh()
        assert rebuilt.block == ahead.block - 3
    finally:
        behind.close()


def test_background_refresher_follows_the_indexer(indexer: Indexer, world: Scenario):
    index = SearchIndex(indexer.engine, check_interval=0.05)
    first = index.refresh()
    index.start()
    try:
        slot = _register(world, 0.0002, 0.0009, WINDOW_SETS[0])
        indexer.backfill()
        cursor = indexer.cursor()[0]

        def caught_up() -> bool:
            current = index.current(max_age=5)
            return current is not None and current.block == cursor

        wait_until(caught_up, timeout=10, interval=0.02)
        assert slot in index.current(max_age=5).slots and slot not in first.slots
    finally:
        index.close()


def test_idle_refresher_rests_and_the_next_search_catches_up(indexer: Indexer, world: Scenario):
    index = SearchIndex(indexer.engine, check_interval=0.02, idle_after=0.1)
    first = index.refresh()
    index.start()
    try:
        slot = _register(world, -0.0002, -0.0009, WINDOW_SETS[0])
        indexer.backfill()
        time.sleep(0.3)  # fifteen chances to refresh, none taken: nobody searched
        assert index.current(max_age=math.inf) is first
        # That read counts as a search: the refresher wakes up and catches up.
        wait_until(lambda: slot in index.current(max_age=math.inf).slots, timeout=10)
    finally:
        index.close()
