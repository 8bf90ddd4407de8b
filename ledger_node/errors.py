"""Errors of the ledger node. Every message says what went wrong and what to do about it."""

from __future__ import annotations

from typing import Any


class LedgerNodeError(Exception):
    """Root of the node's errors; the CLI prints the message as one line and exits non-zero."""


class ConfigError(LedgerNodeError):
    """The data directory, its config or its genesis is missing or malformed."""


class KeystoreError(LedgerNodeError):
    """The authority keystore is missing, unreadable, or the password is wrong."""


class EngineError(LedgerNodeError):
    """The EVM engine (anvil) could not be started or answered with an error."""


class RecoveryError(LedgerNodeError):
    """Replaying the journal did not reproduce the recorded chain."""


class VerificationError(LedgerNodeError):
    """An auditor's verification found a block, link or seal that does not check out."""


class BesuExportError(LedgerNodeError):
    """The Besu export cannot be written; the message says what to fix."""


# EIP-1474 / JSON-RPC 2.0 error codes used on the public endpoint.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TRANSACTION_REJECTED = -32003
LIMIT_EXCEEDED = -32005
RESOURCE_NOT_FOUND = -32001
# A co-signature the node refuses (ledger_submitCosignature); data.reason says which check.
COSIGNATURE_REFUSED = -32010
# Besu's code for a request its JWT authentication refuses.
UNAUTHORIZED = -40100


class RpcError(Exception):
    """A JSON-RPC error object to send back to the caller."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error
