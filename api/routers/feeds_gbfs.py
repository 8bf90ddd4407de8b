"""GBFS v3.0 for the village's kick-scooters: the gbfs.json discovery file and the four feeds it
lists, each {last_updated, ttl, version: "3.0", data}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from api.feeds import gbfs
from api.feeds.service import FeedsDep, FeedService

router = APIRouter(prefix="/v1/gbfs", tags=["feeds"])


def _serve(feeds: FeedService, name: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    def document() -> dict[str, Any]:
        return gbfs.document(build(), feeds.state.ledger.now(), feeds.ttl)

    return feeds.cached(("gbfs", name), document)


@router.get("/gbfs.json", summary="GBFS discovery: the feeds of this system and their URLs")
def discovery(request: Request, feeds: FeedsDep) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + router.prefix
    return _serve(feeds, f"gbfs@{base}", lambda: gbfs.discovery(base))


@router.get("/system_information.json", summary="GBFS system_information")
def system_information(feeds: FeedsDep) -> dict[str, Any]:
    return _serve(feeds, "system_information", lambda: gbfs.system_information(feeds.chain_id))


@router.get("/vehicle_types.json", summary="GBFS vehicle_types: one per scooter operator")
def vehicle_types(feeds: FeedsDep) -> dict[str, Any]:
    return _serve(feeds, "vehicle_types", lambda: gbfs.vehicle_types(feeds.fleet()))


@router.get("/vehicle_status.json", summary="GBFS vehicle_status: scooters free to rent now")
def vehicle_status(feeds: FeedsDep) -> dict[str, Any]:
    return _serve(
        feeds, "vehicle_status", lambda: gbfs.vehicle_status(feeds.fleet(), feeds.vehicle_ids)
    )


@router.get("/system_pricing_plans.json", summary="GBFS system_pricing_plans: plans in force")
def system_pricing_plans(feeds: FeedsDep) -> dict[str, Any]:
    return _serve(feeds, "system_pricing_plans", lambda: gbfs.pricing_plans(feeds.fleet()))
