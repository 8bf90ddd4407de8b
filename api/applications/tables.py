"""The applications table: in the read-model database but in a MetaData of its own (like
api/siwe/tables.py). The indexer's schema is a projection of the chain that may be dropped and
rebuilt; these rows hold personal data that is not on chain and must not be dropped with it."""

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
    text,
)

from api.own_tables import create_own_tables
from api.schemas.applications import HOME_MAX, NAME_MAX, PHONE_MAX, REASON_MAX

metadata = MetaData()


# PENDING: waiting for staff; APPROVING: an approval is sending the onboard transaction (claimed
# atomically, so two approvals never both send one); APPROVED; REJECTED.
OPEN_STATUSES = ("PENDING", "APPROVING")
_OPEN = "status IN ('PENDING', 'APPROVING')"

applications = Table(
    "residency_applications",
    metadata,
    Column("application_id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(42), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    # The personal data (DESIGN §6: off chain, minimal): who, how to reach them, where they
    # live. Always "" since issue 15: the values are stored only encrypted, in `personal`
    # below; the columns stay so older databases keep their schema (their rows get sealed).
    Column("name", String(NAME_MAX), nullable=False),
    Column("phone", String(PHONE_MAX), nullable=False),
    Column("home_address", String(HOME_MAX), nullable=False),
    Column("submitted_at", Float, nullable=False),
    Column("claimed_at", Float, nullable=True),  # when an approval started sending
    Column("decided_at", Float, nullable=True),
    # "staff" (a reviewer's approval or rejection), "auto" (CITYPASS_API_AUTO_APPROVE) or
    # "onChain" (the address was onboarded another way, e.g. scripts/member.py).
    Column("decided_via", String(16), nullable=True),
    Column("decided_by", String(42), nullable=True),  # the reviewer's address
    Column("reason_code", String(REASON_MAX), nullable=True),  # rejections only
    Column("onboard_tx_hash", String(66), nullable=True),
    Column("onboard_block", Integer, nullable=True),
    # One open application per address, enforced by the database so two concurrent
    # applications cannot both be stored (a partial unique index: SQLite and PostgreSQL).
    Index(
        "one_open_application_per_address",
        "address",
        unique=True,
        sqlite_where=text(_OPEN),
        postgresql_where=text(_OPEN),
    ),  # fmt: skip
)

# The personal fields' ciphertext under the application's own data key (api/applications/
# personal.py); the row is deleted once the key is shredded.
personal = Table(
    "residency_application_personal",
    metadata,
    Column(
        "application_id",
        Integer,
        ForeignKey("residency_applications.application_id"),
        primary_key=True,
    ),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("sealed", LargeBinary, nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Create the table if missing (idempotent: every API start calls it)."""
    create_own_tables(metadata, engine)
