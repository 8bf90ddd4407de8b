"""Relays: a resident's signed ForwardRequest (the API pays the gas) or a raw signed
transaction passed to the ledger node as-is (its gateway enforces membership)."""

from __future__ import annotations

import asyncio

from eth_account import Account
from fastapi import APIRouter, Request, Response
from pydantic_core import to_json

from api.deps import ClientIpDep, LedgerDep, StateDep, client_ip, get_relayer, get_state
from api.errors import ApiError, ValidationFailed
from api.relayer import node_refusal
from api.schemas.common import hex_bytes
from api.schemas.relay import (
    ForwardRequestCreate,
    RawRelayPublic,
    RawTransactionCreate,
    RelayPublic,
)

router = APIRouter(prefix="/v1/relay", tags=["relay"])


@router.post(
    "/forward",
    response_model=RelayPublic,
    summary="Check and relay a signed ForwardRequest; returns the tx hash and decoded outcome",
)
async def forward(request: Request, body: ForwardRequestCreate) -> Response:
    """Answers once the request is on chain. Requests arriving together are relayed together in
    one CityForwarder.executeBatch transaction (their answers share its txHash), so the wait is
    awaited here rather than holding a worker thread per booking."""
    # The dependencies' own functions, called directly: FastAPI's dependency solving for them
    # was ~8 % of the API's interpreter time while relaying (py-spy --gil, bench/api.py).
    state = await get_state(request)
    relayer = await get_relayer(state)
    ip = await client_ip(request)
    state.ip_limit.take(f"ip:{ip}", f"client {ip}")

    def admit(signed: ForwardRequestCreate) -> None:
        # The signer's bucket is charged only once the signature is known to be theirs, so
        # nobody can drain another resident's quota with forged requests.
        state.signer_limit.take(f"signer:{signed.from_}", f"signer {signed.from_}")

    try:
        outcome = await asyncio.wrap_future(relayer.submit(body, admit))
    except ApiError as exc:
        state.metrics.relay_outcome(f"refused_{exc.status}")
        raise
    # The outcome is built by the relayer in RelayPublic's shape (the schema documents it);
    # answered as is, without validating hundreds of answers a second a second time, and
    # serialised by pydantic's Rust core as the slot search's answers are.
    return Response(to_json(outcome), media_type="application/json")


@router.post(
    "/raw",
    response_model=RawRelayPublic,
    summary="Send a raw signed transaction to the ledger node as-is",
)
def raw(
    body: RawTransactionCreate, ledger: LedgerDep, state: StateDep, ip: ClientIpDep
) -> RawRelayPublic:
    state.ip_limit.take(f"ip:{ip}", f"client {ip}")
    text = body.raw
    try:
        payload = hex_bytes(text) if text.startswith("0x") else b""
        sender = Account.recover_transaction(payload) if payload else None
    except Exception:
        sender = None
    if sender is None:
        raise ValidationFailed(
            "raw must be the 0x-hex of a signed transaction (RLP or typed envelope)",
            code="bad_raw_transaction",
        )
    state.signer_limit.take(f"signer:{sender}", f"signer {sender}")
    try:
        tx_hash = ledger.w3.eth.send_raw_transaction(payload)
    except Exception as exc:
        state.metrics.relay_outcome("raw_refused")
        raise node_refusal(exc) from exc
    state.metrics.relay_outcome("raw_relayed")
    return RawRelayPublic(txHash="0x" + bytes(tx_hash).hex(), sender=sender)
