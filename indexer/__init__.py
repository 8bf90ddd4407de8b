"""The chain indexer: the read model the API, explorer pages and KPIs query.

`Indexer` backfills and follows the ledger into SQLite or PostgreSQL, `check_consistency`
compares the read model with the contracts, `search_slots` answers slot search from it.
"""

from citypass.protocol.deployment_record import Deployment
from indexer.consistency import ConsistencyReport, Mismatch, check_consistency
from indexer.errors import ChainMismatchError, IndexerError
from indexer.follower import Indexer, IndexStats
from indexer.search import SlotOffer, search_slots

__all__ = [
    "ChainMismatchError",
    "ConsistencyReport",
    "Deployment",
    "IndexStats",
    "Indexer",
    "IndexerError",
    "Mismatch",
    "SlotOffer",
    "check_consistency",
    "search_slots",
]
