"""EIP-712 typed data for wallets, with the domain read from the chain (no hard-coded domain in
the app): ForwardRequests for the CityForwarder and EIP-2612 permits for CityCredit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import LedgerDep, RelayerDep, StateDep
from api.errors import PermissionDenied
from api.schemas.common import Address, HexData, hex_bytes
from api.schemas.relay import UINT256_MAX
from api.schemas.typed_data import TypedDataPublic
from citypass.protocol.signing import EIP712_DOMAIN_TYPE, FORWARD_REQUEST_TYPES, PERMIT_TYPES

router = APIRouter(prefix="/v1/typed-data", tags=["typed data"])


@router.get(
    "/forward-request",
    response_model=TypedDataPublic,
    summary="A ForwardRequest to sign (domain, current nonce, deadline and gas filled in)",
)
def forward_request(
    relayer: RelayerDep,
    ledger: LedgerDep,
    state: StateDep,
    sender: Annotated[Address, Query(alias="from", description="the resident's address")],
    to: Annotated[Address, Query(description="target contract (see the relayer allowlist)")],
    data: Annotated[HexData, Query(description="0x calldata of the call to relay")],
) -> TypedDataPublic:
    calldata = hex_bytes(data)
    allowed = relayer.checks.allowed.get((to, calldata[:4]))
    if allowed is None:
        raise PermissionDenied(
            f"selector 0x{calldata[:4].hex()} on {to} is not on the relayer allowlist "
            f"({relayer.checks.allowlist_text()})",
            code="not_allowlisted",
        )
    gas = (
        relayer.checks.estimate_inner_gas(sender, to, calldata)
        or state.settings.default_forward_gas
    )
    message = {
        "from": sender, "to": to, "value": 0, "gas": gas, "nonce": relayer.checks.nonce(sender),
        "deadline": ledger.now() + state.settings.deadline_seconds, "data": data,
    }  # fmt: skip
    return TypedDataPublic(
        domain=relayer.checks.domain(),
        types={"EIP712Domain": EIP712_DOMAIN_TYPE, **FORWARD_REQUEST_TYPES},
        primaryType="ForwardRequest",
        message=message,
    )


@router.get(
    "/permit",
    response_model=TypedDataPublic,
    summary="An EIP-2612 CityCredit permit for LeaseMarket (for bookWithPermit)",
)
def permit(
    ledger: LedgerDep,
    state: StateDep,
    owner: Annotated[Address, Query(description="the resident's address")],
    value: Annotated[int, Query(ge=0, le=UINT256_MAX, description="KRW the market may take")],
) -> TypedDataPublic:
    credit = ledger.contracts["credit"]
    message = {
        "owner": owner, "spender": ledger.address("market"), "value": value,
        "nonce": int(credit.functions.nonces(owner).call()),
        "deadline": ledger.now() + state.settings.deadline_seconds,
    }  # fmt: skip
    return TypedDataPublic(
        domain=ledger.eip712_domain("credit"),
        types={"EIP712Domain": EIP712_DOMAIN_TYPE, **PERMIT_TYPES},
        primaryType="Permit",
        message=message,
    )
