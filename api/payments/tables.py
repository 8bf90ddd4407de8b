"""The payments tables: in the read-model database but in a MetaData of their own, like the
staff sessions (api/siwe/tables.py). These rows are not on chain and cannot be rebuilt from it:
they are the off-chain half of each top-up and cash-out (who asked, the provider's receipt,
the staff's decision) and the treasury's record of what it is about to send."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Engine, Float, MetaData, String, Table, Text

from api.own_tables import create_own_tables

metadata = MetaData()


def _request_columns(*, status_indexed: bool) -> list[Column]:
    """What a top-up order and a cash-out request both are: who, how much, where it stands."""
    return [
        Column("id", String(40), primary_key=True),
        Column("address", String(42), nullable=False, index=True),
        Column("amount", BigInteger, nullable=False),
        Column("status", String(16), nullable=False, index=status_indexed),
        Column("created_at", Float, nullable=False),
    ]


# One row per top-up order: pending -> minting (paid: the intent to mint recorded before any
# transaction) -> minted, or mint_failed (the chain refused: staff refund the payment).
topups = Table(
    "payment_topups",
    metadata,
    *_request_columns(status_indexed=False),
    Column("receipt_id", String(100), nullable=True, unique=True),
    Column("receipt_hash", String(66), nullable=True, unique=True),
    Column("idempotency_key", String(255), nullable=True, unique=True),
    Column("event_sha256", String(64), nullable=True),
    Column("paid_at", Float, nullable=True),
    Column("tx_hash", String(66), nullable=True),
    Column("failure", String(500), nullable=True),
)

# One row per cash-out request: requested -> settled (burned on chain, paid out by the village
# enterprise) or rejected (with the staff's reason).
cashouts = Table(
    "payment_cashouts",
    metadata,
    *_request_columns(status_indexed=True),
    Column("decided_at", Float, nullable=True),
    Column("decided_by", String(42), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("tx_hash", String(66), nullable=True),
)

# Signatures of accepted webhooks, kept for the tolerance window: the same delivery again
# (a captured request played back) is a replay.
webhook_signatures = Table(
    "payment_webhook_signatures",
    metadata,
    Column("signature", String(64), primary_key=True),
    Column("timestamp", Float, nullable=False, index=True),
)

# What the treasury signed, written BEFORE it is sent: after a crash the same signed
# transaction is looked up or sent again, never a second one (api/payments/treasury.py).
treasury_transactions = Table(
    "payment_treasury_transactions",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("nonce", BigInteger, nullable=False),
    Column("raw", Text, nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("status", String(16), nullable=False),  # sent | mined | reverted
    Column("updated_at", Float, nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Create the tables that are missing (idempotent: every API start calls it)."""
    create_own_tables(metadata, engine)
