"""The pre-signed workload of bench/ledger.py: setup transactions and LeaseMarket.book
transactions, signed once for both targets.

Everything is signed here with eth-account (bench/signing.py), so signing is never part of a
timed phase. The admin is the node's authority key on both targets and both targets start from
the node's genesis, so the contract addresses, the slot ids and therefore every signed byte are
the same on raw anvil and on the node: one workload, signed once, sent twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_hash.auto import keccak

from bench.signing import Sender, SignedTx, call_data, contract_address, selector

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"

MAX_UINT = 2**256 - 1
UNIT_SECONDS = 1800
MAX_ADVANCE_SECONDS = 30 * 86400
MAX_LEASE_UNITS = 7 * 48
EVERY_DAY_ALL_DAY = (0b1111111, 0, 48)
PERSONAL = 3
DEFAULT_PRICE_PER_UNIT = 600  # ParkingSlots.DEFAULT_PRICE_PER_UNIT
BOOK_GAS = 200_000
CALL_GAS = 1_000_000
DEPLOY_GAS = 8_000_000
ROLE_NAMES = ("TREASURY", "OPERATOR")
BOOK = "book(uint256,uint64,uint64,uint256)"


def _artifact(name: str) -> dict[str, Any]:
    return json.loads((BUILD / f"{name}.json").read_text())


def _deploy_data(name: str, types: list[str], args: list[Any]) -> bytes:
    bytecode = _artifact(name)["bytecode"]
    if not bytecode:
        raise SystemExit(
            f"build/contracts/{name}.json has no bytecode: compile the contracts first"
        )
    return bytes.fromhex(bytecode.removeprefix("0x")) + encode(types, args)


@dataclass
class Workload:
    """Everything the benchmark sends, signed once for both targets."""

    chain_id: int
    admin: bytes
    addresses: dict[str, bytes]
    setup_admin: list[SignedTx]
    setup_members: list[SignedTx]
    # per connection: the book transactions in sending order (each member on one connection, its
    # nonces in order, members interleaved so a batch carries several senders)
    lanes: list[list[SignedTx]]
    members: int
    per_member: int
    first_start: int
    last_end: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def book_count(self) -> int:
        return sum(len(lane) for lane in self.lanes)


class _AdminSetup:
    """The admin's setup transactions, in nonce order: deployments and calls."""

    def __init__(self, admin: Sender) -> None:
        self.admin = admin
        self.txs: list[SignedTx] = []
        self.addresses: dict[str, bytes] = {}

    def deploy(self, key: str, contract: str, types: list[str], args: list[Any]) -> bytes:
        self.addresses[key] = contract_address(self.admin.address, self.admin.nonce)
        self.txs.append(self.admin.sign(None, _deploy_data(contract, types, args), DEPLOY_GAS))
        return self.addresses[key]

    def call(self, key: str, signature: str, types: list[str], args: list[Any]) -> None:
        data = call_data(signature, types, args)
        self.txs.append(self.admin.sign(self.addresses[key], data, CALL_GAS))


def _deploy_and_wire(setup: _AdminSetup) -> dict[str, bytes]:
    """CityAccess, CityForwarder, CityCredit, RevenueSplit, ParkingSlots and LeaseMarket, wired
    as citypass.chain.deployment wires them, with the admin holding TREASURY and OPERATOR."""
    a = setup.admin.address
    # Payees of the revenue split: fixed throwaway addresses (they only receive).
    village, city, platform = (keccak(f"ledger-bench {n}".encode())[12:] for n in "vcp")
    access = setup.deploy("access", "CityAccess", ["address"], [a])
    forwarder = setup.deploy("forwarder", "CityForwarder", [], [])
    # The credit token and the split fix each other's address (as deploy_system does): the
    # token is deployed first with the split's address-to-be (the admin's next nonce).
    split_to_be = contract_address(a, setup.admin.nonce + 1)
    credit = setup.deploy("credit", "CityCredit", ["address", "address"], [access, split_to_be])
    split_args = [access, credit, forwarder, village, city, platform]
    split = setup.deploy("split", "RevenueSplit", ["address"] * 6, split_args)
    if split != split_to_be:
        raise SystemExit("the split did not land at the address the credit token was given")
    slots = setup.deploy("slots", "ParkingSlots", ["address", "address"], [access, forwarder])
    market_args = [access, credit, slots, split, forwarder, MAX_ADVANCE_SECONDS, MAX_LEASE_UNITS]
    market = setup.deploy("market", "LeaseMarket", ["address"] * 5 + ["uint256"] * 2, market_args)
    setup.call("slots", "setLeaseMarket(address)", ["address"], [market])
    setup.call("split", "setSource(address,bool)", ["address", "bool"], [market, True])
    setup.call("credit", "setPlatformContract(address,bool)", ["address", "bool"], [market, True])
    for role in ROLE_NAMES:
        role_id = keccak(role.encode())
        setup.call("access", "grantRole(bytes32,address)", ["bytes32", "address"], [role_id, a])
    return setup.addresses


