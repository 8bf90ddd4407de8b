"""Engines for the read model: SQLite (embedded default, WAL) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from api.indexer import models_mobility  # noqa: F401  (registers the mobility tables)
from api.indexer.errors import IndexerError
from api.indexer.models import Base


def make_engine(url: str) -> Engine:
    """An engine with the schema created. `postgresql://` means psycopg 3, not psycopg2."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise IndexerError(
            f"cannot use database URL {url!r} ({exc}); use sqlite:///path.db or "
            "postgresql://user@host:port/db"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        Base.metadata.create_all(engine)
    except Exception as exc:  # connection failures differ per driver; all mean the same here
        raise IndexerError(
            f"cannot open the read-model database {engine.url!r}: {exc}. Check that the server "
            "runs and the URL is right"
        ) from exc
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets API readers query while the follower writes; NORMAL sync is durable enough in WAL
    # (a crash loses at most the last commit, which the cursor then re-indexes).
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
