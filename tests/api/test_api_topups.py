"""Top-ups over a real ledger node, the real citypass-api and the demo payment provider (both
real child processes; tests/payments_helpers.py): a checkout paid at the provider is minted
exactly once; forged, stale, replayed, duplicate and inconsistent webhooks mint nothing; the
provider's retries reach an API that was down; and every bad input has its 4xx."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest
import requests
from eth_account import Account
from sqlalchemy import create_engine, insert, update

from api.payments.signature import sign
from api.payments.tables import topups, treasury_transactions
from api.payments.treasury import receipt_hash
from tests.api_helpers import error_of
from tests.oracle_helpers import wait_until
from tests.payments_helpers import (
    PROVIDER,
    TOPUP_MAX,
    TOPUP_MIN,
    WEBHOOK_SECRET,
    PaymentsWorld,
    payments_world,
)  # fmt: skip

world = payments_world
WEBHOOK = "/v1/payments/webhook"


def _order(world: PaymentsWorld, headers: dict, amount: int) -> dict:
    reply = world.api.post("/v1/topups", json={"amount": amount}, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()


def _event(order: dict, receipt_id: str | None = None, **changes) -> bytes:
    event = {
        "id": "evt_" + uuid.uuid4().hex, "type": "payment.succeeded", "orderId": order["id"],
        "receiptId": receipt_id or "rcpt_" + uuid.uuid4().hex[:16], "amount": order["amount"],
        "currency": "KRW", "paidAt": int(time.time()),
    }  # fmt: skip
    event.update(changes)
    return json.dumps(event).encode()


def _deliver(world: PaymentsWorld, body: bytes, key: str | None = None, *,
             secret: str = WEBHOOK_SECRET, at: int | None = None,
             signature: str | None = None) -> requests.Response:  # fmt: skip
    headers = {"Content-Type": "application/json"}
    headers["Payment-Signature"] = signature or sign(secret, body, at or _fresh_time())
    if key != "":
        headers["Idempotency-Key"] = key or "key_" + uuid.uuid4().hex
    return world.api.post(WEBHOOK, data=body, headers=headers)


_last_signed = [0]


def _fresh_time() -> int:
    """Now, or a second after the last signature this test made: the API refuses a signature it
    has seen (a replay), so two deliveries in one second must not share one (as the provider
    also makes sure)."""
    _last_signed[0] = max(int(time.time()), _last_signed[0] + 1)
    return _last_signed[0]


def _wait_status(world: PaymentsWorld, headers: dict, topup_id: str, status: str) -> dict:
    def reached() -> dict | None:
        body = world.api.get(f"/v1/topups/{topup_id}", headers=headers).json()
        return body if body["status"] == status else None

    return wait_until(reached, timeout=60, interval=0.2)


def _provider_delivery(world: PaymentsWorld, receipt_id: str, state: str) -> dict:
    def reached() -> dict | None:
        delivery = world.provider.get(f"/v1/payments/{receipt_id}").json()["delivery"]
        return delivery if delivery["state"] == state else None

    return wait_until(reached, timeout=90, interval=0.2)


def test_a_checkout_paid_at_the_provider_is_minted_exactly_once(world: PaymentsWorld) -> None:
    resident = world.chain.new_member()
    headers = world.resident_session(resident)
    order = _order(world, headers, 12_345)
    assert order["status"] == "pending" and order["amount"] == 12_345
    assert order["checkoutUrl"].startswith(world.provider.url + "/checkout?orderId=" + order["id"])
    page = requests.get(order["checkoutUrl"], timeout=30)
    assert page.status_code == 200 and "12,345" in page.text and "simulated" in page.text

    # The resident pays on the checkout page (its form), as a browser would.
    paid = world.provider.post(
        "/checkout", data={"orderId": order["id"], "amount": "12345", "currency": "KRW"}
    )
    assert paid.status_code == 200 and "demo_rcpt_" in paid.text
    done = _wait_status(world, headers, order["id"], "minted")
    assert done["receiptId"].startswith("demo_rcpt_") and done["txHash"].startswith("0x")
    assert done["checkoutUrl"] is None  # paid: nothing more to pay
    assert world.balance(resident.address) == 12_345
    assert len(world.topup_events(done["receiptId"])) == 1
    delivery = _provider_delivery(world, done["receiptId"], "delivered")
    assert delivery["lastAnswer"]["duplicate"] is False

    # The provider delivers the same event again (a duplicate): answered, nothing minted.
    world.provider.post(f"/v1/payments/{done['receiptId']}/resend")
    again = _provider_delivery(world, done["receiptId"], "delivered")
    assert again["lastStatus"] == 200 and again["lastAnswer"]["duplicate"] is True
    assert again["lastAnswer"]["txHash"] == done["txHash"]
    # A second payment of the same order is refused by the provider itself.
    assert (
        world.provider.post(
            "/v1/payments", json={"orderId": order["id"], "amount": 12_345}
        ).status_code
        == 409
    )
    assert world.balance(resident.address) == 12_345
    assert len(world.topup_events(done["receiptId"])) == 1
    listed = world.api.get("/v1/topups", headers=headers).json()
    assert [t["id"] for t in listed["topUps"]] == [order["id"]]


def test_forged_stale_replayed_and_inconsistent_webhooks_mint_nothing(world: PaymentsWorld) -> None:
    resident = world.chain.new_member()
    headers = world.resident_session(resident)
    order = _order(world, headers, 5_000)
    body = _event(order)
    receipt_id = json.loads(body)["receiptId"]

    error_of(_deliver(world, body, secret="not-the-shared-secret"), 401, "webhook_bad_signature")
    altered = body.replace(b'"amount": 5000', b'"amount": 50000')
    assert altered != body
    signed_for_other = sign(WEBHOOK_SECRET, body, _fresh_time())
    error_of(_deliver(world, altered, signature=signed_for_other), 401, "webhook_bad_signature")
    reply = world.api.post(WEBHOOK, data=body, headers={"Idempotency-Key": "k1"})
    error_of(reply, 400, "webhook_signature_missing")
    for bad in ("t=abc,v1=" + "0" * 64, "v1=" + "0" * 64, "t=1", "t=1,v1=xyz", "x" * 2000):
        error_of(_deliver(world, body, signature=bad), 400, "webhook_signature_malformed")
    stale = _deliver(world, body, at=int(time.time()) - 301)
    assert "more than 300 s" in error_of(stale, 400, "webhook_stale")["message"]
    error_of(_deliver(world, body, at=int(time.time()) + 3600), 400, "webhook_stale")
    error_of(_deliver(world, body, key=""), 400, "idempotency_key_missing")
    error_of(_deliver(world, body, key="é" * 3), 400, "idempotency_key_malformed")
    assert world.balance(resident.address) == 0

    # Bodies that are not a payment event: 422 naming the field.
    for changes, field in (
        ({"amount": "5000"}, "amount"), ({"amount": 0}, "amount"), ({"currency": "USD"}, "currency"),
        ({"type": "payment.refunded"}, "type"), ({"receiptId": "has space"}, "receiptId"),
        ({"orderId": None}, "orderId"), ({"paidAt": -1}, "paidAt"),
    ):  # fmt: skip
        message = error_of(_deliver(world, _event(order, **changes)), 422, "validation")["message"]
        assert field in message, message
    error_of(_deliver(world, b"not json"), 422, "validation")
    error_of(_deliver(world, _event({"id": "tu_unknown", "amount": 5000})), 404, "unknown_order")
    mismatch = _deliver(world, _event(order, amount=4_999))
    assert "5000" in error_of(mismatch, 409, "amount_mismatch")["message"]
    assert world.balance(resident.address) == 0

    # The genuine delivery mints; the same bytes and headers again are a replay.
    key = "key_" + uuid.uuid4().hex
    signature = sign(WEBHOOK_SECRET, body, _fresh_time())
    first = _deliver(world, body, key, signature=signature)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "minted" and first.json()["duplicate"] is False
    error_of(_deliver(world, body, key, signature=signature), 409, "webhook_replayed")
    # Re-signed (a provider retry): a duplicate, answered without minting.
    duplicate = _deliver(world, body, key)
    assert duplicate.status_code == 200 and duplicate.json()["duplicate"] is True
    # The same payment under another idempotency key: still that one payment.
    assert _deliver(world, body).json()["duplicate"] is True
    # The key again for another event, another receipt for the paid order, this receipt for
    # another order: all refused.
    error_of(_deliver(world, _event(order, receipt_id), key), 409, "idempotency_key_reused")
    error_of(_deliver(world, _event(order)), 409, "order_already_paid")
    other = _order(world, headers, 5_000)
    error_of(_deliver(world, _event(other, receipt_id)), 409, "receipt_reused")
    assert world.balance(resident.address) == 5_000
    assert len(world.topup_events(receipt_id)) == 1
    assert world.api.get(f"/v1/topups/{other['id']}", headers=headers).json()["status"] == "pending"


def test_a_receipt_already_minted_on_chain_is_not_minted_again(world: PaymentsWorld) -> None:
    """The crash between mint and record: the chain has the TopUp for the receipt but the API's
    record does not. The API searches the chain before minting and records what it finds."""
    resident = world.chain.new_member()
    headers = world.resident_session(resident)
    order = _order(world, headers, 7_000)
    receipt_id = "rcpt_" + uuid.uuid4().hex[:16]
    world.chain.system.credit.mint(
        resident.address, 7_000, receipt_hash(f"{PROVIDER}:{receipt_id}"),
        {"from": world.chain.people.treasury},
    )  # fmt: skip
    reply = _deliver(world, _event(order, receipt_id))
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "minted"
    assert world.balance(resident.address) == 7_000
    assert len(world.topup_events(receipt_id)) == 1


def test_the_provider_retries_until_the_api_is_back(world: PaymentsWorld) -> None:
    resident = world.chain.new_member()
    headers = world.resident_session(resident)
    order = _order(world, headers, 9_000)
    world.api.stop()
    try:
        paid = world.provider.post("/v1/payments", json={"orderId": order["id"], "amount": 9_000})
        assert paid.status_code == 201, paid.text
        receipt_id = paid.json()["receiptId"]

        def retried() -> bool:
            delivery = world.provider.get(f"/v1/payments/{receipt_id}").json()["delivery"]
            return delivery["attempts"] >= 2 and delivery["state"] == "retrying"

        wait_until(retried, timeout=30, interval=0.1)
        assert world.balance(resident.address) == 0
    finally:
        world.api.restart()
    delivery = _provider_delivery(world, receipt_id, "delivered")
    assert delivery["attempts"] >= 3 and delivery["lastAnswer"]["status"] == "minted"
    assert world.balance(resident.address) == 9_000
    assert len(world.topup_events(receipt_id)) == 1


def test_top_up_orders_refuse_bad_input(world: PaymentsWorld) -> None:
    resident = world.chain.new_member()
    headers = world.resident_session(resident)
    error_of(world.api.post("/v1/topups", json={"amount": 5_000}), 401, "session_missing")
    bad_token = {"Authorization": "Bearer nope"}
    error_of(world.api.post("/v1/topups", json={"amount": 5_000}, headers=bad_token), 401)
    for body in ({}, {"amount": "5000"}, {"amount": 0}, {"amount": -5}, {"amount": 1.5},
                 {"amount": 5_000, "extra": 1}, {"amount": None}):  # fmt: skip
        message = error_of(world.api.post("/v1/topups", json=body, headers=headers), 422)["message"]
        assert "amount" in message or "extra" in message, message
    for amount in (TOPUP_MIN - 1, TOPUP_MAX + 1):
        reply = world.api.post("/v1/topups", json={"amount": amount}, headers=headers)
        message = error_of(reply, 422, "amount_out_of_range")["message"]
        assert message.startswith("amount:") and str(TOPUP_MAX) in message
    # Not a member: credits could not be minted to it.
    stranger = world.resident_session(Account.create())
    error_of(
        world.api.post("/v1/topups", json={"amount": 5_000}, headers=stranger), 403, "not_member"
    )
    # Another resident's order is not found.
    order = _order(world, headers, 5_000)
    other = world.resident_session(world.chain.new_member())
    error_of(world.api.get(f"/v1/topups/{order['id']}", headers=other), 404, "unknown_topup")
    assert world.api.get("/v1/topups", headers=other).json()["topUps"] == []
    # The webhook: an oversized body.
    reply = world.api.post(
        WEBHOOK, data=b"x" * 70_000, headers={"Payment-Signature": "t=1,v1=" + "0" * 64}
    )
    error_of(reply, 400, "webhook_too_large")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"orderId": "tu_x", "amount": 0}, "amount"), ({"orderId": "a b", "amount": 5}, "orderId"),
     ({"orderId": "tu_x", "amount": 5, "currency": "USD"}, "currency")],
)  # fmt: skip
def test_the_demo_provider_refuses_bad_payments(
    world: PaymentsWorld, body: dict, field: str
) -> None:
    reply = world.provider.post("/v1/payments", json=body)
    assert reply.status_code == 422 and field in reply.text, reply.text


def _paid_in_the_database(world: PaymentsWorld, order: dict, receipt_id: str, body: bytes) -> None:
    """The order as the API leaves it once it has recorded the payment (status minting)."""
    engine = create_engine(world.api.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(topups).where(topups.c.id == order["id"]).values(
                    status="minting", receipt_id=receipt_id, idempotency_key="key_" + receipt_id,
                    receipt_hash="0x" + receipt_hash(f"{PROVIDER}:{receipt_id}").hex(),
                    event_sha256=hashlib.sha256(body).hexdigest(), paid_at=time.time(),
                )
            )  # fmt: skip
    finally:
        engine.dispose()


def _signed_mint(world: PaymentsWorld, order: dict, receipt_id: str, key: str) -> bytes:
    """The treasury's mint for the order, signed and recorded as the API records it before
    sending: what a crash right after the record leaves behind. Returns the raw transaction."""
    chain, treasury = world.chain, world.chain.people.treasury
    call = chain.contract("credit").functions.mint(
        order["address"], order["amount"], receipt_hash(f"{PROVIDER}:{receipt_id}")
    )
    nonce = chain.w3.eth.get_transaction_count(treasury.address, "pending")
    tx = call.build_transaction({"from": treasury.address, "gasPrice": 0, "nonce": nonce,
                                 "chainId": chain.chain_id})  # fmt: skip
    signed = treasury.sign_transaction(tx)
    engine = create_engine(world.api.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(treasury_transactions).values(
                    key=key, nonce=nonce, raw="0x" + bytes(signed.raw_transaction).hex(),
                    tx_hash="0x" + bytes(signed.hash).hex(), status="sent", updated_at=time.time(),
                )
            )  # fmt: skip
    finally:
        engine.dispose()
    return bytes(signed.raw_transaction)


@pytest.mark.parametrize("sent_before_the_crash", [False, True])
def test_a_retry_after_a_crash_completes_the_recorded_mint_once(
    world: PaymentsWorld, sent_before_the_crash: bool
) -> None:
    """The API recorded the payment and the signed mint, then died: before sending it, or after
    sending it but before its receipt. The provider's retry completes that very transaction."""
    resident = world.chain.new_member()
    order = _order(world, world.resident_session(resident), 3_000)
    receipt_id = "rcpt_" + uuid.uuid4().hex[:16]
    body = _event(order, receipt_id)
    _paid_in_the_database(world, order, receipt_id, body)
    raw = _signed_mint(world, order, receipt_id, f"topup:{order['id']}")
    if sent_before_the_crash:
        world.chain.w3.eth.wait_for_transaction_receipt(
            world.chain.w3.eth.send_raw_transaction(raw)
        )
        assert world.balance(resident.address) == 3_000
    reply = _deliver(world, body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "minted" and reply.json()["duplicate"] is True
    assert world.balance(resident.address) == 3_000
    assert len(world.topup_events(receipt_id)) == 1
    assert _deliver(world, body).json()["txHash"] == reply.json()["txHash"]
    assert world.balance(resident.address) == 3_000


def test_a_mint_the_chain_refuses_leaves_the_order_for_staff(world: PaymentsWorld) -> None:
    resident = world.chain.new_member()
    order = _order(world, world.resident_session(resident), 4_000)
    world.chain.system.access.suspend(
        resident.address, b"\x01" * 32, {"from": world.chain.people.admin}
    )
    reply = _deliver(world, _event(order))
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "mint_failed" and reply.json()["txHash"] is None
    assert world.balance(resident.address) == 0
    headers = world.resident_session(resident)
    failure = world.api.get(f"/v1/topups/{order['id']}", headers=headers).json()["failure"]
    assert "CityCreditPartyNotAllowed" in failure, failure
