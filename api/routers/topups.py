"""Top-ups: a signed-in resident orders credits and pays at the provider's checkout; the
provider's signed webhook makes the treasury mint them (api/payments/topups.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from api.errors import BadRequest
from api.payments.signature import IDEMPOTENCY_HEADER, SIGNATURE_HEADER
from api.payments.topups import TopUps
from api.schemas.payments import AmountCreate, TopUpPublic, TopUpsPublic, WebhookAnswer
from api.siwe.deps import StaffSessionDep

router = APIRouter(tags=["top-ups and cash-outs"])

# A payment event is a few hundred bytes; anything much larger is not one.
MAX_WEBHOOK_BYTES = 64 * 1024


async def get_topups(request: Request) -> TopUps:
    return request.app.state.topups


TopUpsDep = Annotated[TopUps, Depends(get_topups)]


@router.post(
    "/v1/topups", response_model=TopUpPublic, status_code=201,
    summary="Order a top-up of `amount` KRW; answers the provider's checkout URL to pay at",
)  # fmt: skip
def create_topup(body: AmountCreate, topups: TopUpsDep, session: StaffSessionDep) -> TopUpPublic:
    return topups.create(session.address, body.amount)


@router.get("/v1/topups", response_model=TopUpsPublic, summary="The signed-in resident's top-ups")
def my_topups(topups: TopUpsDep, session: StaffSessionDep) -> TopUpsPublic:
    return TopUpsPublic(address=session.address, topUps=topups.mine(session.address))


@router.get(
    "/v1/topups/{topup_id}", response_model=TopUpPublic,
    summary="One of the signed-in resident's top-ups (its status: pending … minted)",
)  # fmt: skip
def my_topup(topup_id: str, topups: TopUpsDep, session: StaffSessionDep) -> TopUpPublic:
    return topups.get(topup_id, session.address)


@router.post(
    "/v1/payments/webhook", response_model=WebhookAnswer,
    summary="The payment provider's signed event (HMAC-SHA256, Payment-Signature header)",
)  # fmt: skip
async def payment_webhook(
    request: Request,
    topups: TopUpsDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
    idempotency_key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)] = None,
) -> WebhookAnswer:
    # The raw bytes, exactly as signed: a parsed-and-re-serialised body would not verify.
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise BadRequest(
            f"the webhook body has {len(body)} bytes; a payment event has at most "
            f"{MAX_WEBHOOK_BYTES}",
            code="webhook_too_large",
        )
    # Blocking work (the database, the mint and its receipt) off the event loop.
    return await run_in_threadpool(topups.receive, body, signature, idempotency_key)
