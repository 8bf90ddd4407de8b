"""Standard feeds (FIWARE NGSI-LD, CDS, GBFS v3.0) served by a real citypass-api over a real
ledger node (tests/feeds_helpers.py): every document checked against its standard's required
fields or official schemas, and every number against the chain's own views."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from gbfs_validator import validate_feed
from gbfs_validator.feedhelpers import load_schema
from gbfs_validator.validate import validate_file

from api.feeds.cache import TtlCache
from api.feeds.ids import curb_space_id, curb_zone_id
from citypass.protocol.trip_reports import sign_trip_end
from tests.api_helpers import error_of
from tests.feeds_helpers import FEED_TTL, SCOOTER_PLAN, FeedsWorld, start_feeds_world
from tests.indexer_helpers import DATABASES, read_model_url
from tests.oracle_helpers import wait_until

NGSI = "/v1/feeds/ngsi-ld/v1/entities"
# Required attributes, from smart-data-models/dataModel.Parking <Model>/schema.json "required".
REQUIRED = {
    "ParkingSpot": {"id", "type", "location", "status", "category", "refParkingSite"},
    "OffStreetParking": {"id", "type", "location"},
    "OnStreetParking": {"id", "type", "location"},
}
SPOT_STATUS = {"free", "occupied", "closed", "unknown"}
OCCUPANCY = ("free", "occupied", "unknown")
# CDS 1.0 Events API: required Curb Event and Status fields, and the envelope (REST Endpoints).
CDS_EVENT_REQUIRED = {
    "event_id", "event_type", "event_location", "event_time", "event_publication_time",
    "data_source_type", "data_source_device_id",
}  # fmt: skip
CDS_STATUS_REQUIRED = {"data_source_device_id", "data_source_type"}
CDS_ENVELOPE = {"data", "version", "time_zone", "last_updated", "currency"}
CDS_SOURCE_TYPES = {"data_feed", "camera", "above_ground", "in_ground", "meter", "payment",
                    "in_person", "other"}  # fmt: skip
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module", params=DATABASES)
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Any:
    base = tmp_path_factory.mktemp(f"feeds-world-{request.param}")
    built = start_feeds_world(base, read_model_url(request.param, base, request.config))
    yield built
    built.api.stop()
    built.chain.node.stop()


def _ok(reply: Any) -> Any:
    assert reply.status_code == 200, reply.text
    return reply.json()


def _error(reply: Any, status: int, code: str) -> str:
    return error_of(reply, status, code)["message"]


def _urn(world: FeedsWorld, kind: str, local: int) -> str:
    return f"urn:ngsi-ld:{kind}:{world.chain.chain_id}:{local}"


def _chain_status(world: FeedsWorld, slot: int) -> str:
    slots = world.chain.contract("slots").functions
    if not slots.bookingTerms(slot).call()[1]:  # SlotBookingTerms.active
        return "closed"
    return OCCUPANCY[world.chain.contract("occupancy").functions.occupancyOf(slot).call()]


def _no_personal_data(world: FeedsWorld, text: str) -> None:
    for address in world.personal_addresses():
        assert address.lower()[2:] not in text.lower(), f"{address} leaked into a feed"


# --------------------------------------------------------------------------------- NGSI-LD


def test_ngsi_parking_spots_have_required_attributes_and_chain_status(world: FeedsWorld):
    reply = world.api.get(NGSI, params={"type": "ParkingSpot", "limit": 100})
    assert reply.headers["content-type"].startswith("application/ld+json")
    spots = {e["id"]: e for e in _ok(reply)}
    assert set(spots) == {_urn(world, "ParkingSpot", s) for s in world.slots.values()}
    for entity in spots.values():
        assert REQUIRED["ParkingSpot"] <= set(entity), entity
        assert entity["@context"][-1].startswith("https://uri.etsi.org/ngsi-ld/")
        for name, attribute in entity.items():
            if name not in ("id", "type", "@context"):
                assert attribute["type"] in ("Property", "Relationship", "GeoProperty"), name
        assert entity["status"]["value"] in SPOT_STATUS
        assert entity["category"]["value"][0] in ("onStreet", "offStreet")
        assert entity["location"]["value"]["type"] == "Point"
    by_name = {name: spots[_urn(world, "ParkingSpot", slot)] for name, slot in world.slots.items()}
    # The sensor saw the car leave the shared slot and one park in the bay; nothing ever
    # observed the silent slot (UNKNOWN) and the withdrawn one is closed.
    assert {n: e["status"]["value"] for n, e in by_name.items()} == {
        "shared": "free", "street": "occupied", "silent": "unknown", "withdrawn": "closed",
    }  # fmt: skip
    for name, slot in world.slots.items():
        assert by_name[name]["status"]["value"] == _chain_status(world, slot)
    assert by_name["street"]["category"]["value"] == ["onStreet"]
    assert by_name["street"]["refParkingSite"]["object"] == _urn(world, "OnStreetParking", 2)
    assert by_name["shared"]["refParkingSite"]["object"] == _urn(world, "OffStreetParking", 1)
    assert by_name["street"]["location"]["value"]["coordinates"] == [126.7875, 37.5035]
    assert by_name["shared"]["status"]["observedAt"].endswith("Z")
    assert "observedAt" not in by_name["silent"]["status"]


def test_ngsi_parking_sites_count_spots_as_the_chain_does(world: FeedsWorld):
    sites = {
        e["id"]: e
        for e in _ok(world.api.get(NGSI, params={"type": "OffStreetParking,OnStreetParking"}))
    }
    assert set(sites) == {_urn(world, "OffStreetParking", 1), _urn(world, "OnStreetParking", 2)}
    for entity in sites.values():
        assert REQUIRED[entity["type"]] <= set(entity)
    for site in sites.values():
        members = [int(urn.rsplit(":", 1)[1]) for urn in site["refParkingSpot"]["object"]]
        statuses = [_chain_status(world, slot) for slot in members]
        assert site["totalSpotNumber"]["value"] == sum(s != "closed" for s in statuses)
        assert site["availableSpotNumber"]["value"] == statuses.count("free")
        assert site["occupiedSpotNumber"]["value"] == statuses.count("occupied")
    lot = sites[_urn(world, "OffStreetParking", 1)]
    assert sorted(lot["refParkingSpot"]["object"]) == sorted(
        _urn(world, "ParkingSpot", world.slots[n]) for n in ("shared", "silent", "withdrawn")
    )
    assert (lot["totalSpotNumber"]["value"], lot["availableSpotNumber"]["value"]) == (2, 1)
    assert sites[_urn(world, "OnStreetParking", 2)]["allowedVehicleType"]["value"] == "car"


def test_ngsi_filters_by_id_paginates_and_counts(world: FeedsWorld):
    wanted = [_urn(world, "ParkingSpot", world.slots[n]) for n in ("street", "shared")]
    found = _ok(world.api.get(NGSI, params={"id": ",".join(wanted)}))
    assert sorted(e["id"] for e in found) == sorted(wanted)
    everything = world.api.get(NGSI, params={"limit": 100, "count": "true"})
    total = len(_ok(everything))
    assert everything.headers["NGSILD-Results-Count"] == str(total) == "6"
    pages = [_ok(world.api.get(NGSI, params={"limit": 4, "offset": o})) for o in (0, 4)]
    assert [len(p) for p in pages] == [4, 2]
    assert [e["id"] for e in pages[0] + pages[1]] == [e["id"] for e in everything.json()]
    one = _ok(world.api.get(f"{NGSI}/{wanted[0]}"))
    assert one["id"] == wanted[0] and one["type"] == "ParkingSpot"


def test_ngsi_plain_json_names_the_context_in_a_link_header(world: FeedsWorld):
    reply = world.api.get(
        NGSI, params={"type": "ParkingSpot"}, headers={"Accept": "application/json"}
    )
    assert reply.headers["content-type"].startswith("application/json")
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in reply.headers["Link"]
    assert all("@context" not in e for e in _ok(reply))


def test_ngsi_rejects_bad_input_with_what_to_fix(world: FeedsWorld):
    assert "ParkingSpot" in _error(
        world.api.get(NGSI, params={"type": "Vehicle"}), 422, "unknown_type"
    )
    assert "limit" in _error(world.api.get(NGSI, params={"limit": 1001}), 422, "validation")
    missing = _urn(world, "ParkingSpot", 999)
    assert missing in _error(world.api.get(f"{NGSI}/{missing}"), 404, "unknown_entity")
    assert "urn:ngsi-ld" in _error(world.api.get(f"{NGSI}/slot-1"), 422, "malformed_id")


# -------------------------------------------------------------------------------------- CDS


def _events(world: FeedsWorld, **params: Any) -> Any:
    query = {"start_time": world.at(0, 8) * 1000, "end_time": world.at(0, 12) * 1000, **params}
    return world.api.get("/v1/cds/events", params=query)


def test_cds_events_follow_the_sensor_and_tie_the_lease_session(world: FeedsWorld):
    reply = _events(world)
    assert reply.headers["content-type"] == "application/vnd.cds+json;version=1.0"
    body = _ok(reply)
    assert set(body) >= CDS_ENVELOPE and body["version"] == "1.0" and body["currency"] == "KRW"
    assert body["links"] == {"next": None}
    events = body["data"]["events"]
    for event in events:
        assert set(event) >= CDS_EVENT_REQUIRED, event
        assert UUID.match(event["event_id"]) and UUID.match(event["data_source_device_id"])
        assert event["data_source_type"] in CDS_SOURCE_TYPES
        assert event["event_publication_time"] >= event["event_time"]
    chain = world.chain.chain_id
    summary = [(e["event_type"], e["curb_space_id"], e["event_time"]) for e in events]
    shared, street = (curb_space_id(chain, world.slots[n]) for n in ("shared", "street"))
    # Most recent first (CDS "Event Times"); times are ms since the epoch. The last report saw
    # both the departure and the arrival.
    assert [e[2] for e in summary] == sorted((e[2] for e in summary), reverse=True)
    assert sorted(summary) == sorted(
        [
            ("park_end", shared, world.at(0, 10.5) * 1000),
            ("park_start", shared, (world.at(0, 9) + 60) * 1000),
            ("park_start", street, world.at(0, 10.5) * 1000),
        ]
    )
    by_space = {(e["event_type"], e["curb_space_id"]): e for e in events}
    end, start = by_space[("park_end", shared)], by_space[("park_start", shared)]
    bay = by_space[("park_start", street)]
    assert end["event_session_id"] == start["event_session_id"]
    assert end["event_purpose"] == "vehicle_parking" and start["data_source_type"] == "in_ground"
    assert "event_session_id" not in bay  # no lease was driven on the bay
    assert bay["curb_zone_id"] == curb_zone_id(chain, "OnStreetParking", 2)
    # The session stands for the lease the oracle (not the lessee) checked in and out.
    market = world.chain.contract("market")
    check_ins = market.events.LeaseCheckedIn().get_logs(from_block=0, to_block="latest")
    assert [(e["args"]["leaseId"], e["args"]["by"]) for e in check_ins] == [
        (world.lease, world.chain.system.occupancy.address)
    ]
    _no_personal_data(world, reply.text)


def test_cds_events_filter_by_space_and_zone(world: FeedsWorld):
    chain = world.chain.chain_id
    space = curb_space_id(chain, world.slots["shared"])
    only = _ok(_events(world, curb_space_id=space))["data"]["events"]
    assert [e["event_type"] for e in only] == ["park_end", "park_start"]
    zone = curb_zone_id(chain, "OnStreetParking", 2)
    assert len(_ok(_events(world, curb_zone_id=zone))["data"]["events"]) == 1
    paged = _ok(_events(world, limit=2))
    assert len(paged["data"]["events"]) == 2 and "offset=2" in paged["links"]["next"]
    assert (
        len(_ok(world.api.get(paged["links"]["next"].replace(world.api.url, "")))["data"]["events"])
        == 1
    )


def test_cds_events_reject_bad_ranges_and_ids(world: FeedsWorld):
    start = world.at(0, 8) * 1000
    too_long = _events(world, start_time=start, end_time=start + 25 * 3_600_000)
    assert "24 h" in _error(too_long, 422, "range_too_long")
    assert "after" in _error(_events(world, start_time=start, end_time=start), 422, "empty_range")
    assert "start_time" in _error(_events(world, start_time=-5), 422, "validation")
    assert "offset" in _error(_events(world, offset=2**64), 422, "validation")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert unknown in _error(_events(world, curb_space_id=unknown), 404, "unknown_curb_space")
    assert unknown in _error(_events(world, curb_zone_id=unknown), 404, "unknown_curb_zone")
    assert "curb_space_id" in _error(_events(world, curb_space_id="slot-1"), 422, "validation")
    refused = world.api.get("/v1/cds/events", headers={"Accept": "text/html"})
    assert "application/vnd.cds+json" in _error(refused, 406, "not_acceptable")
    versioned = world.api.get(
        "/v1/cds/status", headers={"Accept": "application/vnd.cds+json;version=1.0"}
    )
    assert versioned.status_code == 200


def test_cds_status_reports_sensors_and_occupancy_now(world: FeedsWorld):
    body = _ok(world.api.get("/v1/cds/status"))
    assert set(body) >= CDS_ENVELOPE
    entries = {e["curb_space_id"]: e for e in body["data"]["status"]}
    chain = world.chain.chain_id
    shared, street = (curb_space_id(chain, world.slots[n]) for n in ("shared", "street"))
    # The silent slot has no sensor and was never observed; the withdrawn one neither.
    assert set(entries) == {shared, street}
    for entry in entries.values():
        assert set(entry) >= CDS_STATUS_REQUIRED
    assert entries[shared]["data_source_type"] == "in_ground"
    assert entries[shared]["sensor_status_is_commissioned"] is True
    assert entries[shared]["sensor_status_is_online"] is True
    for name, space in (("shared", shared), ("street", street)):
        assert entries[space]["curb_space_occupancy"] == _chain_status(world, world.slots[name])
    assert entries[shared]["last_observed_time"] == world.at(0, 10.5) * 1000
    zone = curb_zone_id(chain, "OnStreetParking", 2)
    only = _ok(world.api.get("/v1/cds/status", params={"curb_zone_id": zone}))["data"]["status"]
    assert [e["curb_space_id"] for e in only] == [street]


# ------------------------------------------------------------------------------------- GBFS


def _gbfs(world: FeedsWorld, name: str) -> dict[str, Any]:
    body = _ok(world.api.get(f"/v1/gbfs/{name}.json"))
    assert body["version"] == "3.0" and body["ttl"] == FEED_TTL
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$", body["last_updated"])
    return body["data"]


def _current_vehicles(world: FeedsWorld, count: int) -> list[dict[str, Any]]:
    """vehicle_status once the feed TTL has let the chain's latest state through."""

    def settled() -> list[dict[str, Any]] | None:
        vehicles = _gbfs(world, "vehicle_status")["vehicles"]
        return vehicles if len(vehicles) == count else None

    return wait_until(settled, timeout=10 * FEED_TTL + 5, interval=0.2)


