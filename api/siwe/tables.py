"""The staff-session tables: in the read-model database, so sessions and used nonces survive an
API restart, but in a MetaData of their own. The indexer's schema (indexer/models.py) is a
projection of the chain that may be dropped and rebuilt from it; these rows are not on chain."""

from __future__ import annotations

from sqlalchemy import Column, Engine, Float, MetaData, String, Table

from api.own_tables import create_own_tables

metadata = MetaData()

NONCE_MAX_LENGTH = 64

# Issued nonces: open until used_at is set (once, atomically) or expires_at passes.
siwe_nonces = Table(
    "siwe_nonces",
    metadata,
    Column("nonce", String(NONCE_MAX_LENGTH), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
    Column("used_at", Float, nullable=True),
)

# Sessions by SHA-256 of their bearer token: a copy of this table opens no session.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("address", String(42), nullable=False),
    Column("roles", String(200), nullable=False),  # role names at sign-in, comma-separated
    Column("issued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)


def create_tables(engine: Engine) -> None:
    """Create the tables that are missing (idempotent: every API start calls it)."""
    create_own_tables(metadata, engine)
