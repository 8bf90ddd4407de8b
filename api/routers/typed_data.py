"""EIP-712 typed data for wallets, with the domain read from the chain (no hard-coded domain in
the app): ForwardRequests for the CityForwarder and EIP-2612 permits for CityCredit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import LedgerDep, RelayerDep, StateDep
from api.forward_typed_data import forward_typed_data
from api.schemas.common import Address, HexData, hex_bytes
from api.schemas.relay import UINT256_MAX
from api.schemas.typed_data import TypedDataPublic
from citypass.protocol.signing import EIP712_DOMAIN_TYPE, PERMIT_TYPES

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
    return forward_typed_data(relayer, ledger, state.settings, sender, to, hex_bytes(data))


@router.get(
    "/permit",
    response_model=TypedDataPublic,
    summary="An EIP-2612 CityCredit permit for LeaseMarket (bookWithPermit) or TripSettlement",
)
def permit(
    ledger: LedgerDep,
    state: StateDep,
    owner: Annotated[Address, Query(description="the resident's address")],
    value: Annotated[int, Query(ge=0, le=UINT256_MAX, description="KRW the spender may take")],
    spender: Annotated[
        Literal["market", "trips"],
        Query(description="market (bookWithPermit) or trips (startTripWithPermit)"),
    ] = "market",
) -> TypedDataPublic:
    credit = ledger.contracts["credit"]
    message = {
        "owner": owner, "spender": ledger.address(spender), "value": value,
        "nonce": int(credit.functions.nonces(owner).call()),
        "deadline": ledger.now() + state.settings.deadline_seconds,
    }  # fmt: skip
    return TypedDataPublic(
        domain=ledger.eip712_domain("credit"),
        types={"EIP712Domain": EIP712_DOMAIN_TYPE, **PERMIT_TYPES},
        primaryType="Permit",
        message=message,
    )
