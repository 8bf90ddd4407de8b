"""GBFS v3.0 documents for the village's kick-scooters (system_information, vehicle_types,
vehicle_status, system_pricing_plans and the gbfs.json discovery file).

Where the chain has less than GBFS asks for, and what we publish instead (docs/api.md):
- Positions: assets carry none on chain, so an available scooter is published at its zone's
  hub: the Sangsalmi village hub for village-zone assets, the Bucheon city depot for the rest.
- Range: no battery telemetry is on chain; `current_range_meters` (required for motorised
  types) is the type's nominal range.
- vehicle_id rotates after every trip (GBFS requires it for riders' privacy): it is an HMAC,
  under a per-process random key, of the asset id and the last trip this API saw on it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from typing import Any

from api.feeds.mobility import FarePlan, Fleet, Scooter
from api.feeds.timefmt import rfc3339_kst

GBFS_VERSION = "3.0"
LANGUAGES = ["en", "ko"]
TIME_ZONE = "Asia/Seoul"
FEED_CONTACT_EMAIL = "feeds@citypass.example"
# Where an available scooter is published (lat, lon): see the module docstring.
VILLAGE_HUB = (37.503, 126.787)
CITY_DEPOT = (37.5035, 126.766)
NOMINAL_RANGE_METERS = 25_000
FEEDS = ("system_information", "vehicle_types", "vehicle_status", "system_pricing_plans")


def _text(en: str, ko: str) -> list[dict[str, str]]:
    return [{"text": en, "language": "en"}, {"text": ko, "language": "ko"}]


def document(data: dict[str, Any], now: int, ttl: int) -> dict[str, Any]:
    return {"last_updated": rfc3339_kst(now), "ttl": ttl, "version": GBFS_VERSION, "data": data}


def discovery(base_url: str) -> dict[str, Any]:
    feeds = [{"name": name, "url": f"{base_url}/{name}.json"} for name in FEEDS]
    return {"feeds": [{"name": "gbfs", "url": f"{base_url}/gbfs.json"}, *feeds]}


def system_information(chain_id: int) -> dict[str, Any]:
    return {
        "system_id": f"citypass-sangsalmi-{chain_id}",
        "languages": LANGUAGES,
        "name": _text("CityPass Sangsalmi kick-scooters", "시티패스 상살미 공유 킥보드"),
        "operator": _text("Sangsalmi village enterprise", "상살미사람들"),
        "opening_hours": "24/7",
        "feed_contact_email": FEED_CONTACT_EMAIL,
        "timezone": TIME_ZONE,
    }


def vehicle_type_id(operator: str) -> str:
    return f"kick-scooter-{operator[2:10].lower()}"


def plan_id(plan: FarePlan) -> str:
    return f"plan-{plan.plan_id}"


def vehicle_types(fleet: Fleet) -> dict[str, Any]:
    types = []
    for address, operator in sorted(fleet.operators.items()):
        if not operator.active:  # its plan is not published either (pricing_plans)
            continue
        entry: dict[str, Any] = {
            "vehicle_type_id": vehicle_type_id(address),
            "form_factor": "scooter_standing",
            "propulsion_type": "electric",
            "max_range_meters": NOMINAL_RANGE_METERS,
            "name": _text(f"Kick-scooter of operator {address[:10]}", "전동 킥보드"),
            "rider_capacity": 1,
        }
        if operator.plan is not None:
            entry["default_pricing_plan_id"] = plan_id(operator.plan)
            entry["pricing_plan_ids"] = [plan_id(operator.plan)]
        types.append(entry)
    return {"vehicle_types": types}


def pricing_plans(fleet: Fleet) -> dict[str, Any]:
    plans = []
    for address, operator in sorted(fleet.operators.items()):
        plan = operator.plan
        if plan is None or not operator.active:
            continue
        description = (
            f"Unlock ₩{plan.unlock_fee:,}, ₩{plan.per_minute:,} per started minute"
            + (f", ₩{plan.per_100m:,} per started 100 m" if plan.per_100m else "")
            + f"; a trip never costs more than ₩{plan.daily_cap:,}."
        )
        entry: dict[str, Any] = {
            "plan_id": plan_id(plan),
            "name": _text(f"Fare plan {plan.plan_id} of {address[:10]}", f"요금제 {plan.plan_id}"),
            "currency": "KRW",
            "price": plan.unlock_fee,
            "is_taxable": False,
            "description": _text(description, description),
        }
        if plan.per_minute:
            entry["per_min_pricing"] = [{"start": 0, "rate": plan.per_minute, "interval": 1}]
        if plan.per_100m:
            # GBFS intervals are whole kilometres; the exact per-100 m rule is in the description.
            entry["per_km_pricing"] = [{"start": 0, "rate": plan.per_100m * 10, "interval": 1}]
        plans.append(entry)
    return {"plans": plans}


class VehicleIds:
    """Rotating public vehicle ids: a new one after every trip this API observed."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._last_trip: dict[int, int] = {}
        self._lock = threading.Lock()

    def observe(self, fleet: Fleet) -> None:
        with self._lock:
            for scooter in fleet.scooters:
                if scooter.open_trip:
                    self._last_trip[scooter.asset_id] = scooter.open_trip

    def of(self, scooter: Scooter) -> str:
        generation = self._last_trip.get(scooter.asset_id, 0)
        message = f"{scooter.asset_id}:{generation}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:20]


def vehicle_status(fleet: Fleet, ids: VehicleIds) -> dict[str, Any]:
    vehicles = []
    for scooter in fleet.available():
        operator = fleet.operators[scooter.operator]
        lat, lon = VILLAGE_HUB if scooter.village_zone else CITY_DEPOT
        assert operator.plan is not None  # available() only keeps operators with a plan
        vehicles.append(
            {
                "vehicle_id": ids.of(scooter),
                "lat": lat,
                "lon": lon,
                "is_reserved": False,
                "is_disabled": False,
                "vehicle_type_id": vehicle_type_id(scooter.operator),
                "current_range_meters": NOMINAL_RANGE_METERS,
                "pricing_plan_id": plan_id(operator.plan),
            }
        )
    return {"vehicles": vehicles}
