"""The EIP-712 ForwardRequest a resident signs for one call: the forwarder's domain read from the
chain, the signer's current nonce, a deadline on the ledger's clock and the gas the forwarded
call needs. Served by GET /v1/typed-data/forward-request and by the prepare endpoints."""

from __future__ import annotations

from api.errors import PermissionDenied
from api.ledger import Ledger
from api.relayer import Relayer
from api.schemas.typed_data import TypedDataPublic
from api.settings import Settings
from citypass.protocol.signing import EIP712_DOMAIN_TYPE, FORWARD_REQUEST_TYPES


def forward_typed_data(
    relayer: Relayer, ledger: Ledger, settings: Settings, sender: str, to: str, calldata: bytes
) -> TypedDataPublic:
    """403 when the call is not on the relayer allowlist (it would never be relayed)."""
    if relayer.checks.allowed.get((to, calldata[:4])) is None:
        raise PermissionDenied(
            f"selector 0x{calldata[:4].hex()} on {to} is not on the relayer allowlist "
            f"({relayer.checks.allowlist_text()})",
            code="not_allowlisted",
        )
    gas = relayer.checks.estimate_inner_gas(sender, to, calldata) or settings.default_forward_gas
    message = {
        "from": sender, "to": to, "value": 0, "gas": gas, "nonce": relayer.checks.nonce(sender),
        "deadline": ledger.now() + settings.deadline_seconds, "data": "0x" + calldata.hex(),
    }  # fmt: skip
    return TypedDataPublic(
        domain=relayer.checks.domain(),
        types={"EIP712Domain": EIP712_DOMAIN_TYPE, **FORWARD_REQUEST_TYPES},
        primaryType="ForwardRequest",
        message=message,
    )
