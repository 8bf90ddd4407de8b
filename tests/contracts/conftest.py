"""Fixtures of the contract tests: the mobility world, its riders, and brownie's state machine
runner (for the stateful tests). The deployment itself is tests/conftest.py's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import brownie.test
import pytest

from tests.contract_helpers import mine_at, next_day_start, part_fixture, role_holder
from tests.mobility_fixtures import (
    BUS_PLAN,
    CAR_PLAN,
    CAR_SHARE,
    HOUR,
    KICK_SCOOTER,
    MAX_UINT,
    SCOOTER_PLAN,
    TRANSIT,
    Mobility,
    make_operator,
)


@pytest.fixture(scope="module")
def mob(system, people, accounts, residents):
    """Three operators (kick-scooter, car-share, bus), an INSPECTOR (11), two VALET workers
    (12, 13); the residents approve the trip and valet contracts. 08:00 KST of a fresh day."""
    scooter = make_operator(system, people, accounts, KICK_SCOOTER, SCOOTER_PLAN)
    car = make_operator(system, people, accounts, CAR_SHARE, CAR_PLAN)
    bus = make_operator(system, people, accounts, TRANSIT, BUS_PLAN)
    inspector = role_holder(system, people, accounts[11], "INSPECTOR")
    workers = [role_holder(system, people, a, "VALET") for a in accounts[12:14]]
    for rider in residents:
        system.credit.approve(system.trips, MAX_UINT, {"from": rider})
        system.credit.approve(system.valet, MAX_UINT, {"from": rider})
    # 08:00 KST of a fresh day, so a test's trips, settlements and statements share one KST day
    mine_at(next_day_start() + 8 * HOUR)
    return Mobility(system, people, scooter, car, bus, inspector, workers)


rider, other_rider = (
    part_fixture(name, "residents", i) for i, name in enumerate(("rider", "other_rider"))
)


def _brownie_state_machine_from_source():
    """brownie's `state_machine`, run from the pure-Python stateful.py its wheel ships.

    brownie 1.22.2 compiles brownie/test/stateful.py with mypyc (eth-brownie/brownie#1952), and
    the compiled `_BrownieStateMachine` is a `@final` class whose methods reject the subclass
    `state_machine` builds ("_BrownieStateMachine object expected; got BrownieStateMachine"),
    so the `state_machine` fixture fails before the first step. The source module beside the
    extension is the same code, interpreted, and works."""
    source = Path(brownie.test.__file__).with_name("stateful.py")
    if not source.exists():
        return brownie.test.state_machine
    spec = importlib.util.spec_from_file_location("_brownie_stateful_source", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


@pytest.fixture
def state_machine():
    """Overrides brownie's fixture of the same name (see above); same call signature."""
    return _brownie_state_machine_from_source()
