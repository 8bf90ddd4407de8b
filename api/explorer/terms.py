"""The domain's words for on-chain codes (enum names, role names, the stakeholders' roles) in
the reader's language: `term("RESIDENT_PRIORITY")` is 'resident priority' in English and
'거주자 우선' in Korean. The vocabulary lists each word once so extraction finds it; a code
outside it shows as its words in English."""

from __future__ import annotations

from api.i18n.catalog import N_, gettext

VOCABULARY = (
    # slot categories (ParkingSlots)
    N_("public lot"), N_("private lot"), N_("resident priority"), N_("personal"),
    # payee kinds and the stakeholders (RevenueSplit)
    N_("owner"), N_("village enterprise"), N_("city fund"), N_("platform"),
    N_("slot owner / worker"), N_("slot owners and workers"),
    # devices, incidents and their review
    N_("magnetometer"), N_("ultrasonic"), N_("camera"),
    N_("illegal parking"), N_("unauthorised occupancy"), N_("illegal dumping"), N_("jaywalking"),
    N_("none"), N_("open"), N_("confirmed"), N_("dismissed"),
    # why an incident was confirmed or dismissed (ReviewReason, citypass/protocol/review_reasons.py)
    N_("evidence clear"), N_("verified on site"), N_("false detection"), N_("authorised use"),
    N_("duplicate"), N_("insufficient evidence"), N_("other"),
    # mobility operators and assets
    N_("car share"), N_("kick scooter"), N_("valet"), N_("transit"),
    # roles (CityAccess)
    N_("city admin"), N_("treasury"), N_("operator"), N_("oracle"), N_("inspector"),
    N_("auditor"), N_("member"), N_("default admin"),
    # membership, leases
    N_("active"), N_("suspended"), N_("booked"), N_("checked in"), N_("settled"),
    N_("cancelled"), N_("no show"),
    # block seals (indexer/seals.py)
    N_("sealed"), N_("unsealed"), N_("invalid"), N_("unavailable"),
    # what a payee is (api/address_book/facts.py), the KPIs' stakeholder groups, and the
    # address book's kinds
    N_("mobility operator"), N_("lot operator"), N_("valet worker"), N_("space owner"),
    N_("mobility operators"), N_("lot operators"), N_("valet workers"), N_("space owners"),
    N_("other payees"), N_("payee"), N_("stakeholder"), N_("contract"), N_("organisation"),
    # the node's journal check at its start (ledger_status.journalCheck.result)
    N_("ok"),
)  # fmt: skip

# Where a statement line's chain figure comes from (api/explorer/revenue.py), shown as is.
SOURCES = (
    N_("MonthlyStatement event"), N_("month open: split's allocation logs"),
    N_("month open: accountOf()"), N_("no statement for this month"),
    N_("the persons' lines summed (sign in as an auditor for each line)"),
)  # fmt: skip

# A seal's verdict in words (indexer/seals.py; one that names a hash stays as the node said it).
SEAL_DETAILS = (
    N_("signature verified"), N_("the node's journal holds no seal for this block"),
    N_("the signature is not the authority's"),
)  # fmt: skip


def words(code: str) -> str:
    """'RESIDENT_PRIORITY' → 'resident priority' (the English term)."""
    return str(code).replace("_", " ").lower()


def term(code: str) -> str:
    """An on-chain code or an English term, in the current language."""
    return gettext(words(code))


# Witnesses' names on CityAccess (citypass/protocol/witness_names.py): the labels the explorer
# knows, in the reader's language; any other label is shown as it is.
WITNESS_NAMES = {
    "village-enterprise": N_("village enterprise"),
    "mobility-operator": N_("mobility operator"),
    "audit-office": N_("audit office"),
    "city": N_("city hall"),
}


def witness_name(label: str) -> str:
    known = WITNESS_NAMES.get(label)
    return gettext(known) if known else label