def build_workload(
    admin_key: bytes,
    chain_id: int,
    *,
    members: int,
    txs: int,
    connections: int,
    now: int,
    lead_seconds: int = 86400,
) -> Workload:
    if txs % members:
        raise SystemExit(f"--txs ({txs}) must be a multiple of --members ({members})")
    per_member = txs // members
    lead_units = -(-lead_seconds // UNIT_SECONDS)
    first_unit = -(-now // UNIT_SECONDS) + lead_units
    # Every lease must start within 30 days of the block time when it is mined.
    if (first_unit + per_member) * UNIT_SECONDS > now + MAX_ADVANCE_SECONDS - 86400:
        raise SystemExit(
            f"{per_member} bookings per member do not fit in 30 days of half-hours: use more --members"
        )
    setup = _AdminSetup(Sender(admin_key, chain_id))
    addresses = _deploy_and_wire(setup)
    member_keys = [
        Sender(keccak(f"ledger-bench member {i}".encode()), chain_id) for i in range(members)
    ]
    _onboard_members(setup, member_keys, credits=DEFAULT_PRICE_PER_UNIT * per_member * 2)
    approve = call_data(
        "approve(address,uint256)", ["address", "uint256"], [addresses["market"], MAX_UINT]
    )
    setup_members = [m.sign(addresses["credit"], approve, CALL_GAS) for m in member_keys]
    per_member_txs = [
        _bookings(m, addresses["market"], slot_id=i + 1, first_unit=first_unit, count=per_member)
        for i, m in enumerate(member_keys)
    ]
    lanes: list[list[SignedTx]] = []
    for c in range(connections):
        mine = [per_member_txs[i] for i in range(c, members, connections)]
        lanes.append([txs_of[k] for k in range(per_member) for txs_of in mine])
    return Workload(
        chain_id=chain_id,
        admin=setup.admin.address,
        addresses=addresses,
        setup_admin=setup.txs,
        setup_members=setup_members,
        lanes=lanes,
        members=members,
        per_member=per_member,
        first_start=first_unit * UNIT_SECONDS,
        last_end=(first_unit + per_member) * UNIT_SECONDS,
    )


def _onboard_members(setup: _AdminSetup, member_keys: list[Sender], credits: int) -> None:
    """Onboard and fund every member; one slot per member, owned by the admin (so the admin
    sets the windows), ids 1..members."""
    a = setup.admin.address
    for m in member_keys:
        setup.call("access", "onboard(address)", ["address"], [m.address])
    for m in member_keys:
        setup.call(
            "credit",
            "mint(address,uint256,bytes32)",
            ["address", "uint256", "bytes32"],
            [m.address, credits, b"\x00" * 32],
        )
    for i in range(len(member_keys)):
        setup.call(
            "slots",
            "registerSlot(address,uint8,uint32,int32,int32)",
            ["address", "uint8", "uint32", "int32", "int32"],
            [a, PERSONAL, 1 + i // 50, 37_500_000, 126_780_000],
        )
    for slot_id in range(1, len(member_keys) + 1):
        setup.call(
            "slots",
            "setWindows(uint256,(uint8,uint8,uint8)[])",
            ["uint256", "(uint8,uint8,uint8)[]"],
            [slot_id, [EVERY_DAY_ALL_DAY]],
        )


def _bookings(
    member: Sender, market: bytes, *, slot_id: int, first_unit: int, count: int
) -> list[SignedTx]:
    """The member books units first_unit + k (k = 0 … count-1) of its slot, one 30-minute
    lease each, nonces 1 … count."""
    book_selector = selector(BOOK)
    own: list[SignedTx] = []
    for k in range(count):
        start = (first_unit + k) * UNIT_SECONDS
        data = book_selector + encode(
            ["uint256", "uint64", "uint64", "uint256"],
            [slot_id, start, start + UNIT_SECONDS, DEFAULT_PRICE_PER_UNIT],
        )
        own.append(member.sign(market, data, BOOK_GAS))
    return own
