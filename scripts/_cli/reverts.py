"""Contract reverts in words: 'ErrorName(args): what it means and how to fix it'.

The scripts' own decoder of brownie's revert messages, kept in this one module so it can be
swapped for the shared decoder in citypass.protocol once that exists."""

from __future__ import annotations

import ast
import contextlib
import re

from eth_utils import to_checksum_address

from citypass.protocol.roles import ROLES

from .errors import one_line

_GAS_ESTIMATION = re.compile(
    r"Gas estimation failed: '(.*)'\. This transaction will likely revert", re.S
)


def is_revert(exc: BaseException) -> bool:
    """A contract revert: brownie's VirtualMachineError (development chains, which broadcast
    reverting transactions) or the ValueError it raises when gas estimation reverts (live)."""
    try:
        from brownie.exceptions import VirtualMachineError
    except ImportError:  # pragma: no cover
        return False
    if isinstance(exc, VirtualMachineError):
        return True
    return isinstance(exc, ValueError) and bool(_GAS_ESTIMATION.search(str(exc)))


def _revert_message(exc: BaseException) -> str:
    match = _GAS_ESTIMATION.search(str(exc)) if isinstance(exc, ValueError) else None
    if match:
        return "" if match[1] == "None" else match[1].strip()
    return (getattr(exc, "revert_msg", None) or "").strip()


_ROLE_BY_HEX = {"0x" + value.hex(): name for name, value in ROLES.items()}
_ROLE_BY_HEX["0x" + "00" * 32] = "DEFAULT_ADMIN_ROLE"


_ARG = re.compile(r"""\s*(b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)""")


def _split_args(rest: str) -> list[str]:
    """Split brownie's 'a, b, c' argument list; bytes come as Python literals (b'...')."""
    args: list[str] = []
    position = 0
    rest = rest.strip()
    while rest and position < len(rest):
        match = _ARG.match(rest, position)
        if not match or match.end() == position:
            break
        args.append(_bytes_as_hex(match[1].strip()))
        position = match.end()
    return args


def _bytes_as_hex(text: str) -> str:
    if text[:2] in ("b'", 'b"'):
        with contextlib.suppress(ValueError, SyntaxError):
            value = ast.literal_eval(text)
            if isinstance(value, bytes):
                return "0x" + value.hex()
    return text


def _pretty_arg(text: str) -> str:
    if re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        return to_checksum_address(text)
    return _ROLE_BY_HEX.get(text.lower(), text)


def _hint(name: str, args: list[str]) -> str:
    a = [_pretty_arg(arg) for arg in args] + ["?"] * 3
    role_hint = (
        f"{a[0]} does not hold {_pretty_arg(a[1])}; sign as an account that does "
        "(--as ...) or grant the role with scripts/grant_role.py"
    )
    hints = {
        "CityAccessMissingRole": role_hint,
        "AccessControlUnauthorizedAccount": role_hint,
        "CityAccessAlreadyMember": f"{a[0]} is already a member (reinstate it if suspended)",
        "CityAccessNotMember": f"{a[0]} was never onboarded; onboard it first",
        "CityAccessAlreadySuspended": f"{a[0]} is already suspended",
        "CityAccessNotSuspended": f"{a[0]} is not suspended, so there is nothing to reinstate",
        "CityAccessInactiveMember": f"{a[0]} is suspended or was never onboarded",
        "CityAccessZeroAddress": "the zero address is not an account",
        "CityAccessNotWitness": f"{a[0]} is not in the witness set (scripts/witness.py list)",
        "CityAccessWitnessNameRequired": "a witness needs a name (e.g. audit-office)",
        "CityAccessTooManyWitnesses": (
            f"the witness set is full (at most {a[0]}); remove a witness first"
        ),
        "CityCreditPartyNotAllowed": (
            f"{a[0]} may not hold credits: onboard it with scripts/member.py onboard"
        ),
        "CityCreditZeroAmount": "the amount must be above zero",
        "ParkingSlotsUnknownSlot": f"slot {a[0]} does not exist",
        "ParkingSlotsNotSlotOwner": (
            f"{a[1]} neither owns nor is approved for slot {a[0]}; sign as the owner (--as)"
        ),
        "ParkingSlotsInvalidWindow": f"window #{a[0]} is malformed (or there are more than 5)",
        "ParkingSlotsInvalidPrice": (
            "prices are 1..1,000,000 KRW per 30 min and 0..1,000,000 KRW per 10 min overage"
        ),
        "ParkingSlotsInvalidDay": "blackout days must lie between today and two years ahead",
        "ParkingSlotsInvalidLocation": "latitude must be within ±90 and longitude within ±180",
        "ParkingSlotsLocationTooPrecise": (
            "a personal space is placed on chain only by its cell of 0.001°: snap the "
            "coordinates with citypass.protocol.coarse_location (scripts/register_lot.py does)"
        ),
        "ParkingSlotsInvalidCategory": "use public, private, resident or personal",
    }
    return hints.get(name, "")


def describe_revert(exc: BaseException) -> str:
    """'ErrorName(args): what it means' from brownie's decoded `revert_msg`."""
    message = _revert_message(exc)
    if not message or message == "revert":
        detail = getattr(exc, "message", None) or str(exc)
        return f"reverted without a reason ({one_line(detail)[:200]})"
    name, sep, rest = message.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return message
    args = _split_args(rest)
    text = f"{name}({', '.join(_pretty_arg(arg) for arg in args)})"
    hint = _hint(name, args)
    return f"{text}: {hint}" if hint else text
