"""JSON-RPC access tokens: ES256 JWTs, as Besu's JWT authentication reads them.

An issuer holds a P-256 private key and signs tokens (`ledger-node token`); the node holds only
the public key and verifies them. ES256 rather than RS256: the same public-key model in a key of
a few hundred bytes, and Besu accepts it (`--rpc-http-authentication-jwt-algorithm=ES256`) with
the same PEM public key file. The signing and verifying is pycryptodome's ECDSA (FIPS 186-3,
RFC 6979 deterministic signatures, the raw r||s encoding that JWS ES256 prescribes).

Claims: `sub` (who), `aud` (which ledger), `exp` (required), `iat`, and `permissions`
(Besu's strings: "eth:getLogs", "eth:*", "*:*"). Every refusal is a `TokenRefused` whose
`reason` tells the kinds apart and whose message says what is wrong in words."""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from Crypto.Hash import SHA256
from Crypto.PublicKey import ECC
from Crypto.Signature import DSS

ALGORITHM = "ES256"
PERMISSION = re.compile(r"^(\*|[a-z][a-z0-9]*):(\*|[A-Za-z][A-Za-z0-9_]*)$")
MAX_TOKEN_CHARS = 8192


class TokenRefused(Exception):
    """A token the node does not accept; `reason` is one of malformed, forged, expired,
    audience, not_yet_valid."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Claims:
    subject: str
    audience: str
    expires: int
    permissions: tuple[str, ...]

    def allows(self, method: str) -> bool:
        namespace, _, name = method.partition("_")
        return any(
            granted_ns in ("*", namespace) and granted_name in ("*", name)
            for granted_ns, _, granted_name in (p.partition(":") for p in self.permissions)
        )

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires


def audience_for(chain_id: int) -> str:
    """The audience a ledger's tokens carry: one per chain, so every node of the chain (the
    Besu validators of an export included) accepts them and no other chain does."""
    return f"citypass-ledger:{chain_id}"


def permission_of(method: str) -> str:
    """Besu's permission string for a JSON-RPC method: eth_getLogs -> eth:getLogs."""
    namespace, _, name = method.partition("_")
    return f"{namespace}:{name}"


def check_permissions(permissions: list[str]) -> list[str]:
    """The permissions as given, or ValueError naming the first one that is not
    `namespace:method` (either part may be *)."""
    if not permissions:
        raise ValueError("give at least one permission, e.g. eth:* or eth:getLogs")
    for permission in permissions:
        if not PERMISSION.fullmatch(permission):
            raise ValueError(
                f"{permission!r} is not a permission: write namespace:method, e.g. eth:getLogs, "
                "eth:*, ledger:getSeal or *:*"
            )
    return permissions


def moment(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(
    key: ECC.EccKey,
    *,
    subject: str,
    audience: str,
    permissions: list[str],
    lifetime_seconds: int,
    now: int | None = None,
) -> str:
    """A signed token (JWS compact serialisation)."""
    issued = int(time.time()) if now is None else now
    header = {"alg": ALGORITHM, "typ": "JWT"}
    payload = {
        "sub": subject,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime_seconds,
        "permissions": check_permissions(permissions),
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    digest = SHA256.new(signing_input.encode())
    signature = DSS.new(key, "deterministic-rfc6979", encoding="binary").sign(digest)
    return f"{signing_input}.{_b64(signature)}"


def claims_of(payload: dict[str, Any], audience: str, now: float | None = None) -> Claims:
    """The claims of a payload whose signature verified (signed_payload): expiry, validity
    start, audience and shape are checked at `now` (default: the clock), on every use."""
    return _claims(payload, audience, time.time() if now is None else now)


def signed_payload(token: str, public_key: ECC.EccKey) -> dict[str, Any]:
    """The token's payload once its form, algorithm and signature are checked (the costly
    part, about 1.5 ms of ECDSA: a node caches it per token); no claim is judged yet."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3:
        raise TokenRefused(
            "malformed", "the token is not a JWT (three base64url parts joined by .)"
        )
    try:
        header = json.loads(_unb64(parts[0]))
        payload = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, binascii.Error) as exc:
        raise TokenRefused(
            "malformed", "the token is not a JWT: a part is not base64url JSON"
        ) from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise TokenRefused(
            "malformed", "the token is not a JWT: its header and claims must be objects"
        )
    if header.get("alg") != ALGORITHM:
        raise TokenRefused(
            "forged",
            f"the token is signed with {header.get('alg')!r}; this node accepts {ALGORITHM} only",
        )
    digest = SHA256.new(f"{parts[0]}.{parts[1]}".encode())
    try:
        DSS.new(public_key, "fips-186-3", encoding="binary").verify(digest, signature)
    except ValueError as exc:
        raise TokenRefused(
            "forged", "the token's signature does not verify with this node's public key"
        ) from exc
    return payload


def _claims(payload: dict[str, Any], audience: str, now: float) -> Claims:
    expires = payload.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise TokenRefused("malformed", "the token has no exp claim (its expiry, in Unix seconds)")
    if now >= expires:
        raise TokenRefused("expired", f"the token expired at {moment(expires)}")
    not_before = payload.get("nbf")
    if isinstance(not_before, int) and now < not_before:
        raise TokenRefused("not_yet_valid", f"the token is not valid before {moment(not_before)}")
    given = payload.get("aud")
    audiences = given if isinstance(given, list) else [given]
    if audience not in audiences:
        raise TokenRefused(
            "audience", f"the token is for audience {given!r}, this node is {audience!r}"
        )
    subject = payload.get("sub")
    permissions = payload.get("permissions")
    if not isinstance(subject, str) or not subject:
        raise TokenRefused("malformed", "the token has no sub claim (who holds it)")
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise TokenRefused(
            "malformed",
            'the token\'s permissions claim must be a list like ["eth:*", "net:version"]',
        )
    return Claims(subject, audience, expires, tuple(permissions))
