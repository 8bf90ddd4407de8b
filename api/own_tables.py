"""The API's own tables (sessions, payments, applications, the address book, home spots,
vehicles) live in the read-model database but each in a MetaData of its own, so rebuilding the
chain's projection never drops them. One way to create them, shared by each owner's tables."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData
from sqlalchemy.exc import SQLAlchemyError


def create_own_tables(own: MetaData, engine: Engine) -> None:
    """Create the tables of one of the API's own MetaData that are missing (idempotent: every
    API start calls it)."""
    try:
        own.create_all(engine)
    except SQLAlchemyError:
        # Two API processes starting together over a fresh database both saw a table missing
        # and one lost the race to create it; the second pass finds it there.
        own.create_all(engine)
