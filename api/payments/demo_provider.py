"""The DEMO payment provider: a simulated checkout for `make demo` and the tests. It moves no
money and is never a real provider; it only behaves like one towards the API: a checkout
"pays" an order and the provider then sends the signed webhook (api/payments/signature.py),
retrying until the API accepts it (api/payments/demo_deliveries.py).

    CITYPASS_DEMO_PAY_SECRET=… python -m api.payments.demo_provider \\
        --port 8090 --webhook-url http://127.0.0.1:8080/v1/payments/webhook

The API runs with CITYPASS_API_PAYMENTS_WEBHOOK_SECRET set to the same secret and
CITYPASS_API_PAYMENTS_CHECKOUT_URL=http://127.0.0.1:8090/checkout.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import click
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from api.payments.demo_deliveries import Deliverer, Delivery
from api.schemas.payments import MAX_KRW, PROVIDER_ID
from citypass.core import jsonlogs
from citypass.core.daemon import stop_signals
from citypass.core.keystore import resolve_secret

SECRET_ENV = "CITYPASS_DEMO_PAY_SECRET"
MIN_SECRET_LENGTH = 16
NAME = "CityPass demo payment provider (simulated: no money moves)"


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    orderId: str = Field(pattern=PROVIDER_ID, description="the API's top-up id")
    amount: StrictInt = Field(gt=0, le=MAX_KRW, description="KRW")
    currency: str = Field(default="KRW", pattern="^KRW$")


class DemoProvider:
    """Paid orders (one payment per order id, as real providers refuse a second) and their
    webhook deliveries, in memory: the demo's provider forgets everything on restart."""

    def __init__(self, deliverer: Deliverer) -> None:
        self._deliverer = deliverer
        self._lock = threading.Lock()
        self._by_order: dict[str, str] = {}
        self._payments: dict[str, dict[str, Any]] = {}
        self._deliveries: dict[str, Delivery] = {}

    def pay(self, order: PaymentCreate) -> dict[str, Any]:
        with self._lock:
            if order.orderId in self._by_order:
                raise HTTPException(
                    409, f"order {order.orderId} is already paid (receipt "
                    f"{self._by_order[order.orderId]}): a second payment is refused",
                )  # fmt: skip
            receipt = "demo_rcpt_" + secrets.token_hex(8)
            event_id = "demo_evt_" + secrets.token_hex(8)
            event = {
                "id": event_id, "type": "payment.succeeded",
                "orderId": order.orderId, "receiptId": receipt, "amount": order.amount,
                "currency": order.currency, "paidAt": int(time.time()), "simulated": True,
            }  # fmt: skip
            self._by_order[order.orderId] = receipt
            self._payments[receipt] = event
            delivery = Delivery(receipt, event_id, json.dumps(event).encode())
            self._deliveries[receipt] = delivery
        self._deliverer.queue(delivery)
        return self.status(receipt)

    def resend(self, receipt: str) -> dict[str, Any]:
        """Deliver the same event again (same body, same Idempotency-Key, fresh signature)."""
        old = self._delivery(receipt)
        delivery = Delivery(receipt, old.event_id, old.body, signed_at=old.signed_at)
        with self._lock:
            self._deliveries[receipt] = delivery
        self._deliverer.queue(delivery)
        return self.status(receipt)

    def status(self, receipt: str) -> dict[str, Any]:
        return {**self._payment(receipt), "delivery": self._delivery(receipt).public()}

    def _payment(self, receipt: str) -> dict[str, Any]:
        if receipt not in self._payments:
            raise HTTPException(404, f"no payment {receipt}")
        return self._payments[receipt]

    def _delivery(self, receipt: str) -> Delivery:
        self._payment(receipt)
        return self._deliveries[receipt]


