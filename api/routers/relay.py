"""Relays: a resident's signed ForwardRequest (the API pays the gas) or a raw signed
transaction passed to the ledger node as-is (its gateway enforces membership)."""

from __future__ import annotations

from eth_account import Account
from fastapi import APIRouter

from api.deps import ClientIpDep, LedgerDep, RelayerDep, StateDep
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
def forward(
    body: ForwardRequestCreate, relayer: RelayerDep, state: StateDep, ip: ClientIpDep
) -> RelayPublic:
    state.ip_limit.take(f"ip:{ip}", f"client {ip}")
    try:
        # The signer's bucket is charged only once the signature is known to be theirs (inside
        # check), so nobody can drain another resident's quota with forged requests.
        checked = relayer.check(body)
        state.signer_limit.take(f"signer:{body.from_}", f"signer {body.from_}")
        return RelayPublic(**relayer.relay(body, checked))
    except ApiError as exc:
        if exc.code == "replayed":
            # Replays are signed by the signer too: they count against the signer's quota.
            state.signer_limit.take(f"signer:{body.from_}", f"signer {body.from_}")
        state.metrics.relay_outcome(f"refused_{exc.status}")
        raise


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
