"""The address-book table: in the read-model database but in a MetaData of its own (like
api/applications/tables.py and api/siwe/tables.py). The indexer's schema is a projection of the
chain that may be dropped and rebuilt; staff-kept names are not on chain and must survive it."""

from __future__ import annotations

from sqlalchemy import Column, Engine, Float, MetaData, String, Table

from api.own_tables import create_own_tables

metadata = MetaData()

NAME_MAX = 64
# What a named address is. A small closed set, so the explorer and the KPIs can group by it:
# - stakeholder: the pilot's paid parties (village enterprise, city fund, platform, treasury);
# - mobility_operator: a scooter, car-share or bus operator registered on chain;
# - lot_operator: who runs a parking lot whose spaces are shared (Technopark's operator);
# - contract: a contract not of this deployment (ours are named from the deployment record);
# - organisation: any other organisation (a school, a shop that shares spaces).
KINDS = ("stakeholder", "mobility_operator", "lot_operator", "contract", "organisation")

address_book = Table(
    "address_book",
    metadata,
    Column("address", String(42), primary_key=True),  # EIP-55 checksummed
    Column("name", String(NAME_MAX), nullable=False),  # English
    Column("name_ko", String(NAME_MAX), nullable=True),  # Korean, when it has one
    Column("kind", String(24), nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(42), nullable=False),  # the staff member's address
)


def create_tables(engine: Engine) -> None:
    """Create the table if missing (idempotent: every API start calls it)."""
    create_own_tables(metadata, engine)
