"""Engines for the read model: SQLite (embedded default, WAL) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from indexer import models_mobility  # noqa: F401  (registers the mobility tables)
from indexer.errors import IndexerError
from indexer.models import Base


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
    check_schema(engine)
    return engine


def check_schema(engine: Engine) -> None:
    """Refuse a read model built by another version of these tables.

    create_all adds missing tables but never alters existing ones, so a database made by an
    older release would fail later with obscure SQL errors. The read model is derived data:
    the cure is always to re-index from the chain, which this error says."""
    existing = inspect(engine)
    problems = []
    for table in Base.metadata.sorted_tables:
        have = {column["name"] for column in existing.get_columns(table.name)}
        want = {column.name for column in table.columns}
        if want - have:
            problems.append(f"{table.name} lacks {', '.join(sorted(want - have))}")
        if have - want:
            problems.append(f"{table.name} has unknown {', '.join(sorted(have - want))}")
    if problems:
        raise IndexerError(
            f"the read model at {engine.url!r} was built by another version of the indexer "
            f"({'; '.join(problems)}): stop the API, move that database aside and re-index into "
            "an empty one (`python -m indexer run` rebuilds it from block 0)"
        )


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets API readers query while the follower writes; NORMAL sync is durable enough in WAL
    # (a crash loses at most the last commit, which the cursor then re-indexes).
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
