"""The chain indexer: the read model the API, explorer pages and KPIs query.

`Indexer` backfills and follows the ledger into SQLite or PostgreSQL, `check_consistency`
compares the read model with the contracts, `search_slots` answers slot search from it.
"""

from api.indexer.consistency import ConsistencyReport, Mismatch, check_consistency
from api.indexer.errors import ChainMismatchError, IndexerError
from api.indexer.follower import Indexer, IndexStats
from api.indexer.registry import Deployment
from api.indexer.search import SlotOffer, search_slots

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
