"""What an address is, from on-chain facts in the read model: the labels the explorer, the
statements and the KPIs show beside a payee ("village enterprise", "mobility operator", …), and
whether it is a person (a resident or a worker) who stays pseudonymous.

The labels, by precedence (a payee's first label is the group it is counted in):
- `village enterprise`, `city fund`, `platform`: RevenueSplit's fixed payees (indexer cursor);
- `treasury`: holds the TREASURY role;
- `mobility operator`: registered in the mobility registry (mobility_operators);
- `lot operator`: owns spaces of a public or private lot (PUBLIC_LOT, PRIVATE_LOT slots);
- `valet worker`: holds the VALET role;
- `space owner`: owns other shared spaces (resident-priority, personal).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer import models as m
from indexer import models_mobility as mm

HOUSE = ("village enterprise", "city fund", "platform")
LABELS = (*HOUSE, "treasury", "mobility operator", "lot operator", "valet worker", "space owner")
# The KPIs' stakeholder groups: RevenueSplit's payees each, the other payees by first label.
GROUPS = {
    **{label: label for label in HOUSE}, "treasury": "treasury",
    "mobility operator": "mobility operators", "lot operator": "lot operators",
    "valet worker": "valet workers", "space owner": "space owners",
}  # fmt: skip
LOT_CATEGORIES = ("PUBLIC_LOT", "PRIVATE_LOT")
# Roles organisations hold (their keys act for the city, the village enterprise, an operator),
# against those a person holds (a member resident, a valet worker, an inspector).
ORGANISATION_ROLES = ("CITY_ADMIN", "TREASURY", "VILLAGE_ENTERPRISE", "OPERATOR", "ORACLE",
                      "AUDITOR")  # fmt: skip
PERSONAL_ROLES = ("MEMBER", "VALET", "INSPECTOR")


def house_payees(session: Session) -> dict[str, str]:
    """RevenueSplit's fixed payees (address → label), as the indexer read them."""
    cursor = session.get(m.Cursor, 1)
    if cursor is None:
        return {}
    return {
        cursor.village_enterprise: "village enterprise",
        cursor.city_fund: "city fund",
        cursor.platform: "platform",
    }


@dataclass
class Facts:
    member: bool = False  # onboarded on CityAccess (active or suspended)
    roles: set[str] = field(default_factory=set)
    labels: list[str] = field(default_factory=list)  # in LABELS order

    @property
    def role(self) -> str | None:
        """The label it is grouped by (the first), or None when no fact applies."""
        return self.labels[0] if self.labels else None

    @property
    def group(self) -> str:
        """The stakeholder group its earnings are counted in (GROUPS)."""
        return GROUPS[self.labels[0]] if self.labels else "other payees"

    @property
    def described(self) -> str:
        """Every label, for a statement's role column ('city fund, lot operator')."""
        return ", ".join(self.labels) or "payee"

    @property
    def organisation(self) -> bool:
        organisation_labels = set(self.labels) - {"valet worker", "space owner"}
        return bool(organisation_labels or self.roles & set(ORGANISATION_ROLES))

    @property
    def person(self) -> bool:
        """A member resident or a worker with no organisation fact: stays pseudonymous."""
        return (self.member or bool(self.roles & set(PERSONAL_ROLES))) and not self.organisation


def facts_of(session: Session, addresses: Iterable[str]) -> dict[str, Facts]:
    """What each address is (every address gets an entry), in five bounded queries."""
    wanted = sorted(set(addresses))
    found: dict[str, Facts] = {address: Facts() for address in wanted}
    if not wanted:
        return found
    labels: dict[str, set[str]] = defaultdict(set)
    for address, label in house_payees(session).items():
        labels[address].add(label)
    for address in session.scalars(
        select(m.Member.address).where(m.Member.address.in_(wanted), m.Member.status != "NONE")
    ):
        found[address].member = True
    for address, role in session.execute(
        select(m.MemberRole.address, m.MemberRole.role_name).where(m.MemberRole.address.in_(wanted))
    ):
        found[address].roles.add(role)
        if role == "TREASURY":
            labels[address].add("treasury")
        elif role == "VALET":
            labels[address].add("valet worker")
    for address in session.scalars(
        select(mm.MobilityOperator.address).where(mm.MobilityOperator.address.in_(wanted))
    ):
        labels[address].add("mobility operator")
    for owner, category in session.execute(
        select(m.Slot.owner, m.Slot.category).where(m.Slot.owner.in_(wanted)).distinct()
    ):
        labels[owner].add("lot operator" if category in LOT_CATEGORIES else "space owner")
    for address, facts in found.items():
        facts.labels = [label for label in LABELS if label in labels.get(address, ())]
    return found
