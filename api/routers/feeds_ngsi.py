"""FIWARE NGSI-LD entities (ParkingSpot, OffStreetParking, OnStreetParking) for the city's data
platform, under the NGSI-LD API's own path shape (/ngsi-ld/v1/entities) below /v1/feeds.

Content negotiation per NGSI-LD: application/ld+json (the default) carries "@context" in every
entity; application/json carries none and names the context in a Link header instead.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.errors import NotFound, ValidationFailed
from api.feeds import ngsi
from api.feeds.ids import parse_urn
from api.feeds.parking import group_sites
from api.feeds.service import FeedsDep

router = APIRouter(prefix="/v1/feeds/ngsi-ld/v1", tags=["feeds"])

MAX_LIMIT = 1000
LD_JSON = "application/ld+json"
# JSON-LD by default, plain JSON when asked: both documented for clients and the schema fuzzer.
LD_RESPONSE: dict[int | str, dict] = {
    200: {"content": {LD_JSON: {}, "application/json": {}}, "description": "NGSI-LD entities"}
}
CONTEXT_LINK = (
    f'<{ngsi.SMART_DATA_MODELS_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; '
    'type="application/ld+json"'
)


def _all_entities(feeds: FeedsDep) -> list[dict[str, Any]]:
    def build() -> list[dict[str, Any]]:
        spots = feeds.spots()
        return ngsi.entities(feeds.chain_id, spots, group_sites(spots))

    return feeds.cached("ngsi", build)


def _render(request: Request, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    accept = request.headers.get("accept", "")
    if "application/json" in accept and LD_JSON not in accept:
        headers["Link"] = CONTEXT_LINK
        return JSONResponse(body, headers=headers, media_type="application/json")

    def with_context(entity: dict[str, Any]) -> dict[str, Any]:
        return {**entity, "@context": ngsi.CONTEXT}

    body = [with_context(e) for e in body] if isinstance(body, list) else with_context(body)
    return JSONResponse(body, headers=headers, media_type=LD_JSON)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


@router.get(
    "/entities",
    summary="NGSI-LD query: parking entities, filtered by type and id",
    responses=LD_RESPONSE,
)
def query_entities(
    request: Request,
    feeds: FeedsDep,
    type: Annotated[
        str | None,
        Query(description="comma-separated: ParkingSpot, OffStreetParking, OnStreetParking"),
    ] = None,
    id: Annotated[str | None, Query(description="comma-separated entity URNs")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size, at most 1000")] = 20,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    count: Annotated[bool, Query(description="add the NGSILD-Results-Count header")] = False,
) -> JSONResponse:
    types = _split(type)
    if types is not None:
        unknown = [t for t in types if t not in ngsi.ENTITY_TYPES]
        if unknown or not types:
            raise ValidationFailed(
                f"type {', '.join(unknown) or '(empty)'} is not served here; use "
                f"{', '.join(ngsi.ENTITY_TYPES)}",
                code="unknown_type",
            )
    wanted_ids = _split(id)
    matched = [
        e for e in _all_entities(feeds)
        if (types is None or e["type"] in types) and (wanted_ids is None or e["id"] in wanted_ids)
    ]  # fmt: skip
    headers = {"NGSILD-Results-Count": str(len(matched))} if count else None
    return _render(request, matched[offset : offset + limit], headers)


@router.get(
    "/entities/{entity_id}",
    summary="NGSI-LD retrieve: one parking entity by URN",
    responses=LD_RESPONSE,
)
def get_entity(
    request: Request, feeds: FeedsDep, entity_id: Annotated[str, Path(max_length=200)]
) -> JSONResponse:
    parsed = parse_urn(entity_id)
    if parsed is None or parsed[0] not in ngsi.ENTITY_TYPES:
        raise ValidationFailed(
            f"{entity_id!r} is not one of our entity ids: they look like "
            f"urn:ngsi-ld:ParkingSpot:{feeds.chain_id}:<slot id>",
            code="malformed_id",
        )
    for entity in _all_entities(feeds):
        if entity["id"] == entity_id:
            return _render(request, entity)
    raise NotFound(
        f"no entity {entity_id} (chain {feeds.chain_id}); list them with "
        "/v1/feeds/ngsi-ld/v1/entities?type=ParkingSpot",
        code="unknown_entity",
    )
