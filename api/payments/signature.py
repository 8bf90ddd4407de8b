"""Webhook signatures, as Stripe and Toss sign theirs: HMAC-SHA256 with a shared secret over
`<timestamp>.<raw body>`, sent as `Payment-Signature: t=<unix seconds>,v1=<hex digest>`.

The timestamp is inside the signed text, so an old delivery cannot be made fresh; the receiver
refuses one outside its tolerance window and remembers the signatures it accepted within it,
so a captured delivery cannot be played again. One home for signing (the demo provider) and
verifying (the API)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from api.errors import BadRequest, Unauthenticated

SIGNATURE_HEADER = "Payment-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEME = "v1"
# The most a header may carry: a timestamp, a few signatures (during secret rotation).
MAX_HEADER_LENGTH = 1024


@dataclass(frozen=True)
class SignedDelivery:
    timestamp: int
    signature: str  # the v1 digest that matched (hex), the replay key


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Payment-Signature header value for `body` sent at `timestamp`."""
    return f"t={timestamp},{SCHEME}={_digest(secret, body, timestamp)}"


def verify(
    secret: str, body: bytes, header: str | None, now: float, tolerance: int
) -> SignedDelivery:
    """The checked delivery; 400 for a missing or malformed header or a stale timestamp, 401
    when no v1 signature is the secret's over this exact body."""
    if not header:
        raise BadRequest(
            f"no {SIGNATURE_HEADER} header: the provider signs every webhook "
            f"('t=<unix seconds>,{SCHEME}=<hex HMAC-SHA256>')",
            code="webhook_signature_missing",
        )
    timestamp, candidates = _parse(header)
    if abs(now - timestamp) > tolerance:
        raise BadRequest(
            f"the webhook was signed at t={timestamp}, more than {tolerance} s from this API's "
            "clock: a stale or replayed delivery (the provider re-signs each retry)",
            code="webhook_stale",
        )
    expected = _digest(secret, body, timestamp)
    for candidate in candidates:
        # Constant time: the comparison must not tell a forger how many digits were right.
        if hmac.compare_digest(candidate, expected):
            return SignedDelivery(timestamp, candidate)
    raise Unauthenticated(
        f"no {SCHEME} signature in {SIGNATURE_HEADER} is the shared secret's HMAC-SHA256 over "
        "'<t>.<raw body>': a forged or altered webhook, or the provider uses another secret",
        code="webhook_bad_signature",
    )


def _parse(header: str) -> tuple[int, list[str]]:
    if len(header) > MAX_HEADER_LENGTH:
        raise _malformed(f"longer than {MAX_HEADER_LENGTH} characters")
    timestamp: int | None = None
    candidates = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            if not value.isdigit() or len(value) > 12:
                raise _malformed("t must be Unix seconds")
            timestamp = int(value)
        elif key == SCHEME:
            if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                raise _malformed(f"{SCHEME} must be 64 lower-case hex digits")
            candidates.append(value)
    if timestamp is None or not candidates:
        raise _malformed(f"it needs t=<unix seconds> and at least one {SCHEME}=<hex digest>")
    return timestamp, candidates


def _malformed(why: str) -> BadRequest:
    return BadRequest(f"{SIGNATURE_HEADER} is malformed: {why}", code="webhook_signature_malformed")


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
