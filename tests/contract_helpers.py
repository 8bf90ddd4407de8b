"""Test helpers shared by the brownie test-suite: exact custom-error checks and chain time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from citypass.chain.session import head_time, mine_at
from citypass.core.timeunits import next_local_midnight

__all__ = ["expected_error", "reverts_with", "head_time", "mine_at", "next_day_start"]


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
