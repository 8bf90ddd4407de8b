"""On-chain role checks with a short cache: a revoked role or a suspended member loses access
within ROLE_CACHE_SECONDS, without a chain call on every request of a busy session."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from api.errors import LedgerUnavailable
from citypass.protocol.roles import ROLES

# The roles that may sign in (staff). MEMBER and VALET are residents' and workers' roles and
# use the wallet flows instead.
STAFF_ROLES = ("CITY_ADMIN", "VILLAGE_ENTERPRISE", "OPERATOR", "INSPECTOR", "AUDITOR")


class RoleChecker:
    def __init__(
        self, access: Any, cache_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._access = access  # CityAccess web3 contract
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def has(self, role: str, address: str) -> bool:
        """CityAccess.hasActiveRole: the role is held and the member is not suspended."""
        key = (role, address)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < self._cache_seconds:
                return cached[1]
        try:
            held = bool(self._access.functions.hasActiveRole(ROLES[role], address).call())
        except Exception as exc:
            raise LedgerUnavailable(
                f"could not check {role} of {address} on CityAccess ({type(exc).__name__}); "
                "retry later"
            ) from exc
        with self._lock:
            self._cache[key] = (now, held)
        return held

    def has_any(self, roles: Iterable[str], address: str) -> bool:
        """Whether `address` holds one of `roles` now (checked in order, stopping at the first)."""
        return any(self.has(role, address) for role in roles)

    def staff_roles(self, address: str) -> tuple[str, ...]:
        return tuple(role for role in STAFF_ROLES if self.has(role, address))
