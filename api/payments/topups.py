"""Top-ups: a resident's order, the provider's signed webhook, and the one mint per order.

Order of a webhook's checks (each its own code, docs/api.md "Top-ups"): the signature header
and its timestamp (400), the HMAC (401), a delivery seen before (409 replay), the idempotency
key (400), the body (422), then the order: unknown (404), another amount (409), another receipt
(409). The order moves pending -> minting in one transaction before anything is sent, so a
retry after a crash finds it paid and only completes the mint (api/payments/treasury.py).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from api.errors import BadRequest, Conflict, NotFound, ValidationFailed
from api.payments.limits import check_amount, require_allowed
from api.payments.service import PaymentsService
from api.payments.signature import IDEMPOTENCY_HEADER, verify
from api.payments.tables import topups, webhook_signatures
from api.payments.treasury import ChainRefused, receipt_hash
from api.schemas.payments import PaymentEvent, TopUpPublic, WebhookAnswer

MAX_IDEMPOTENCY_KEY = 255


class TopUps(PaymentsService):
    # ------------------------------------------------------------------------------ orders

    def create(self, address: str, amount: int) -> TopUpPublic:
        settings = self._settings
        check_amount("amount", amount, settings.topup_min_krw, settings.topup_max_krw)
        require_allowed(self._access, address, "top up")
        row = {
            "id": "tu_" + secrets.token_hex(10), "address": address, "amount": amount,
            "status": "pending", "created_at": self._clock(),
        }  # fmt: skip
        with self._engine.begin() as conn:
            conn.execute(insert(topups).values(**row))
        return self._public(row)

    def mine(self, address: str) -> list[TopUpPublic]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(topups).where(topups.c.address == address).order_by(topups.c.created_at)
            ).mappings()
            return [self._public(row) for row in rows]

    def get(self, topup_id: str, address: str) -> TopUpPublic:
        row = self._row(topup_id)
        # Another resident's order is as unknown as a made-up one (no probing of ids).
        if row is None or row["address"] != address:
            raise NotFound(f"no top-up {topup_id} of {address}", code="unknown_topup")
        return self._public(row)

    def _public(self, row: Any) -> TopUpPublic:
        checkout = None
        if row["status"] == "pending":
            query = urlencode({"orderId": row["id"], "amount": row["amount"], "currency": "KRW"})
            checkout = f"{self._settings.payments_checkout_url}?{query}"
        return TopUpPublic(
            id=row["id"], address=row["address"], amount=row["amount"], status=row["status"],
            createdAt=int(row["created_at"]), checkoutUrl=checkout,
            receiptId=row.get("receipt_id"), txHash=row.get("tx_hash"),
            paidAt=int(row["paid_at"]) if row.get("paid_at") else None,
            failure=row.get("failure"),
        )  # fmt: skip

    def _row(self, topup_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(select(topups).where(topups.c.id == topup_id)).mappings().first()

    # ----------------------------------------------------------------------------- webhook

    def receive(self, body: bytes, signature: str | None, key: str | None) -> WebhookAnswer:
        settings = self._settings
        now = self._clock()
        tolerance = settings.payments_webhook_tolerance_seconds
        delivery = verify(settings.payments_webhook_secret, body, signature, now, tolerance)
        self._remember(delivery.signature, delivery.timestamp, now - 2 * tolerance)
        key = _idempotency_key(key)
        event = _event(body)
        row, duplicate = self._claim(event, key, hashlib.sha256(body).hexdigest())
        if row["status"] == "minting":
            row = self._mint(row)
        return WebhookAnswer(
            orderId=row["id"], receiptId=row["receipt_id"], status=row["status"],
            txHash=row["tx_hash"], duplicate=duplicate,
        )  # fmt: skip

    def _remember(self, signature: str, timestamp: int, older: float) -> None:
        try:
            with self._engine.begin() as conn:
                # Signatures past the window need not be kept: a stale one is refused anyway.
                conn.execute(
                    delete(webhook_signatures).where(webhook_signatures.c.timestamp < older)
                )
                conn.execute(
                    insert(webhook_signatures).values(signature=signature, timestamp=timestamp)
                )
        except IntegrityError as exc:
            raise Conflict(
                "this exact signed delivery was received before: a replay is refused (the "
                "provider signs each retry anew, with a new timestamp)",
                code="webhook_replayed",
            ) from exc

    def _claim(self, event: PaymentEvent, key: str, body_sha: str) -> tuple[Any, bool]:
        """The order, moved from pending to minting by this delivery (duplicate False) or by an
        earlier delivery of the same payment (True); 404/409 for anything else."""
        receipt = receipt_hash(f"{self._settings.payments_provider}:{event.receiptId}")
        with self._engine.begin() as conn:
            keyed = (
                conn.execute(select(topups).where(topups.c.idempotency_key == key))
                .mappings()
                .first()
            )
            if keyed is not None and (
                keyed["id"] != event.orderId or keyed["event_sha256"] != body_sha
            ):
                raise Conflict(
                    f"{IDEMPOTENCY_HEADER} {key!r} was used for another event: a new event "
                    "needs a new key",
                    code="idempotency_key_reused",
                )
            row = (
                conn.execute(select(topups).where(topups.c.id == event.orderId)).mappings().first()
            )
            if row is None:
                raise NotFound(f"no top-up order {event.orderId}", code="unknown_order")
            if event.amount != row["amount"]:
                raise Conflict(
                    f"the payment is of {event.amount} KRW but order {row['id']} is of "
                    f"{row['amount']} KRW: nothing is minted; refund the payment",
                    code="amount_mismatch",
                )
            if row["status"] != "pending":
                if row["receipt_id"] != event.receiptId:
                    raise Conflict(
                        f"order {row['id']} was already paid with receipt {row['receipt_id']}: "
                        f"nothing is minted for {event.receiptId}; refund that payment",
                        code="order_already_paid",
                    )
                return row, True
            paid = {
                "status": "minting", "receipt_id": event.receiptId,
                "receipt_hash": "0x" + receipt.hex(), "idempotency_key": key,
                "event_sha256": body_sha, "paid_at": float(event.paidAt),
            }  # fmt: skip
            try:
                moved = conn.execute(
                    update(topups).where(topups.c.id == row["id"], topups.c.status == "pending")
                    .values(**paid)
                ).rowcount  # fmt: skip
            except IntegrityError as exc:
                raise Conflict(
                    f"receipt {event.receiptId} already paid another order: nothing is minted",
                    code="receipt_reused",
                ) from exc
        if not moved:  # a concurrent delivery paid it between our read and our update
            return self._claim(event, key, body_sha)
        return self._row(row["id"]), False

    def _mint(self, row: Any) -> Any:
        receipt = bytes.fromhex(row["receipt_hash"][2:])
        call = self._treasury.credit.functions.mint(row["address"], row["amount"], receipt)
        try:
            tx_hash = self._treasury.send_once(f"topup:{row['id']}", call, "TopUp", receipt)
            values = {"status": "minted", "tx_hash": tx_hash}
        except ChainRefused as exc:
            values = {"status": "mint_failed", "failure": str(exc)[:500]}
        with self._engine.begin() as conn:
            conn.execute(update(topups).where(topups.c.id == row["id"]).values(**values))
        return self._row(row["id"])


def _idempotency_key(key: str | None) -> str:
    if not key:
        raise BadRequest(
            f"no {IDEMPOTENCY_HEADER} header: the provider sends one per event",
            code="idempotency_key_missing",
        )
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise BadRequest(
            f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters",
            code="idempotency_key_malformed",
        )
    return key


def _event(body: bytes) -> PaymentEvent:
    try:
        return PaymentEvent.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValidationFailed(f"the webhook body is not a payment event: {problems}") from exc