def test_gbfs_feed_validates_against_the_official_v3_schemas(world: FeedsWorld):
    discovery = _gbfs(world, "gbfs")
    names = {f["name"] for f in discovery["feeds"]}
    assert {
        "system_information",
        "vehicle_types",
        "vehicle_status",
        "system_pricing_plans",
    } <= names
    report = validate_feed(world.api.url + "/v1/gbfs/gbfs.json", freefloating=True)
    problems = [(f.get("file"), f.get("errors")) for f in report["files"] if f.get("hasErrors")]
    assert report["summary"]["version"]["validated"] == "3.0"
    assert not report["summary"]["hasErrors"], problems
    # The validator is not vacuous: the same schema refuses our document once it is broken.
    schema = load_schema("3.0", "vehicle_status")
    broken = world.api.get("/v1/gbfs/vehicle_status.json").json()
    del broken["data"]["vehicles"][0]["is_reserved"]
    assert validate_file(schema, broken)["errors"]
    published = {f["file"] for f in report["files"] if f.get("exists")}
    assert {"gbfs.json", "system_information.json", "vehicle_types.json",
            "vehicle_status.json", "system_pricing_plans.json"} <= published  # fmt: skip


def test_gbfs_vehicle_status_leaves_out_the_scooter_on_a_trip(world: FeedsWorld):
    trips = world.chain.contract("trips").functions
    assert trips.openTripOf(world.scooters["ridden"]).call() == world.trip != 0
    vehicles = _current_vehicles(world, 2)
    assert len(world.vehicles_before_trip) == 3
    ridden_id = world.vehicles_before_trip[1]["vehicle_id"]
    assert ridden_id not in {v["vehicle_id"] for v in vehicles}
    # The village scooter at the village hub, the town one at the city depot; no car.
    assert sorted((v["lat"], v["lon"]) for v in vehicles) == [(37.503, 126.787), (37.5035, 126.766)]
    types = {t["vehicle_type_id"]: t for t in _gbfs(world, "vehicle_types")["vehicle_types"]}
    assert len(types) == 1
    (scooter_type,) = types.values()
    assert scooter_type["form_factor"] == "scooter_standing"
    assert all(v["vehicle_type_id"] in types for v in vehicles)
    assert all(not v["is_reserved"] and not v["is_disabled"] for v in vehicles)
    _no_personal_data(world, str(vehicles))


