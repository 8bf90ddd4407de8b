"""A brownie state machine over the lease market: many slots, residents and roles at once.

The machine books, cancels, checks in and out, settles no-shows, pays overstay debts, claims,
reprices slots and moves time forward, and predicts the outcome of every call (including the
exact custom error of a call that must fail) from a Python model. After every step it checks:

- no two live leases of a slot overlap (in the model, and in the contract's calendar);
- credits are conserved: every holder's balance matches the model, they sum to totalSupply,
  and the split holds exactly the escrow of open leases plus what its payees may claim;
- every RevenueAllocated event's four shares sum to its amount (and match the category split);
- only authorised roles change state (privileged calls by strangers and plain members revert).

Every transaction is pinned to the model's clock (`evm_setNextBlockTimestamp`), so time-based
predictions (cancellation refunds, check-in windows, overstay steps) are exact.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from itertools import pairwise

import pytest
from brownie import ZERO_ADDRESS, web3
from brownie.test import strategy
from eth_abi import encode
from eth_utils import keccak
from hypothesis import event
from hypothesis import strategies as st

from citypass.core.windows import EVERY_DAY, WEEKDAYS, Window, covers
from citypass.protocol.roles import ROLES
from tests.contract_helpers import (
    head_time,
    mine_at,
    next_day_start,
    next_month_start,
    pin_next_block,
    reverts_with,
)

UNIT = 1800
BPS = 10_000
MAX_UINT = 2**256 - 1
ZERO_RECEIPT = b"\x00" * 32
HORIZON_UNITS = 96  # bookings start within two days of the current half-hour
FREE_CANCEL_CUTOFF = 3600
BOOKING_GRACE = 600
LATE_REFUND_BPS = 5000
CHECK_IN_EARLY = 900
OVERSTAY_PENALTY = 2000
OVERAGE_STEP = 600

DEFAULT_POLICY = (
    FREE_CANCEL_CUTOFF,
    BOOKING_GRACE,
    LATE_REFUND_BPS,
    OVERSTAY_PENALTY,
    CHECK_IN_EARLY,
)
VILLAGE_PAYEE = 1

NONE, BOOKED, CHECKED_IN, SETTLED, CANCELLED, NO_SHOW = range(6)
OPEN = (BOOKED, CHECKED_IN)
PUBLIC_LOT, PRIVATE_LOT, RESIDENT_PRIORITY, PERSONAL = range(4)
# owner / village enterprise / city fund / platform basis points; dust to the village enterprise
SPLITS = {
    PUBLIC_LOT: (0, 3000, 6000, 1000),
    PRIVATE_LOT: (5000, 3000, 0, 2000),
    RESIDENT_PRIORITY: (0, 7000, 3000, 0),
    PERSONAL: (6000, 2500, 0, 1500),
}


@dataclass(frozen=True)
class SlotSpec:
    owner_index: int
    category: int
    windows: tuple[Window, ...]
    price: int
    overage: int


SLOT_SPECS = (
    # a resident's own space, shared all the time
    SlotSpec(7, PERSONAL, (Window(EVERY_DAY, 0, 48),), 600, 200),
    # a commuter lot: weekdays 07:00-19:00, and every night 22:00-02:00
    SlotSpec(11, PRIVATE_LOT, (Window(WEEKDAYS, 14, 38), Window(EVERY_DAY, 44, 4)), 1000, 300),
    # resident-priority space 18:00-09:00 overnight, at an odd price so splits leave dust
    SlotSpec(12, RESIDENT_PRIORITY, (Window(EVERY_DAY, 36, 18),), 333, 0),
)
RICH, POOR = 1_000_000, 3_000
REPRICES = ((600, 200), (1000, 300), (333, 0), (777, 150))


def split_of(category: int, amount: int) -> list[int]:
    parts = [amount * bps // BPS for bps in SPLITS[category]]
    parts[1] += amount - sum(parts)
    return parts


@dataclass(frozen=True)
class Reverted:
    data: str


UNKNOWN_LEASE = "0x" + keccak(text="LeaseMarketUnknownLease(uint256)")[:4].hex()


def read_batch(calls):
    """Run view calls `(brownie ContractCall, *args)` as one JSON-RPC batch of eth_calls.

    The invariants read some fifty values after every step; one batch costs about as much as
    two single calls. A reverted call comes back as Reverted(revert data)."""
    requests = [
        ("eth_call", [{"to": fn._address, "data": fn.encode_input(*args)}, "latest"])
        for fn, *args in calls
    ]
    if not requests:
        return []
    responses = web3.provider.make_batch_request(requests)
    assert len(responses) == len(requests), responses
    return [
        Reverted(response["error"].get("data", ""))
        if "error" in response
        else fn.decode_output(response["result"])
        for (fn, *_), response in zip(calls, responses, strict=True)
    ]


@dataclass
class ModelSlot:
    slot_id: int
    owner: object
    category: int
    windows: tuple[Window, ...]
    price: int
    overage: int


@dataclass
class ModelLease:
    lease_id: int
    slot: ModelSlot
    lessee: object
    start: int
    end: int
    price: int
    overage: int
    booked_at: int
    status: int = BOOKED
    debt: int = 0
    superseded: bool = False

    @property
    def units(self) -> int:
        return (self.end - self.start) // UNIT


@dataclass
class World:
    slots: list[ModelSlot]
    residents: list
    owners: list
    holders: list
    payees: list = field(default_factory=list)


@pytest.fixture(scope="module")
def world(accounts, system, people, owner, residents):
    """Three slots of different owners and categories, four funded residents, a fixed clock."""
    extra_owners = [accounts[11], accounts[12]]
    extra_residents = [accounts[13], accounts[14]]
    for account in extra_owners + extra_residents:
        system.access.onboard(account, {"from": people.admin})
    for account, amount in zip(extra_residents, (RICH, POOR), strict=True):
        system.credit.mint(account, amount, ZERO_RECEIPT, {"from": people.treasury})
        system.credit.approve(system.market, MAX_UINT, {"from": account})
    slots = []
    for lot, spec in enumerate(SLOT_SPECS, start=1):
        slot_owner = accounts[spec.owner_index]
        tx = system.slots.registerSlot(
            slot_owner, spec.category, lot, 37_503_000, 126_787_000, {"from": people.operator}
        )
        slot_id = tx.return_value
        system.slots.setWindows(slot_id, [w.as_tuple() for w in spec.windows], {"from": slot_owner})
        system.slots.setTerms(slot_id, spec.price, spec.overage, {"from": slot_owner})
        slots.append(
            ModelSlot(slot_id, slot_owner, spec.category, spec.windows, spec.price, spec.overage)
        )
    # 19:43 KST two days on: inside or near every slot's windows, and not on a half-hour, so
    # "the current half-hour" matters at once
    mine_at(next_day_start() + 86400 + 19 * 3600 + 43 * 60)
    holders = list(accounts[:20]) + [system.split, system.market]
    return World(
        slots=slots,
        residents=list(residents) + extra_residents,
        owners=[owner] + extra_owners,
        holders=holders,
        payees=[owner]
        + extra_owners
        + [people.village_enterprise, people.city_fund, people.platform, residents[0]],
    )


class MarketMachine:
    st_slot = strategy("uint8", max_value=len(SLOT_SPECS) - 1)
    # four residents (the last one poor), and now and then the stranger
    st_booker = st.sampled_from([0, 1, 2, 3] * 3 + [4])
    st_resident = strategy("uint8", max_value=3)
    # mostly leases that start soon, so check-ins, overstays and no-shows happen within a run
    st_offset = st.one_of(
        strategy("int16", min_value=-1, max_value=8),
        strategy("int16", min_value=-1, max_value=HORIZON_UNITS - 1),
    )
    st_soon = strategy("uint8", max_value=6)
    st_units = strategy("uint8", min_value=1, max_value=16)
    st_slack = strategy("int16", min_value=-1, max_value=500)
    st_index = strategy("uint16")
    st_choice = strategy("uint8", max_value=7)
    st_rarely = st.sampled_from([False, False, False, True])
    st_minutes = strategy("uint16", min_value=1, max_value=240)
    # before acting on a lease: stay (0), wait (1), go near its start (2) or near its end (3)
    st_when = st.sampled_from([0, 1, 2, 2, 3])
    st_wait = strategy("uint8", max_value=90)
    st_seconds = strategy("uint8", max_value=59)
    st_delta = strategy("int8", min_value=-1, max_value=1)
    st_percent = st.sampled_from([100, 99, 90, 50, 10])
    st_amount = strategy("uint16", min_value=1, max_value=2000)

    def __init__(cls, system, people, world, stranger):
        cls.system = system
        cls.people = people
        cls.world = world
        cls.stranger = stranger

    def setup(self):
        # brownie's revert before each run makes a full gc.collect(): freeze what exists now,
        # so it sees only what one run makes (as tests/conftest.py does per test).
        gc.freeze()
        self.now = head_time()
        self.slots = [ModelSlot(**vars(s)) for s in self.world.slots]
        self.leases: list[ModelLease] = []
        self.generations: dict[tuple[int, int], int] = {}
        self.balances = {h.address: self.system.credit.balanceOf(h) for h in self.world.holders}
        self.supply = self.system.credit.totalSupply()
        self.claimable = {p.address: self.system.split.claimable(p) for p in self.world.payees}
        self.allocations: list[dict] = []
        self.expected_allocations = 0
        assert self.supply == sum(self.balances.values())

    # ---------------------------------------------------------------------------- helpers

    def _send(self, method, *args, sender):
        pin_next_block(self.now)
        tx = method(*args, {"from": sender})
        assert tx.timestamp == self.now
        event(f"ok {method._name}")
        if "RevenueAllocated" in tx.events:
            self.allocations.extend(dict(allocated) for allocated in tx.events["RevenueAllocated"])
        return tx

    def _reverts(self, error, *args):
        event(f"reverts {error}")
        return reverts_with(error, *args)

    def _pick(self, index, wanted, any_lease):
        """A lease for which `wanted(lease)` holds, or (when asked) any lease ever booked."""
        if any_lease:
            pool = self.leases
        else:
            pool = [lease for lease in self.leases if not lease.superseded and wanted(lease)]
        return pool[index % len(pool)] if pool else None

    def _other_resident(self, lessee):
        return next(r for r in self.world.residents if r != lessee)

    def _advance(self, seconds):
        """Move the model's clock forward and mine a block there (never backwards)."""
        if seconds > 0:
            self.now += seconds
            mine_at(self.now)
            assert head_time() == self.now

    def _approach(self, lease, when, minutes):
        """Let time pass before acting on `lease`: not at all (0), a while (1), to around its
        check-in opening (2) or to around its end, mostly after it (3)."""
        if when == 1:
            self._advance(minutes * 60)
        elif when == 2:
            self._advance(lease.start - CHECK_IN_EARLY + minutes % 30 * 60 - self.now)
        elif when == 3:
            self._advance(lease.end + (minutes - 10) * 60 - self.now)

    def _move(self, source, target, amount):
        self.balances[source.address] -= amount
        self.balances[target.address] += amount

    def _allocate(self, slot, amount):
        owner_part, village, city, platform = split_of(slot.category, amount)
        self.claimable[slot.owner.address] += owner_part
        self.claimable[self.people.village_enterprise.address] += village
        self.claimable[self.people.city_fund.address] += city
        self.claimable[self.people.platform.address] += platform
        return owner_part, village, city, platform

    def _check_allocation(self, tx, slot, amount):
        self.expected_allocations += 1
        expected = self._allocate(slot, amount)
        allocated = tx.events["RevenueAllocated"]
        assert allocated["amount"] == amount
        assert allocated["owner"] == slot.owner
        assert allocated["category"] == slot.category
        assert (
            allocated["ownerShare"],
            allocated["villageShare"],
            allocated["cityShare"],
            allocated["platformShare"],
        ) == expected

    def _outcome(self, call, *args, sender, refusals=()):
        """Send `call`; when one of `refusals` (condition, error, *error args) holds, the first
        that does, expect exactly that error instead. Returns the transaction, or None after a
        predicted revert."""
        for refused, *error in refusals:
            if refused:
                with self._reverts(*error):
                    self._send(call, *args, sender=sender)
                return None
        return self._send(call, *args, sender=sender)

    def _lease_outcome(self, call, lease, sender, refusals):
        """`_outcome` of `call(lease id)`: a superseded lease id is unknown before all else."""
        known = (lease.superseded, "LeaseMarketUnknownLease", lease.lease_id)
        return self._outcome(call, lease.lease_id, sender=sender, refusals=(known, *refusals))

    def _pick_near(self, index, status, any_lease, when, wait, before=None):
        """`_pick` a lease in `status` (and, with `before` "start" or "end", not yet at that
        instant), then `_approach` it. None when there is none."""
        lease = self._pick(
            index,
            lambda lease: (
                lease.status == status and (before is None or self.now < getattr(lease, before))
            ),
            any_lease,
        )
        if lease is not None:
            self._approach(lease, when, wait)
        return lease

    def _wrong_status(self, lease, expected):
        return (lease.status != expected, "LeaseMarketWrongStatus", lease.lease_id, lease.status)

    # ------------------------------------------------------------------------------ rules

    def initialize_lease_soon(self, resident="st_resident", offset="st_soon", units="st_units"):
        self.rule_book(0, resident, offset, units, 0)

    def initialize_second_lease_soon(
        self, slot="st_slot", resident="st_resident", offset="st_soon", units="st_units"
    ):
        self.rule_book(slot, resident, offset, units, 0)

    def rule_book_soon(
        self, slot="st_slot", resident="st_resident", offset="st_soon", units="st_units"
    ):
        """A resident books, at the price asked, a lease that starts within three hours."""
        self.rule_book(slot, resident, offset, units, 0)

    def rule_advance_time(self, minutes="st_minutes", seconds="st_seconds"):
        self._advance(minutes * 60 + seconds)

    def rule_jump_to_lease_boundary(self, index="st_index", which="st_choice", delta="st_delta"):
        """Move to just before, at or just after an instant where a lease's rules change."""
        lease = self._pick(index, lambda lease: lease.status in OPEN, False)
        if lease is None:
            return
        instants = (
            lease.start - FREE_CANCEL_CUTOFF,
            lease.booked_at + BOOKING_GRACE,
            lease.start - CHECK_IN_EARLY,
            lease.start,
            lease.end,
            lease.end + OVERAGE_STEP,
        )
        target = instants[which % len(instants)] + delta
        if target > self.now:
            self._advance(target - self.now)

    def rule_jump_to_next_month(self, delta="st_delta"):
        """Cross a KST month boundary (the split rolls its statements over) by a second or so."""
        self._advance(next_month_start(self.now) + delta - self.now)

    def rule_book(
        self,
        slot="st_slot",
        booker="st_booker",
        offset="st_offset",
        units="st_units",
        slack="st_slack",
    ):
        model = self.slots[slot]
        lessee = (self.world.residents + [self.stranger])[booker]
        current = self.now - self.now % UNIT
        start = current + offset * UNIT
        end = start + units * UNIT
        price = units * model.price
        max_price = price + slack
        balance = self.balances[lessee.address]
        overlaps = any(
            lease.slot is model
            and lease.status != CANCELLED
            and lease.start < end
            and start < lease.end
            for lease in self.leases
        )
        refusals = (
            (lessee == self.stranger, "LeaseMarketNotMember", lessee),
            (start < current, "LeaseMarketStartInPast", start, self.now),
            (
                not covers(list(model.windows), start, end),
                "LeaseMarketOutsideWindow",
                model.slot_id,
                start,
                end,
            ),
            (price > max_price, "LeaseMarketPriceAboveMax", price, max_price),
            (overlaps, "LeaseMarketOverlap", model.slot_id, start, end),
            (balance < price, "ERC20InsufficientBalance", lessee, balance, price),
        )
        args = (model.slot_id, start, end, max_price)
        tx = self._outcome(self.system.market.book, *args, sender=lessee, refusals=refusals)
        if tx is None:
            return
        key = (model.slot_id, start // UNIT)
        generation = self.generations.get(key, -1) + 1
        lease_id = (model.slot_id << 48) | (key[1] << 8) | generation
        assert tx.return_value == lease_id
        booked = tx.events["LeaseBooked"]
        assert (booked["leaseId"], booked["lessee"], booked["price"]) == (lease_id, lessee, price)
        assert (booked["start"], booked["end"]) == (start, end)
        for lease in self.leases:
            if (lease.slot.slot_id, lease.start // UNIT) == key:
                lease.superseded = True
        self.generations[key] = generation
        self.leases.append(
            ModelLease(lease_id, model, lessee, start, end, price, model.overage, self.now)
        )
        self._move(lessee, self.system.split, price)

    def rule_cancel(self, index="st_index", by_other="st_rarely", any_lease="st_rarely",
            when="st_when", wait="st_wait"):  # fmt: skip
        if (lease := self._pick_near(index, BOOKED, any_lease, when, wait, before="start")) is None:
            return
        caller = self._other_resident(lease.lessee) if by_other else lease.lessee
        refusals = (
            self._wrong_status(lease, BOOKED),
            (caller != lease.lessee, "LeaseMarketNotAuthorized", lease.lease_id, caller),
            (self.now >= lease.start, "LeaseMarketAlreadyStarted", lease.lease_id),
        )
        tx = self._lease_outcome(self.system.market.cancel, lease, caller, refusals)
        if tx is None:
            return
        free = (
            self.now <= lease.booked_at + BOOKING_GRACE
            or self.now + FREE_CANCEL_CUTOFF <= lease.start
        )
        refund = lease.price if free else lease.price * LATE_REFUND_BPS // BPS
        retained = lease.price - refund
        cancelled = tx.events["LeaseCancelled"]
        assert (cancelled["refund"], cancelled["retained"]) == (refund, retained)
        lease.status = CANCELLED
        self._move(self.system.split, lease.lessee, refund)
        if retained:
            self._check_allocation(tx, lease.slot, retained)
        else:
            assert "RevenueAllocated" not in tx.events

    def rule_owner_cancel(self, index="st_index", choice="st_choice", any_lease="st_rarely",
            when="st_when", wait="st_wait"):  # fmt: skip
        if (lease := self._pick_near(index, BOOKED, any_lease, when, wait)) is None:
            return
        callers = [
            lease.slot.owner,
            self.people.operator,
            self.people.admin,
            lease.lessee,
            self.stranger,
            self.people.oracle,
        ]
        caller = callers[choice % len(callers)]
        authorised = caller in (lease.slot.owner, self.people.operator, self.people.admin)
        refusals = (
            self._wrong_status(lease, BOOKED),
            # An unused lease that has ended is a no-show, no longer the owner's to withdraw.
            (self.now >= lease.end, "LeaseMarketOutsideLeaseTime", lease.lease_id, self.now),
            (not authorised, "LeaseMarketNotAuthorized", lease.lease_id, caller),
        )
        tx = self._lease_outcome(self.system.market.ownerCancel, lease, caller, refusals)
        if tx is None:
            return
        cancelled = tx.events["LeaseCancelled"]
        assert (cancelled["by"], cancelled["refund"], cancelled["retained"]) == (
            caller,
            lease.price,
            0,
        )
        assert "RevenueAllocated" not in tx.events
        lease.status = CANCELLED
        self._move(self.system.split, lease.lessee, lease.price)

    def _lessee_or_oracle(self, lease, choice):
        callers = [
            lease.lessee,
            self.people.oracle,
            lease.lessee,
            self.people.oracle,
            self._other_resident(lease.lessee),
            self.stranger,
        ]
        caller = callers[choice % len(callers)]
        return caller, caller in (lease.lessee, self.people.oracle)

    def rule_check_in(self, index="st_index", choice="st_choice", any_lease="st_rarely",
            when="st_when", wait="st_wait"):  # fmt: skip
        if (lease := self._pick_near(index, BOOKED, any_lease, when, wait, before="end")) is None:
            return
        caller, authorised = self._lessee_or_oracle(lease, choice)
        outside = self.now + CHECK_IN_EARLY < lease.start or self.now >= lease.end
        refusals = (
            (not authorised, "LeaseMarketNotAuthorized", lease.lease_id, caller),
            self._wrong_status(lease, BOOKED),
            (outside, "LeaseMarketOutsideLeaseTime", lease.lease_id, self.now),
        )
        tx = self._lease_outcome(self.system.market.checkIn, lease, caller, refusals)
        if tx is None:
            return
        checked_in = tx.events["LeaseCheckedIn"]
        assert (checked_in["by"], checked_in["at"]) == (caller, self.now)
        lease.status = CHECKED_IN

    def rule_check_out(self, index="st_index", choice="st_choice", any_lease="st_rarely",
            when="st_when", wait="st_wait"):  # fmt: skip
        if (lease := self._pick_near(index, CHECKED_IN, any_lease, when, wait)) is None:
            return
        caller, authorised = self._lessee_or_oracle(lease, choice)
        late = self.now - lease.end
        charge = -(-late // OVERAGE_STEP) * lease.overage + OVERSTAY_PENALTY if late > 0 else 0
        paid = self.balances[lease.lessee.address] >= charge
        refusals = (
            (not authorised, "LeaseMarketNotAuthorized", lease.lease_id, caller),
            self._wrong_status(lease, CHECKED_IN),
        )
        tx = self._lease_outcome(self.system.market.checkOut, lease, caller, refusals)
        if tx is None:
            return
        settled = tx.events["LeaseSettled"]
        assert (settled["price"], settled["overstayCharge"], settled["overstayPaid"]) == (
            lease.price,
            charge,
            paid,
        )
        lease.status = SETTLED
        if paid:
            assert "OverstayDebtRecorded" not in tx.events
            self._move(lease.lessee, self.system.split, charge)
            self._check_allocation(tx, lease.slot, lease.price + charge)
        else:
            assert tx.events["OverstayDebtRecorded"]["amount"] == charge
            lease.debt = charge
            self._check_allocation(tx, lease.slot, lease.price)

    def rule_settle_no_show(self, index="st_index", choice="st_choice", any_lease="st_rarely",
            when="st_when", wait="st_wait"):  # fmt: skip
        if (lease := self._pick_near(index, BOOKED, any_lease, when, wait)) is None:
            return
        # anyone may settle a no-show, even someone who is not a member
        caller = [self.stranger, self.people.operator, lease.slot.owner, lease.lessee][choice % 4]
        refusals = (
            self._wrong_status(lease, BOOKED),
            (self.now < lease.end, "LeaseMarketNotEnded", lease.lease_id, lease.end),
        )
        tx = self._lease_outcome(self.system.market.settleNoShow, lease, caller, refusals)
        if tx is None:
            return
        assert tx.events["LeaseNoShow"]["price"] == lease.price
        lease.status = NO_SHOW
        self._check_allocation(tx, lease.slot, lease.price)

    def rule_pay_overstay_debt(
        self, index="st_index", by_other="st_rarely", when="st_when", wait="st_wait"
    ):
        indebted = [lease for lease in self.leases if lease.debt]
        pool = indebted or [lease for lease in self.leases if not lease.superseded]
        if not pool:
            return
        lease = pool[index % len(pool)]
        self._approach(lease, when, wait)
        payer = self._other_resident(lease.lessee) if by_other else lease.lessee
        balance = self.balances[payer.address]
        refusals = (
            (not lease.debt, "LeaseMarketNoDebt", lease.lease_id),
            (balance < lease.debt, "ERC20InsufficientBalance", payer, balance, lease.debt),
        )
        tx = self._lease_outcome(self.system.market.payOverstayDebt, lease, payer, refusals)
        if tx is None:
            return
        assert tx.events["OverstayDebtPaid"]["amount"] == lease.debt
        self._move(payer, self.system.split, lease.debt)
        self._check_allocation(tx, lease.slot, lease.debt)
        lease.debt = 0

    def rule_claim(self, choice="st_choice"):
        payee = self.world.payees[choice % len(self.world.payees)]
        amount = self.claimable[payee.address]
        refusals = ((amount == 0, "RevenueSplitNothingToClaim", payee),)
        tx = self._outcome(self.system.split.claim, sender=payee, refusals=refusals)
        if tx is None:
            return
        assert tx.return_value == amount
        assert tx.events["Claimed"]["amount"] == amount
        self.claimable[payee.address] = 0
        self._move(self.system.split, payee, amount)

    def rule_reprice(self, slot="st_slot", choice="st_choice", by_other="st_rarely"):
        model = self.slots[slot]
        price, overage = REPRICES[choice % len(REPRICES)]
        caller = self.stranger if by_other else model.owner
        if by_other:
            with self._reverts("ParkingSlotsNotSlotOwner", model.slot_id, caller):
                self._send(self.system.slots.setTerms, model.slot_id, price, overage, sender=caller)
            return
        self._send(self.system.slots.setTerms, model.slot_id, price, overage, sender=caller)
        model.price, model.overage = price, overage
        assert self.system.slots.bookingTerms(model.slot_id)["pricePerUnit"] == price

    def rule_top_up(self, resident="st_resident", amount="st_amount"):
        """The treasury mints credits (a top-up paid in won): the supply grows by the amount."""
        account = self.world.residents[resident]
        tx = self._send(
            self.system.credit.mint, account, amount, ZERO_RECEIPT, sender=self.people.treasury
        )
        assert tx.events["Transfer"]["value"] == amount
        self.balances[account.address] += amount
        self.supply += amount

    def rule_transfer(self, sender="st_resident", receiver="st_resident", percent="st_percent"):
        """A resident passes credits on to another: balances move, the supply does not."""
        source, target = self.world.residents[sender], self.world.residents[receiver]
        amount = self.balances[source.address] * percent // 100
        tx = self._send(self.system.credit.transfer, target, amount, sender=source)
        assert tx.events["Transfer"]["value"] == amount
        self._move(source, target, amount)

    def rule_privileged_call_by_outsider(self, who="st_choice", what="st_choice"):
        caller = [self.stranger, self.world.residents[0], self.world.owners[0], self.people.oracle][
            who % 4
        ]
        system = self.system
        calls = [
            (
                system.market.setPolicy,
                ((3600, 600, 5000, 0, 900),),
                ("CityAccessMissingRole", caller, ROLES["CITY_ADMIN"]),
            ),
            (
                system.split.setSplit,
                (PERSONAL, 10_000, 0, 0, 0, 0),
                ("CityAccessMissingRole", caller, ROLES["CITY_ADMIN"]),
            ),
            (
                system.slots.registerSlot,
                (caller, PERSONAL, 9, 0, 0),
                ("CityAccessMissingRole", caller, ROLES["OPERATOR"]),
            ),
            (
                system.credit.mint,
                (caller, 1_000_000, ZERO_RECEIPT),
                ("CityAccessMissingRole", caller, ROLES["TREASURY"]),
            ),
            (system.split.allocate, (PERSONAL, caller, 1), ("RevenueSplitNotSource", caller)),
            (system.split.refund, (caller, 1), ("RevenueSplitNotSource", caller)),
        ]
        method, args, error = calls[what % len(calls)]
        with self._reverts(*error):
            self._send(method, *args, sender=caller)

    # ------------------------------------------------------------------------- invariants

    def invariant_no_overlapping_leases(self):
        for model in self.slots:
            live = sorted(
                (
                    lease
                    for lease in self.leases
                    if lease.slot is model and lease.status != CANCELLED
                ),
                key=lambda lease: lease.start,
            )
            for before, after in pairwise(live):
                assert before.end <= after.start, (before, after)
        market = self.system.market
        calls = []
        for lease in self.leases:
            calls.append((market.leaseOf, lease.lease_id))
            calls.append((market.isFree, lease.slot.slot_id, lease.start, lease.end))
        results = read_batch(calls)
        for lease, record, free in zip(self.leases, results[::2], results[1::2], strict=True):
            if lease.superseded:
                # a re-booked start: the old id names a superseded generation
                assert isinstance(record, Reverted)
                assert record.data == UNKNOWN_LEASE + encode(["uint256"], [lease.lease_id]).hex()
            else:
                assert (record["lessee"], record["status"], record["units"]) == (
                    lease.lessee,
                    lease.status,
                    lease.units,
                )
            taken = any(
                other.slot is lease.slot
                and other.status != CANCELLED
                and other.start < lease.end
                and lease.start < other.end
                for other in self.leases
            )
            assert free is not taken, lease

    def invariant_user_of_is_the_live_lessee(self):
        users = read_batch([(self.system.market.userOf, model.slot_id) for model in self.slots])
        for model, user in zip(self.slots, users, strict=True):
            holder = next(
                (
                    lease.lessee
                    for lease in self.leases
                    if lease.slot is model
                    and lease.status in OPEN
                    and lease.start <= self.now < lease.end
                ),
                ZERO_ADDRESS,
            )
            assert user == holder

    def invariant_credits_are_conserved(self):
        credit = self.system.credit
        holders = self.world.holders
        *balances, supply = read_batch(
            [(credit.balanceOf, h) for h in holders] + [(credit.totalSupply,)]
        )
        actual = {h.address: balance for h, balance in zip(holders, balances, strict=True)}
        assert actual == self.balances
        assert sum(actual.values()) == supply == self.supply
        escrow = sum(lease.price for lease in self.leases if lease.status in OPEN)
        assert actual[self.system.split.address] == escrow + sum(self.claimable.values())
        assert actual[self.system.market.address] == 0

    def invariant_claimables_match_model(self):
        payees = list(self.claimable)
        amounts = read_batch([(self.system.split.claimable, p) for p in payees])
        assert dict(zip(payees, amounts, strict=True)) == self.claimable

    def invariant_settlement_parts_sum_to_amount(self):
        assert len(self.allocations) == self.expected_allocations
        for allocated in self.allocations:
            parts = (
                allocated["ownerShare"],
                allocated["villageShare"],
                allocated["cityShare"],
                allocated["platformShare"],
            )
            assert sum(parts) == allocated["amount"]
        self.allocations.clear()
        self.expected_allocations = 0

    def invariant_configuration_is_unchanged(self):
        """Outsiders' privileged calls all reverted: policy, splits and slots are as deployed."""
        market, split, slots = self.system.market, self.system.split, self.system.slots
        policy, slot_count, *splits = read_batch(
            [(market.policy,), (slots.slotCount,)] + [(split.splitOf, c) for c in sorted(SPLITS)]
        )
        assert tuple(policy) == DEFAULT_POLICY
        assert slot_count == len(SLOT_SPECS)
        assert [tuple(row) for row in splits] == [
            (*SPLITS[c], VILLAGE_PAYEE) for c in sorted(SPLITS)
        ]


def test_lease_market_state_machine(state_machine, system, people, world, stranger):
    state_machine(
        MarketMachine,
        system,
        people,
        world,
        stranger,
        settings={"max_examples": 35, "stateful_step_count": 40, "database": None},
    )