def create_app(provider: DemoProvider) -> FastAPI:
    app = FastAPI(title="demo-pay (simulated)", summary=NAME)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "name": NAME}

    @app.get("/checkout", response_class=HTMLResponse)
    def checkout(
        orderId: Annotated[str, Query(pattern=PROVIDER_ID)],
        amount: Annotated[int, Query(gt=0, le=MAX_KRW)],
        currency: Annotated[str, Query(pattern="^KRW$")] = "KRW",
    ) -> str:
        order, won = html.escape(orderId), f"{amount:,}"
        return _page(
            f"<p>Order <code>{order}</code>: <strong>₩{won}</strong></p>"
            f'<form method="post" action="/checkout"><input type="hidden" name="orderId" '
            f'value="{order}"><input type="hidden" name="amount" value="{amount}">'
            f'<input type="hidden" name="currency" value="{currency}">'
            f"<button>Pay ₩{won} (demo)</button></form>"
        )

    @app.post("/checkout", response_class=HTMLResponse)
    async def checkout_pay(request: Request) -> str:
        # The page's form, parsed here: python-multipart (FastAPI's Form) is not installed.
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        fields = {name: values[-1] for name, values in form.items()}
        amount = fields.get("amount", "")
        try:
            order = PaymentCreate(
                orderId=fields.get("orderId", ""), currency=fields.get("currency", "KRW"),
                amount=int(amount) if amount.isdigit() and len(amount) < 16 else 0,
            )  # fmt: skip
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from exc
        paid = await run_in_threadpool(provider.pay, order)
        return _page(
            f"<p>Paid (simulated). Receipt <code>{html.escape(paid['receiptId'])}</code>.</p>"
            "<p>The CityPass API is being told; your credits appear in a few seconds. "
            "You can close this page.</p>"
        )

    @app.post(
        "/v1/payments", status_code=201, summary="Pay an order (simulated); the webhook follows"
    )
    def pay(order: PaymentCreate) -> dict[str, Any]:
        return provider.pay(order)

    @app.get("/v1/payments/{receipt_id}", summary="A payment and its webhook delivery")
    def payment(receipt_id: str) -> dict[str, Any]:
        return provider.status(receipt_id)

    @app.post("/v1/payments/{receipt_id}/resend", summary="Send the same webhook event again")
    def resend(receipt_id: str) -> dict[str, Any]:
        return provider.resend(receipt_id)

    return app


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>demo-pay checkout</title>'
        f"<body><h1>demo-pay checkout</h1><p><em>{NAME}</em></p>{body}</body></html>"
    )


@click.command(help=NAME + ": serves a checkout and sends signed webhooks to the API.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), required=True)
@click.option("--webhook-url", required=True, help="the API's POST /v1/payments/webhook URL")
@click.option(
    "--secret-file", type=click.Path(path_type=Path, dir_okay=False),
    help=f"the webhook signing secret shared with the API [or {SECRET_ENV}]",
)  # fmt: skip
@click.option("--max-backoff", type=click.FloatRange(0.1, 3600), default=10.0, show_default=True,
              help="longest wait between webhook retries (seconds; it doubles from 0.5)")  # fmt: skip
@click.option("--give-up-after", type=click.FloatRange(1, 7 * 86400), default=3600.0,
              show_default=True, help="stop retrying a webhook after this many seconds")  # fmt: skip
@click.option("--log-level", default="INFO", show_default=True)
def main(
    host: str, port: int, webhook_url: str, secret_file: Path | None, max_backoff: float,
    give_up_after: float, log_level: str,
) -> None:  # fmt: skip
    import uvicorn

    jsonlogs.configure(log_level)
    if not webhook_url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--webhook-url")
    try:
        secret = resolve_secret(
            secret_file, SECRET_ENV, error=click.ClickException, what="webhook secret",
            file_option="--secret-file", min_length=MIN_SECRET_LENGTH,
        )  # fmt: skip
    except click.ClickException as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(1) from exc
    deliverer = Deliverer(webhook_url, secret, max_backoff, give_up_after)
    app = create_app(DemoProvider(deliverer))
    with stop_signals(lambda _signum: None):
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    deliverer.stop()


if __name__ == "__main__":
    main()
