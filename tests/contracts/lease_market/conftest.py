"""Fixtures of the lease market tests: the START..END lease (see helpers.py), members short of
credits or allowance, a wallet key, and slots shared on weekdays or overnight."""

from __future__ import annotations

import pytest

from citypass.core.timeunits import MONDAY, next_weekday_midnight
from tests.contract_helpers import key_member, member, mine_at, shared_slot
from tests.contracts.lease_market.helpers import (
    HOUR,
    HOURS,
    MAX_PRICE,
    OVERNIGHT_WINDOW,
    START_HOUR,
    WEEKDAY_WINDOW,
)


@pytest.fixture(scope="module")
def other(residents):
    return residents[1]


@pytest.fixture(scope="module")
def start(day):
    return day + START_HOUR * HOUR


@pytest.fixture(scope="module")
def end(start):
    return start + HOURS * HOUR


@pytest.fixture
def lease(market, slot_id, resident, start, end):
    """START..END booked by `resident` long before the start (outside the grace period)."""
    return market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value


@pytest.fixture
def checked_in(market, lease, resident, start):
    mine_at(start)
    market.checkIn(lease, {"from": resident})
    return lease


@pytest.fixture(scope="module")
def penniless(accounts, system, people):
    """A member who approved the market but holds no credits."""
    return member(system, people, accounts[11], approve=True)


@pytest.fixture(scope="module")
def unapproved(accounts, system, people):
    """A member with credits who never approved the market."""
    return member(system, people, accounts[12], credits=100_000)


@pytest.fixture(scope="module")
def signer(accounts, system, people):
    """A throwaway key (a wallet app's resident) with credits and no allowance."""
    key = key_member(accounts, system, people, 100_000)
    return key, accounts.at(key.address)


def _slot_shared_in(system, people, owner, window):
    return shared_slot(system, people, owner, lot=2, at=(37_500_000, 126_780_000), windows=[window])


@pytest.fixture(scope="module")
def weekday_slot(system, people, owner):
    """A commuter's space: Mon-Fri 09:00-18:00."""
    return _slot_shared_in(system, people, owner, WEEKDAY_WINDOW)


@pytest.fixture(scope="module")
def overnight_slot(system, people, owner):
    """The Technopark lot: nights starting Mon-Fri, 19:00-08:00."""
    return _slot_shared_in(system, people, owner, OVERNIGHT_WINDOW)


@pytest.fixture(scope="module")
def monday(day):
    """00:00 KST of the first Monday on or after `day`."""
    return next_weekday_midnight(day - 1, MONDAY)
