"""The oracle daemon's exceptions: one root, messages that say what to do."""

from __future__ import annotations


class OracleError(Exception):
    """Root of every error the oracle daemon raises on purpose."""


class ConfigError(OracleError):
    """A setting is missing or invalid; the message names the setting and the fix."""


class KeystoreError(OracleError):
    """A keystore is missing, unreadable or the password is wrong."""


class LedgerUnavailable(OracleError):
    """The ledger node cannot be reached (retried with backoff; ingest continues)."""


class InboxError(OracleError):
    """The inbox database belongs to another deployment or is damaged."""


class SubmissionError(OracleError):
    """A report or incident transaction was refused by the chain (not a connectivity issue).
    `data` is the revert data (custom error selector and arguments) when the chain gave it."""

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data
