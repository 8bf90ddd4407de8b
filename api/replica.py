"""Read replicas: more `citypass-api serve --replica` processes over the primary's read model.

One API process spends most of a core on each search (HTTP, validation, matching), so a
busy village's searches are spread over several processes by the reverse proxy. A replica
reads the same database as the primary (its search index refreshes from the read model's
cursor like the primary's), but it holds no key (no relayer, onboarder or treasury), never
follows the chain, runs no retention sweep and opens none of the personal records: it serves
only what any visitor may read. Everything else is the primary's job and answers 421
(Misdirected Request), so a proxy rule sent to the wrong process shows at once.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import ApiError
from api.routers import clock, feeds_cds, feeds_gbfs, feeds_ngsi, network, quote, slots, system

# Public reads only: none of these needs a key, a personal record or the follower.
REPLICA_ROUTERS: tuple[APIRouter, ...] = (
    slots.router, quote.router, clock.router, network.router, system.router,
    feeds_ngsi.router, feeds_cds.router, feeds_gbfs.router,
)  # fmt: skip
SERVED = "slot search and details, quotes, the clock, the network, the feeds, /health and /metrics"


class NotOnReplica(ApiError, status=421, code="read_replica"):
    """A request for the primary reached a read replica (the reverse proxy's rules)."""


def not_on_replica(method: str, path: str) -> NotOnReplica:
    return NotOnReplica(
        f"this API process is a read replica: it serves {SERVED}; send {method} {path} to the "
        "primary API (check the reverse proxy's rules)"
    )
