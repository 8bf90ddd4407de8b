"""The nine CityPass roles, as the contracts hash them (contracts/access/CityRoles.sol)."""

from __future__ import annotations

from eth_utils import keccak

ROLE_NAMES = (
    "CITY_ADMIN",
    "TREASURY",
    "VILLAGE_ENTERPRISE",
    "OPERATOR",
    "ORACLE",
    "INSPECTOR",
    "AUDITOR",
    "MEMBER",
    "VALET",
)


def role_id(name: str) -> bytes:
    """keccak256 of the role name; raises ValueError for a name that is not a CityPass role."""
    upper = name.upper()
    if upper not in ROLE_NAMES:
        raise ValueError(f"unknown role {name!r}: use one of {', '.join(ROLE_NAMES)}")
    return keccak(text=upper)


ROLES: dict[str, bytes] = {name: role_id(name) for name in ROLE_NAMES}
