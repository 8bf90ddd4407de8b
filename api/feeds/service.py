"""What the feed routers share per API process: the TTL cache, the fleet reader and the rotating
vehicle ids. Created on first use and kept on the app (no change to AppState needed)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.deps import get_state
from api.feeds import parking
from api.feeds.cache import TtlCache
from api.feeds.gbfs import VehicleIds
from api.feeds.mobility import Fleet, FleetReader, mobility_addresses
from api.state import AppState

_CREATE = threading.Lock()


class FeedService:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.ttl = max(0, int(state.settings.feeds_ttl_seconds))
        self.cache = TtlCache(state.settings.feeds_ttl_seconds)
        self.fleet_reader = FleetReader(
            state.ledger.w3, mobility_addresses(state.settings.deployment)
        )
        self.vehicle_ids = VehicleIds()

    @property
    def chain_id(self) -> int:
        return self.state.ledger.chain_id

    def spots(self) -> list[parking.SpotState]:
        def build() -> list[parking.SpotState]:
            with Session(self.state.engine) as session:
                return parking.read_spots(session, self.state.ledger)

        return self.cache.get("spots", build)

    def fleet(self) -> Fleet:
        def build() -> Fleet:
            fleet = self.fleet_reader.read()
            self.vehicle_ids.observe(fleet)
            return fleet

        return self.cache.get("fleet", build)

    def cached(self, key: Any, build: Any) -> Any:
        return self.cache.get(key, build)


def get_feeds(request: Request, state: Annotated[AppState, Depends(get_state)]) -> FeedService:
    service = getattr(request.app.state, "citypass_feeds", None)
    if service is None:
        with _CREATE:
            service = getattr(request.app.state, "citypass_feeds", None)
            if service is None:
                service = FeedService(state)
                request.app.state.citypass_feeds = service
    return service


FeedsDep = Annotated[FeedService, Depends(get_feeds)]
