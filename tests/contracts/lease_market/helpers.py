"""Constants and checks shared by the lease market tests (the fixtures are in conftest.py).

Times: the `day` fixture is 00:00 KST of a fresh day and the chain sits at 02:00 KST the day
before. START..END (10:00-12:00 KST on `day`) is a 4-unit, ₩2,400 lease on the default slot.
"""

from __future__ import annotations

import ast
import contextlib

import pytest
from brownie import chain
from brownie.exceptions import VirtualMachineError

from citypass.core.windows import WEEKDAYS, Window
from citypass.protocol.signing import sign_permit
from tests.contract_helpers import expected_error, head_time

PERSONAL = 3
HOUR = 3600
MINUTE = 60
DAY = 86400
UNIT = 1800
MAX_UINT = 2**256 - 1
MAX_PRICE = 10**9

# LeaseStatus
NONE, BOOKED, CHECKED_IN, SETTLED, CANCELLED, NO_SHOW = range(6)

START_HOUR, HOURS = 10, 2
PRICE = HOURS * 2 * 600  # ₩600 per 30 min
OWNER_BPS, VILLAGE_BPS, PLATFORM_BPS = 6000, 2500, 1500  # PERSONAL split
DEFAULT_POLICY = (3600, 600, 5000, 2000, 900)
WEEKDAY_WINDOW = Window.hours(WEEKDAYS, "09:00", "18:00")  # a commuter's space
OVERNIGHT_WINDOW = Window.hours(WEEKDAYS, "19:00", "08:00")  # the Technopark lot


@contextlib.contextmanager
def reverts_at_block(name, args_of_now):
    """Exactly `name(args_of_now(t))`, where t is the time of the block that mined the revert
    (for errors that carry block.timestamp; anvil may land a transaction a second after
    `mine_at`, so the time is read back rather than assumed)."""
    with pytest.raises(VirtualMachineError) as info:
        yield
    now = head_time()
    expected = expected_error(name, *args_of_now(now))
    assert info.value.revert_msg == expected


def permit_failure_reason(exc: VirtualMachineError) -> bytes:
    """The inner revert data of a LeaseMarketPermitFailed(bytes) message."""
    name, _, arg = exc.revert_msg.partition(": ")
    assert name == "LeaseMarketPermitFailed"
    return ast.literal_eval(arg)


def lease_id(slot: int, start: int, generation: int = 0) -> int:
    return (slot << 48) | ((start // UNIT) << 8) | generation


def shares(amount: int) -> tuple[int, int, int, int]:
    """The PERSONAL split of `amount` (dust to the village enterprise)."""
    owner = amount * OWNER_BPS // 10_000
    village = amount * VILLAGE_BPS // 10_000
    platform = amount * PLATFORM_BPS // 10_000
    return owner, village + (amount - owner - village - platform), 0, platform


def assert_allocated(tx, owner, amount):
    event = tx.events["RevenueAllocated"]
    assert event["owner"] == owner
    assert event["category"] == PERSONAL
    assert event["amount"] == amount
    parts = (event["ownerShare"], event["villageShare"], event["cityShare"], event["platformShare"])
    assert parts == shares(amount)


def assert_cancelled(tx, market, lease, by, refund, retained):
    event = tx.events["LeaseCancelled"]
    assert event["leaseId"] == lease
    assert event["by"] == by
    assert (event["refund"], event["retained"]) == (refund, retained)
    assert market.leaseOf(lease)[2] == CANCELLED


def permit(credit, market, key, owner, value, deadline, signing_key=None):
    """An EIP-2612 permit for the market to spend `value` of `owner`'s credits."""
    return sign_permit(
        signing_key or key.key,
        token_name="CityPass Credit",
        token_address=credit.address,
        chain_id=chain.id,
        owner=owner.address,
        spender=market.address,
        value=value,
        nonce=credit.nonces(owner.address),
        deadline=deadline,
    )
