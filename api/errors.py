"""The API's one exception root and its fixed mapping to HTTP statuses.

Every 4xx body is `{"error": {"code": "...", "message": "what to fix"}}`. Routers raise the
domain errors below; they never build HTTP responses for errors themselves.
"""

from __future__ import annotations


class ApiError(Exception):
    """Root of every citypass-api error; `message` says what the caller should do."""

    status = 500
    code = "internal"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class SettingsError(ApiError):
    """A setting (env or CLI) is malformed; raised before the app starts."""

    code = "settings"


class RelayerKeyError(ApiError):
    """The relayer keystore is missing, unreadable or the password is wrong."""

    code = "relayer_key"


class ValidationFailed(ApiError):
    status = 422
    code = "validation"


class Unauthenticated(ApiError):
    """No session, or an unknown or expired one: sign in again (SIWE)."""

    status = 401
    code = "unauthenticated"


class PermissionDenied(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class NotAcceptable(ApiError):
    """The Accept header names no media type this endpoint serves (CDS requires 406)."""

    status = 406
    code = "not_acceptable"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LedgerUnavailable(ApiError):
    status = 503
    code = "ledger_unavailable"


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}
