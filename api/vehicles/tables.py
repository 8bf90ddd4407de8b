"""The vehicles tables: in the read-model database but in a MetaData of their own (like
api/applications/tables.py), so rebuilding the chain's projection never drops them. They hold
no plate: a vehicle is its owner's address and one keyed-hash tag per KST month, sealed under
the vehicle's own data key."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

from api.own_tables import create_own_tables

metadata = MetaData()

vehicles = Table(
    "vehicles",
    metadata,
    Column("vehicle_id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(42), nullable=False, index=True),
    Column("registered_at", Float, nullable=False),
    # The vehicle's data key in the API's key table (citypass/core/shredding.py): its tags are
    # sealed under it, so destroying the key (a deletion, the retention sweep) shreds them.
    Column("key_id", String(64), nullable=False),
    # Ids are never reused (SQLite's AUTOINCREMENT; PostgreSQL's sequences never do): a deletion
    # record names the vehicle by its id.
    sqlite_autoincrement=True,
)

# One tag per vehicle and KST month, for the month of the registration and the months after
# it (Settings.plate_months); past months are deleted.
vehicle_tags = Table(
    "vehicle_tags",
    metadata,
    Column(
        "vehicle_id",
        Integer,
        ForeignKey("vehicles.vehicle_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("month", String(7), primary_key=True),
    Column("address", String(42), nullable=False),
    # The tag (32 bytes) sealed with AES-256-GCM under the vehicle's data key.
    Column("sealed_tag", LargeBinary(96), nullable=False),
    # The oracle's question: the tags of this lessee in this month.
    Index("vehicle_tags_by_owner_month", "address", "month"),
)


def create_tables(engine: Engine) -> None:
    """Create the tables that are missing (idempotent)."""
    create_own_tables(metadata, engine)
