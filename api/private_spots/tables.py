"""The private-spots table: in the read-model database but in a MetaData of its own (like
api/address_book/tables.py). The indexer's schema is a projection of the chain that may be
dropped and rebuilt; a home's exact spot is not on chain and must survive it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Engine, Float, Integer, MetaData, String, Table

from api.own_tables import create_own_tables

metadata = MetaData()

# Enough for a gate code, a floor and which space; short enough to read on a phone at the gate.
INSTRUCTIONS_MAX = 500

private_spots = Table(
    "private_spots",
    metadata,
    Column("slot_id", BigInteger, primary_key=True),
    Column("lat_e6", Integer, nullable=False),  # exact, micro-degrees, inside the on-chain cell
    Column("lon_e6", Integer, nullable=False),
    Column("instructions", String(INSTRUCTIONS_MAX), nullable=False),
    # Who set it: served only while that address still owns the slot, so a slot's next owner
    # never hands her lessees the previous owner's gate code.
    Column("owner", String(42), nullable=False),
    Column("updated_at", Float, nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Create the table if missing (idempotent: every API start calls it)."""
    create_own_tables(metadata, engine)
