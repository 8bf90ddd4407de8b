"""Test helpers shared by the brownie test-suite: exact custom-error checks, chain time, and
the members, role holders and slots the contract tests set up."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from citypass.chain.session import head_time, mine_at
from citypass.core.timeunits import KST, kst, next_local_midnight
from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.coarse_location import on_chain_location
from citypass.protocol.roles import ROLES

__all__ = [
    "expected_error",
    "reverts_with",
    "head_time",
    "mine_at",
    "next_day_start",
    "next_month_start",
    "pin_next_block",
    "plain",
    "selector",
    "member",
    "key_member",
    "role_holder",
    "shared_slot",
]

PERSONAL = 3
MAX_UINT = 2**256 - 1
ALL_DAY = (Window(EVERY_DAY, 0, 48),)


def _format_arg(value: Any) -> str:
    """Format like brownie's decoder: lower-case addresses, Python reprs of bytes."""
    if hasattr(value, "address"):
        return str(value.address).lower()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, bytes | bytearray):
        return str(bytes(value))
    return str(value)


def expected_error(name: str, *args: Any) -> str:
    """The revert message brownie decodes for custom error `name(args)`."""
    if not args:
        return f"{name}: "
    return f"{name}: {', '.join(_format_arg(a) for a in args)}"


@contextlib.contextmanager
def reverts_with(name: str, *args: Any) -> Iterator[None]:
    """Assert the block reverts with exactly the custom error `name` and these arguments.

    Accounts, contracts and address strings compare as addresses; bytes as bytes. With no `args` only the error name is checked (for errors whose arguments the test cannot
    know, such as nested revert data)."""
    from brownie.exceptions import VirtualMachineError

    try:
        yield
    except VirtualMachineError as exc:
        message = exc.revert_msg or ""
        if args:
            assert message == expected_error(name, *args), (
                f"expected {expected_error(name, *args)!r}, got {message!r}"
            )
        else:
            assert message.split(":")[0] == name, f"expected {name}, got {message!r}"
    else:
        raise AssertionError(f"expected revert {name}{args}, but the call succeeded")


def next_day_start() -> int:
    """00:00 KST of the next day after the chain head."""
    return next_local_midnight(head_time())


def part_fixture(name: str, source: str, key: str | int) -> Any:
    """A module fixture `name` that returns fixture `source`'s attribute `key` (a str) or its
    item `key` (an int): a contract of the system, a stakeholder, one of the residents."""
    import pytest

    @pytest.fixture(scope="module", name=name)
    def part(request: Any) -> Any:
        whole = request.getfixturevalue(source)
        return whole[key] if isinstance(key, int) else getattr(whole, key)

    return part


def next_month_start(timestamp: int) -> int:
    """00:00 KST on the first day of the KST month after `timestamp`'s."""
    local = kst(timestamp)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return int(datetime(year, month, 1, tzinfo=KST).timestamp())


def pin_next_block(timestamp: int) -> None:
    """The next transaction's block is mined at exactly `timestamp`."""
    from brownie import web3

    response = web3.provider.make_request("evm_setNextBlockTimestamp", [int(timestamp)])
    assert "error" not in response, response


def plain(value: Any) -> Any:
    """A brownie return value as plain Python ints, strs and tuples (brownie's ReturnValue
    cannot be compared with a tuple holding ints)."""
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, bool | str):
        return value
    return int(value)


def selector(signature: str) -> bytes:
    from brownie import web3

    return bytes(web3.keccak(text=signature)[:4])


def relay_call(
    forwarder: Any, key: bytes, sender: str, target: Any, data: str, relayer: Any
) -> Any:
    """`sender` (whose private `key` signs) calls `target` with ABI `data` through the
    forwarder: a ForwardRequest valid for an hour, executed by `relayer`. Returns the
    transaction."""
    from brownie import chain

    from citypass.protocol.signing import (
        forward_request,
        request_data_tuple,
        sign_forward_request,
    )

    request = forward_request(
        sender,
        target.address,
        bytes.fromhex(data[2:]),
        nonce=forwarder.nonces(sender),
        deadline=head_time() + 3600,
    )
    signature = sign_forward_request(
        key, forwarder_address=forwarder.address, chain_id=chain.id, request=request
    )
    return forwarder.execute(request_data_tuple(request, signature.signature), {"from": relayer})


def member(system: Any, people: Any, account: Any, credits: int = 0, approve: bool = False) -> Any:
    """Onboard `account`, mint it `credits` and (with `approve`) let the market spend them."""
    system.access.onboard(account, {"from": people.admin})
    if credits:
        system.credit.mint(account, credits, b"\x00" * 32, {"from": people.treasury})
    if approve:
        system.credit.approve(system.market, MAX_UINT, {"from": account})
    return account


def key_member(accounts: Any, system: Any, people: Any, credits: int, approve: bool = False) -> Any:
    """A throwaway key (a wallet app's resident) made a member as by `member`; returns the key."""
    from eth_account import Account

    key = Account.create()
    member(system, people, accounts.add(key.key), credits, approve)
    return key


def role_holder(system: Any, people: Any, account: Any, role: str) -> Any:
    system.access.grantRole(ROLES[role], account, {"from": people.admin})
    return account


def shared_slot(
    system: Any,
    people: Any,
    owner: Any,
    *,
    category: int = PERSONAL,
    lot: int = 1,
    at: tuple[int, int] = (37_503_000, 126_787_000),
    windows: Sequence[Window] = ALL_DAY,
) -> int:
    """A slot of `owner`, registered by the operator and shared in `windows` (all day)."""
    at = on_chain_location(category, *at)  # a personal space by its coarse cell
    tx = system.slots.registerSlot(owner, category, lot, *at, {"from": people.operator})
    system.slots.setWindows(tx.return_value, [w.as_tuple() for w in windows], {"from": owner})
    return tx.return_value


def deploy_refused(
    name: str, admin: Any, wiring: list, config: Sequence, zero_at: int | None, error: Sequence
) -> None:
    """Deploying contract `name` with `wiring` (the contracts it is wired to, the one at
    `zero_at` replaced by the zero address) and `config` reverts with exactly `error`."""
    import brownie

    if zero_at is not None:
        wiring = [*wiring[:zero_at], brownie.ZERO_ADDRESS, *wiring[zero_at + 1 :]]
    with reverts_with(*error):
        getattr(brownie, name).deploy(*wiring, *config, {"from": admin})
