"""Sign-in: check an EIP-4361 message against this API and the ledger, recover its signer, and
open a session bound to the signer's staff roles on CityAccess.

Checks, cheapest first, each failure with its own code (docs/api.md, "Staff sessions"): syntax,
domain, URI, chain id, time bounds, nonce (issued by us, unused), signature (EIP-191
personal_sign over the exact text), then the roles. The nonce is consumed only once the
signature is the address's, so a forged attempt cannot burn a wallet's nonce.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from eth_account import Account
from eth_account.messages import encode_defunct

from api.errors import Conflict, PermissionDenied, Unauthenticated, ValidationFailed
from api.siwe.roles import STAFF_ROLES, RoleChecker
from api.siwe.store import NonceStore, SessionStore, StaffSession
from citypass.protocol.siwe_message import (
    MalformedMessage,
    SiweMessage,
    parse_message,
    uri_authority,
)

# A wallet's clock may run a little ahead of ours.
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class SignIn:
    token: str
    session: StaffSession


@dataclass(frozen=True)
class SiweService:
    """Sign-in for this API (`domain`, `chain_id`): nonces and sessions in their stores, roles
    from CityAccess; a session lasts `session_ttl` seconds of `clock`."""

    domain: str
    chain_id: int
    nonces: NonceStore
    sessions: SessionStore
    roles: RoleChecker
    session_ttl: float
    clock: Callable[[], float] = time.time

    def sign_in(self, text: str, signature: bytes, *, staff: bool = True) -> SignIn:
        """Open a session for the message's signer. `staff` (the default) refuses an address
        with no staff role; a resident session (staff=False) is any wallet's, for its own
        records (its membership application); staff endpoints still re-check roles."""
        message = self._parse(text)
        now = self.clock()
        self._check_binding(message)
        self._check_times(message, now)
        state = self.nonces.status(message.nonce)
        if state == "used":
            raise Conflict(
                f"nonce {message.nonce} was already used to sign in: get a new one from "
                "/v1/auth/nonce and sign a new message",
                code="siwe_nonce_used",
            )
        if state == "unknown":
            raise Unauthenticated(
                f"nonce {message.nonce} was not issued by this API or has expired: get one from "
                "/v1/auth/nonce and sign within its lifetime",
                code="siwe_unknown_nonce",
            )
        if _recover(text, signature) != message.address:
            raise Unauthenticated(
                f"the signature is not {message.address}'s over this exact message: sign it "
                "with personal_sign (EIP-191) from that account, unmodified",
                code="siwe_bad_signature",
            )
        if not self.nonces.consume(message.nonce):
            raise Conflict(
                f"nonce {message.nonce} was used meanwhile: get a new one and sign again",
                code="siwe_nonce_used",
            )
        roles = self.roles.staff_roles(message.address)
        if staff and not roles:
            raise PermissionDenied(
                f"{message.address} holds none of the staff roles ({', '.join(STAFF_ROLES)}) "
                "on CityAccess, or is suspended: ask the city administrator to grant the role",
                code="siwe_no_role",
            )
        expires = now + self.session_ttl
        if message.expiration_time is not None:
            expires = min(expires, message.expiration_time.timestamp())
        token = self.sessions.open(message.address, roles, expires)
        return SignIn(token, self.sessions.get(token))  # type: ignore[arg-type]

    def _parse(self, text: str) -> SiweMessage:
        try:
            return parse_message(text)
        except MalformedMessage as exc:
            raise ValidationFailed(
                f"not an EIP-4361 message: {exc}", code="siwe_malformed"
            ) from exc

    def _check_binding(self, message: SiweMessage) -> None:
        if message.domain != self.domain:
            raise ValidationFailed(
                f"the message is for domain {message.domain!r}, this API is {self.domain!r}: "
                "sign a message for this API's domain (phishing protection)",
                code="siwe_wrong_domain",
            )
        if uri_authority(message.uri) != self.domain:
            raise ValidationFailed(
                f"URI {message.uri!r} is not on {self.domain!r}: sign a message whose URI is this "
                "API's URL",
                code="siwe_wrong_uri",
            )
        if message.chain_id != self.chain_id:
            raise ValidationFailed(
                f"the message is for chain {message.chain_id}, this ledger is chain "
                f"{self.chain_id}: sign with Chain ID {self.chain_id}",
                code="siwe_wrong_chain",
            )

    def _check_times(self, message: SiweMessage, now: float) -> None:
        if _ts(message.issued_at) > now + CLOCK_SKEW_SECONDS:
            raise ValidationFailed(
                f"Issued At {message.issued_at.isoformat()} is in the future: check the "
                "wallet's clock and sign again",
                code="siwe_issued_in_future",
            )
        if message.expiration_time is not None and _ts(message.expiration_time) <= now:
            raise ValidationFailed(
                f"the message expired at {message.expiration_time.isoformat()}: sign a new "
                "one with a later Expiration Time",
                code="siwe_expired",
            )
        if message.not_before is not None and _ts(message.not_before) > now:
            raise ValidationFailed(
                f"the message is not valid before {message.not_before.isoformat()}: retry "
                "then, or sign one without Not Before",
                code="siwe_not_yet_valid",
            )

    def session(self, token: str | None, needs: str = "a staff session") -> StaffSession:
        """The live session of a bearer token, or 401 saying how to get one."""
        if not token:
            raise Unauthenticated(
                f"this endpoint needs {needs}: sign in with POST /v1/auth/siwe and send "
                "'Authorization: Bearer <token>'",
                code="session_missing",
            )
        session = self.sessions.get(token)
        if session is None:
            raise Unauthenticated(
                "unknown session token (signed out, or expired over an hour ago): sign in again",
                code="session_unknown",
            )
        if session.expires_at <= self.clock():
            raise Unauthenticated(
                "the session has expired: sign in again with a new nonce",
                code="session_expired",
            )
        return session


def _ts(value: datetime) -> float:
    return value.timestamp()


def _recover(text: str, signature: bytes) -> str | None:
    try:
        return Account.recover_message(encode_defunct(text=text), signature=signature)
    except Exception:  # malformed signature bytes: nobody's signature
        return None
