"""FIWARE Smart Data Models as NGSI-LD entities, normalized representation: ParkingSpot for
every slot, OffStreetParking / OnStreetParking for the parking sites the slots belong to.

Attribute names and enumerations follow smart-data-models/dataModel.Parking (schema.json of
ParkingSpot, OffStreetParking, OnStreetParking). Every attribute is a {"type": "Property" |
"Relationship" | "GeoProperty", ...} object as NGSI-LD's normalized form requires.
"""

from __future__ import annotations

from typing import Any

from api.feeds.ids import urn
from api.feeds.parking import SiteState, SpotState
from api.feeds.timefmt import rfc3339

SMART_DATA_MODELS_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
)
NGSI_LD_CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT = [SMART_DATA_MODELS_CONTEXT, NGSI_LD_CORE_CONTEXT]
ENTITY_TYPES = ("ParkingSpot", "OffStreetParking", "OnStreetParking")

# ParkingSlots category → the site models' category enumerations.
OFF_STREET_CATEGORY = {
    "PUBLIC_LOT": ["public", "feeCharged", "parkingLot"],
    "PRIVATE_LOT": ["private", "feeCharged", "parkingLot"],
    "PERSONAL": ["private", "feeCharged", "forResidents"],
}
ON_STREET_CATEGORY = {"RESIDENT_PRIORITY": ["feeCharged", "forResidents"]}


def _property(value: Any, observed_at: int | None = None) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "Property", "value": value}
    if observed_at:
        prop["observedAt"] = rfc3339(observed_at)
    return prop


def _point(lat: float, lon: float) -> dict[str, Any]:
    # GeoJSON orders coordinates longitude first.
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def parking_spot(chain_id: int, spot: SpotState) -> dict[str, Any]:
    return {
        "id": urn("ParkingSpot", chain_id, spot.slot_id),
        "type": "ParkingSpot",
        "name": _property(f"CityPass slot {spot.slot_id}"),
        "status": _property(spot.status, spot.last_seen or None),
        "category": _property([spot.street_category]),
        "refParkingSite": {
            "type": "Relationship",
            "object": urn(spot.site_type, chain_id, spot.lot_id),
        },
        "location": _point(spot.lat, spot.lon),
        "occupancyDetectionType": _property(["singleSpaceDetection"]),
    }


def parking_site(chain_id: int, site: SiteState) -> dict[str, Any]:
    lat, lon = site.centroid
    table = ON_STREET_CATEGORY if site.site_type == "OnStreetParking" else OFF_STREET_CATEGORY
    categories: list[str] = []
    for category in site.categories:
        for value in table.get(category, ["feeCharged"]):
            if value not in categories:
                categories.append(value)
    observed = site.last_seen or None
    entity: dict[str, Any] = {
        "id": urn(site.site_type, chain_id, site.lot_id),
        "type": site.site_type,
        "name": _property(f"CityPass lot {site.lot_id}"),
        "category": _property(categories),
        "location": _point(lat, lon),
        "totalSpotNumber": _property(site.total),
        "availableSpotNumber": _property(site.available, observed),
        "occupiedSpotNumber": _property(site.occupied, observed),
        "occupancyDetectionType": _property(["singleSpaceDetection"]),
        "chargeType": _property(["temporaryPrice"]),
        "requiredPermit": _property([]),
        "refParkingSpot": {
            "type": "Relationship",
            "object": [urn("ParkingSpot", chain_id, s.slot_id) for s in site.spots],
        },
    }
    # OnStreetParking takes one vehicle type, OffStreetParking a list (their schemas differ).
    entity["allowedVehicleType"] = _property(
        "car" if site.site_type == "OnStreetParking" else ["car"]
    )
    return entity


def entities(chain_id: int, spots: list[SpotState], sites: list[SiteState]) -> list[dict[str, Any]]:
    """Sites first, then spots, each in id order (a stable order for offset pagination)."""
    return [parking_site(chain_id, site) for site in sites] + [
        parking_spot(chain_id, spot) for spot in spots
    ]
