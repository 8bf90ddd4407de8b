"""An application's personal fields (name, phone, home address), encrypted at rest under the
application's own data key (citypass/core/shredding.py), so that shredding the key deletes them
from the database and from every backup of it (docs/privacy.md "How long each thing is kept").

The ciphertext sits in its own table beside the application (the application row keeps "" in
the three clear columns, which older databases still have); the data key sits in the API's key
table, <data_dir>/keys.sqlite, a separate file that must not go into long-lived backups.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from api.applications.tables import applications, personal
from citypass.core.shredding import KeyTable, decrypt, encrypt

KIND = "application"  # in the key table and the deletion records
log = logging.getLogger("api.applications")


@dataclass(frozen=True)
class ApplicationRecord:
    """An application as the API serves it; name, phone and home_address are None once the
    personal fields were shredded (`personal_deleted`)."""

    application_id: int
    address: str
    status: str
    name: str | None
    phone: str | None
    home_address: str | None
    submitted_at: float
    claimed_at: float | None
    decided_at: float | None
    decided_via: str | None
    decided_by: str | None
    reason_code: str | None
    onboard_tx_hash: str | None
    onboard_block: int | None
    personal_deleted: bool


FIELDS = {f.name for f in fields(ApplicationRecord)}


class PersonalFields:
    """Seals and opens the personal fields with per-application data keys."""

    def __init__(self, keys: KeyTable) -> None:
        self.keys = keys

    def seal(self, name: str, phone: str, home_address: str) -> tuple[str, bytes]:
        """(key id, ciphertext) under a new data key, committed before it is used."""
        key = self.keys.create(KIND)
        plain = json.dumps({"name": name, "phone": phone, "homeAddress": home_address})
        return key.key_id, encrypt(key.key, plain.encode(), key.key_id.encode())

    def open(self, key_id: str | None, sealed: bytes | None) -> dict[str, str] | None:
        """The fields, or None when the key was destroyed (or nothing was sealed)."""
        if key_id is None or sealed is None:
            return None
        key = self.keys.key(KIND, key_id)
        if key is None:
            return None
        values = json.loads(decrypt(key, bytes(sealed), key_id.encode()))
        return {"name": values["name"], "phone": values["phone"],
                "home_address": values["homeAddress"]}  # fmt: skip

    def record(self, row: Any) -> ApplicationRecord:
        """An application row selected with `personal`'s key_id and sealed columns."""
        values = {k: v for k, v in row._asdict().items() if k in FIELDS}
        opened = self.open(row.key_id, row.sealed)
        if opened is not None:
            return ApplicationRecord(**{**values, **opened, "personal_deleted": False})
        if row.key_id is None and row.name:  # a row from before encryption, not yet sealed
            return ApplicationRecord(**values, personal_deleted=False)
        deleted = {"name": None, "phone": None, "home_address": None}
        return ApplicationRecord(**{**values, **deleted, "personal_deleted": True})

    def seal_legacy(self, conn: Connection) -> int:
        """Encrypt the clear fields of applications stored before this table existed (each in
        the caller's transaction); returns how many were sealed."""
        rows = conn.execute(
            select(applications)
            .outerjoin(personal)
            .where(personal.c.application_id.is_(None), applications.c.name != "")
        ).all()
        for row in rows:
            key_id, sealed = self.seal(row.name, row.phone, row.home_address)
            conn.execute(
                personal.insert().values(
                    application_id=row.application_id, key_id=key_id, sealed=sealed
                )
            )
            conn.execute(
                applications.update()
                .where(applications.c.application_id == row.application_id)
                .values(name="", phone="", home_address="")
            )
            self.keys.bind(KIND, key_id, str(row.application_id))
        return len(rows)


def purge_free_pages(engine: Engine) -> None:
    """After sealing clear rows in SQLite: rewrite the file (VACUUM) and empty the WAL, so the
    old clear text does not linger in free pages. Best effort: a busy database is logged with
    what to do (PostgreSQL reuses its dead rows' space by itself; see docs/api.md)."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except SQLAlchemyError as exc:
        log.warning(
            "could not VACUUM the database after sealing older applications: run "
            "`sqlite3 <db> VACUUM` while the API is stopped",
            extra={"error": str(exc)},
        )


def with_personal() -> Any:
    """SELECT of applications with their sealed personal fields (none once erased)."""
    return select(applications, personal.c.key_id, personal.c.sealed).outerjoin(personal)