def test_gbfs_pricing_plans_are_the_plans_in_force_on_chain(world: FeedsWorld):
    plans = _gbfs(world, "system_pricing_plans")["plans"]
    operators = world.chain.contract("operators").functions
    current = operators.operatorOf(world.scooter_operator.address).call()[2]
    _operator, (unlock, per_minute, per_100m, cap) = operators.planOf(current).call()
    assert (unlock, per_minute, per_100m, cap) == SCOOTER_PLAN
    (plan,) = plans  # the car-share operator's plan is not a scooter plan
    assert plan["plan_id"] == f"plan-{current}" and plan["currency"] == "KRW"
    assert plan["price"] == unlock and plan["is_taxable"] is False
    assert plan["per_min_pricing"] == [{"start": 0, "rate": per_minute, "interval": 1}]
    assert plan["per_km_pricing"] == [{"start": 0, "rate": per_100m * 10, "interval": 1}]
    assert f"₩{cap:,}" in plan["description"][0]["text"]
    vehicle_types = _gbfs(world, "vehicle_types")["vehicle_types"]
    assert vehicle_types[0]["default_pricing_plan_id"] == plan["plan_id"]


def test_gbfs_vehicle_id_rotates_once_the_trip_ends(world: FeedsWorld):
    """Last: it ends the open trip. GBFS requires a new vehicle_id after every trip."""
    chain = world.chain
    ended = chain.head_time()
    signature = sign_trip_end(
        bytes(world.scooter_operator.key), settlement_address=chain.system.trips.address,
        chain_id=chain.chain_id, trip_id=world.trip, ended_at=ended, distance_meters=800,
    ).signature  # fmt: skip
    chain.system.trips.endTrip(world.trip, ended, 800, signature, {"from": chain.people.operator})
    vehicles = _current_vehicles(world, 3)
    before = [v["vehicle_id"] for v in world.vehicles_before_trip]
    after = [v["vehicle_id"] for v in vehicles]
    assert after[0] == before[0] and after[2] == before[2]  # untouched scooters keep theirs
    assert after[1] != before[1]


