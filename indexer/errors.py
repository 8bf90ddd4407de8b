"""The one exception root of the indexer; every message says what the operator should do."""

from __future__ import annotations


class IndexerError(Exception):
    """Root of every indexer error."""


class ChainMismatchError(IndexerError):
    """The read model was built from a different chain than the node now serves."""


class NodeUnreachableError(IndexerError):
    """The ledger node did not answer (down or restarting); following retries, one-shot commands
    stop."""
