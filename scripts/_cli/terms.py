"""The ledger's vocabulary as the scripts print and parse it (the contracts' enum orders)."""

from __future__ import annotations

CATEGORIES = ("PUBLIC_LOT", "PRIVATE_LOT", "RESIDENT_PRIORITY", "PERSONAL")
CATEGORY_NAMES = {
    "public": 0,
    "public_lot": 0,
    "private": 1,
    "private_lot": 1,
    "resident": 2,
    "resident_priority": 2,
    "personal": 3,
}
PAYEE_KINDS = ("owner", "village enterprise", "city fund", "platform")
# CityAccess.memberStatus, as the scripts print it.
MEMBER_STATUSES = ("none", "active", "suspended")
LEASE_STATUSES = ("NONE", "BOOKED", "CHECKED_IN", "SETTLED", "CANCELLED", "NO_SHOW")
