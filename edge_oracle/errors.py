"""Errors of the edge oracle. Every message says what went wrong and what to do about it."""

from __future__ import annotations


class EdgeOracleError(Exception):
    """Root of the edge's errors; the CLI prints the message as one line and exits non-zero."""


class ConfigError(EdgeOracleError):
    """A setting (flag or CITYPASS_EDGE_* variable) is missing or out of range."""


class KeystoreError(EdgeOracleError):
    """A device keystore is missing or unreadable, or the password is wrong."""


class DevicesFileError(EdgeOracleError):
    """The devices file (sensor id → device key) is missing or malformed."""


class OutboxError(EdgeOracleError):
    """The SQLite outbox cannot be opened or is not an edge outbox."""


class ReadingError(EdgeOracleError):
    """One input line cannot be understood; it is logged with its line number, counted and
    skipped. `reason` is the metrics label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