def test_silent_sensors_turn_unknown_after_the_heartbeat(world: FeedsWorld):
    """Last but one (it moves the clock): no report for heartbeat + 2 margins (4 h) and the
    oracle reads UNKNOWN; no event says so, the feeds follow the contract's view."""
    chain = world.chain
    chain.set_clock(world.at(0, 10.5) + 4 * 3600 + 60)
    chain.new_member()  # a block at the new time, so views see it

    def spot_statuses() -> dict[str, str] | None:
        entities = _ok(world.api.get(NGSI, params={"type": "ParkingSpot"}))
        statuses = {e["id"]: e["status"]["value"] for e in entities}
        shared = statuses[_urn(world, "ParkingSpot", world.slots["shared"])]
        return statuses if shared == "unknown" else None

    statuses = wait_until(spot_statuses, timeout=10 * FEED_TTL + 5, interval=0.2)
    for slot in world.slots.values():
        assert statuses[_urn(world, "ParkingSpot", slot)] == _chain_status(world, slot)
    assert statuses[_urn(world, "ParkingSpot", world.slots["street"])] == "unknown"
    entries = _ok(world.api.get("/v1/cds/status"))["data"]["status"]
    assert [e["sensor_status_is_online"] for e in entries] == [False, False]
    assert {e["curb_space_occupancy"] for e in entries} == {"unknown"}
    site = _ok(world.api.get(f"{NGSI}/{_urn(world, 'OnStreetParking', 2)}"))
    assert (site["availableSpotNumber"]["value"], site["occupiedSpotNumber"]["value"]) == (0, 0)


def test_feed_latency(world: FeedsWorld):
    """Informational: p50 of 40 sequential requests per feed (printed); bounded generously."""
    for path in (NGSI + "?limit=100", "/v1/cds/status", "/v1/gbfs/vehicle_status.json"):
        timings = []
        for _ in range(40):
            started = time.perf_counter()
            assert world.api.get(path).status_code == 200
            timings.append(time.perf_counter() - started)
        timings.sort()
        print(f"{path}: p50 {timings[20] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms")
        assert timings[20] < 1.0


def test_ttl_cache_builds_once_per_ttl():
    cache, built = TtlCache(0.3), []
    for _ in range(5):
        assert cache.get("k", lambda: built.append(1) or len(built)) == 1
    time.sleep(0.35)
    assert cache.get("k", lambda: built.append(1) or len(built)) == 2
    assert len(built) == 2
