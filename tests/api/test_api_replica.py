"""A read replica (`citypass-api serve --replica`, api/replica.py) beside the shared world's API,
over the same read model (SQLite and PostgreSQL): the same public answers, fresh after a
booking, no key, no follower, and 421 for everything that is the primary's job."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.errors import SettingsError
from api.settings import Settings
from tests.api_helpers import (  # noqa: F401
    ApiServer,
    World,
    error_of,
    serve_replica,
    sqlite_world,
    world,
)
from tests.indexer_helpers import CENTER
from tests.oracle_helpers import ROOT, wait_until


@pytest.fixture(scope="module")
def replica(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = serve_replica(world.api, tmp_path_factory.mktemp("replica"))
    yield server
    assert server.stop() == 0, server.log_path.read_text()[-3000:]


def _search(api: ApiServer, **params: float) -> dict:
    query = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 2000, **params}
    reply = api.get("/v1/slots/search", params=query)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_replica_answers_searches_and_slots_as_the_primary_does(world: World, replica):
    s = world.scenario
    for day, hours in ((0, (12, 14)), (0, (10, 12)), (1, (9, 18))):
        window = {"start": s.at(day, hours[0]), "end": s.at(day, hours[1])}
        assert _search(replica, **window) == _search(world.api, **window)
    for slot_id in s.slots.values():
        assert (
            replica.get(f"/v1/slots/{slot_id}").json()
            == world.api.get(f"/v1/slots/{slot_id}").json()
        )
    error = error_of(replica.get("/v1/slots/99999"), 404)
    assert error["code"] == "unknown_slot"
    # The standard feeds are public reads too (their URLs name the process that answered).
    feeds = replica.get("/v1/gbfs/gbfs.json")
    assert feeds.status_code == 200, feeds.text
    names = [feed["name"] for feed in feeds.json()["data"]["feeds"]]
    primary = world.api.get("/v1/gbfs/gbfs.json").json()["data"]["feeds"]
    assert names == [feed["name"] for feed in primary] and names


def test_a_booking_leaves_the_replicas_search_within_a_block(world: World, replica):
    s = world.scenario
    # Thursday 20:00-21:00: slot A is open every day and nobody has booked it then.
    window = {"start": s.at(3, 20), "end": s.at(3, 21), "radius_m": 500}
    before = [o["slotId"] for o in _search(replica, **window)["slots"]]
    assert s.slots["A"] in before
    # A resident of its own: the scenario's lessee's leases and balance are other tests' facts.
    world.chain.book(world.chain.resident(), s.slots["A"], window["start"], window["end"])

    def gone() -> bool:
        return all(
            s.slots["A"] not in [o["slotId"] for o in _search(api, **window)["slots"]]
            for api in (replica, world.api)
        )

    # The primary's follower indexes the block; each process's index refreshes from the read
    # model's cursor on its own schedule (never from the chain), so either may drop the slot
    # first, and both do within about a block.
    wait_until(gone, timeout=15, interval=0.1)
    assert _search(replica, **window) == _search(world.api, **window)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/relay/forward"),
        ("GET", "/v1/applications/1"),
        ("POST", "/v1/auth/siwe"),
        ("GET", "/v1/members/0x0000000000000000000000000000000000000001/leases"),
        ("GET", "/explorer"),
        ("GET", "/app/"),
    ],
)
def test_a_replica_sends_everything_else_to_the_primary(replica, method, path):
    reply = replica.request(method, path, json={} if method == "POST" else None)
    error = error_of(reply, 421)
    assert error["code"] == "read_replica"
    assert f"send {method} {path} to the primary" in error["message"]


def test_a_replica_holds_no_key_and_does_not_follow(replica):
    health = replica.get("/health").json()
    assert health["ok"] is True and health["role"] == "replica"
    assert (health["follower"], health["followMode"], health["relayer"]) == (
        "external", "external", None,
    )  # fmt: skip
    assert not (replica.data_dir / "keystore").exists()
    started = [line for line in replica.log_lines() if line.get("msg") == "serving"]
    assert started and started[0]["follow"] is False and started[0]["replica"] is True
    assert not any("follower process" in line.get("msg", "") for line in replica.log_lines())
    # Its metrics are its own: a proxy's health check sees each process.
    assert "citypass_api_requests_total" in replica.get("/metrics").text


def test_a_replica_whose_read_model_stops_moving_says_so_on_health(
    sqlite_world: World, tmp_path: Path
):
    """Whoever follows for a replica (the primary, `indexer run`) may die: the replica keeps
    serving, but /health turns 503 once the read model falls STALE_AFTER_BLOCKS behind, so a
    proxy stops sending it searches that would offer booked slots. A frozen copy of the read
    model stands in for a dead follower (on SQLite, where a file copy is the whole database;
    the check reads only the cursor, the same on both)."""
    world = sqlite_world
    db = world.api.command[world.api.command.index("--db") + 1]
    frozen = tmp_path / "frozen.db"
    with sqlite3.connect(db.removeprefix("sqlite:///")) as live, sqlite3.connect(frozen) as copy:
        live.backup(copy)
    stale = serve_replica(
        world.api, tmp_path, db_url=f"sqlite:///{frozen}", CITYPASS_API_STALE_AFTER_BLOCKS="2"
    )
    try:
        assert stale.get("/health").json()["ok"] is True
        world.chain.resident()  # onboard, mint, approve: three blocks the copy never sees
        reply = stale.get("/health")
        body = reply.json()
        assert reply.status_code == 503 and body["ok"] is False and body["indexerLag"] >= 3
        assert "blocks behind the node" in body["error"]
        assert "CITYPASS_API_STALE_AFTER_BLOCKS=2" in body["error"]
        # It still answers searches (a stale answer is the proxy's call, not a 500).
        assert stale.get("/v1/clock").status_code == 200
        # The primary follows for itself: its lag stays small and it stays healthy.
        assert world.api.get("/health").json()["ok"] is True
    finally:
        stale.stop()


def test_a_replica_that_is_told_to_follow_is_refused():
    with pytest.raises(SettingsError, match="a read replica never follows"):
        Settings.from_env({"CITYPASS_API_REPLICA": "true", "CITYPASS_API_FOLLOW": "true"})
    replica = Settings.from_env({"CITYPASS_API_REPLICA": "1"})
    assert replica.replica and replica.follow and not replica.follows_chain
    assert Settings.from_env({}).follows_chain
    with pytest.raises(SettingsError, match="STALE_AFTER_BLOCKS"):
        Settings.from_env({"CITYPASS_API_STALE_AFTER_BLOCKS": "0"})
    with pytest.raises(SettingsError, match=r"CITYPASS_API_REPLICA='maybe' is not a valid boolean"):
        Settings.from_env({"CITYPASS_API_REPLICA": "maybe"})


def test_the_benchmark_refuses_a_replica_count_it_cannot_run():
    bad = subprocess.run(
        [sys.executable, "-m", "bench.api", "--replicas", "9"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "--replicas: invalid choice: 9" in bad.stderr
