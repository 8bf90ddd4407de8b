"""Errors of the evidence store. Every message says what is wrong and what to do about it."""

from __future__ import annotations

from citypass.core.errors import CodedError


class EvidenceError(CodedError, code="evidence_error"):
    """Root of the evidence store's errors. `reason` is a short label for metrics and logs."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message, reason)

    @property
    def reason(self) -> str:
        return self.code


class CidError(EvidenceError, code="bad_cid"):
    """A CID (text or binary) that cannot be parsed or is not one the store accepts."""


class EvidenceConfigError(EvidenceError, code="config"):
    """The key file, data directory or Kubo address is missing, malformed or unusable."""


class EvidenceNotFound(EvidenceError, code="not_found"):
    """No object with this CID is in the store."""


class EvidenceIntegrityError(EvidenceError, code="integrity"):
    """Stored bytes that do not check out: tampered, truncated, or sealed under another key."""


class EvidenceBackendError(EvidenceError, code="backend"):
    """The backend (a directory or a Kubo node) failed or disagreed with our CID."""


class EvidenceShredded(EvidenceError, code="shredded"):
    """The object's data key was destroyed after its retention period: it cannot be read."""
