"""The API's one exception root and its fixed mapping to HTTP statuses.

Every 4xx body is `{"error": {"code": "...", "message": "what to fix"}}`. Routers raise the
domain errors below; they never build HTTP responses for errors themselves.
"""

from __future__ import annotations

from typing import Any

from citypass.core.errors import CodedError


class ApiError(CodedError, code="internal"):
    """Root of every citypass-api error; `message` says what the caller should do. A subclass
    states its HTTP status and code in its class line."""

    status = 500

    def __init_subclass__(cls, status: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code)


class SettingsError(ApiError, code="settings"):
    """A setting (env or CLI) is malformed; raised before the app starts."""


class RelayerKeyError(ApiError, code="relayer_key"):
    """The relayer keystore is missing, unreadable or the password is wrong."""


class OnboarderKeyError(ApiError, status=503, code="onboarder_key"):
    """The onboarding keystore is missing or unreadable, or its key may not onboard."""


class TreasuryKeyError(ApiError, code="treasury_key"):
    """The treasury keystore is unreadable, or its password is missing or wrong."""


class BadRequest(ApiError, status=400, code="bad_request"):
    """A header or envelope is malformed (a webhook's signature header, its idempotency key)."""


class ValidationFailed(ApiError, status=422, code="validation"):
    """The request is malformed or asks for something that cannot be: fix it as said."""


class Unauthenticated(ApiError, status=401, code="unauthenticated"):
    """No session, or an unknown or expired one: sign in again (SIWE)."""


class PermissionDenied(ApiError, status=403, code="forbidden"):
    """The caller may not do this (role, membership or ownership)."""


class NotFound(ApiError, status=404, code="not_found"):
    """Nothing by that id or address."""


class NotAcceptable(ApiError, status=406, code="not_acceptable"):
    """The Accept header names no media type this endpoint serves (CDS requires 406)."""


class Conflict(ApiError, status=409, code="conflict"):
    """The ledger's state does not allow it now (a used nonce, a taken slot, ...)."""


class RateLimited(ApiError, status=429, code="rate_limited"):
    """Over the signer's or the address's request rate: retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LedgerUnavailable(ApiError, status=503, code="ledger_unavailable"):
    """The ledger node did not answer: retry later."""


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}
