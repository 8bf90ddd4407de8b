"""citypass-api reads: slot search, slots, members, typed data, health, metrics, CORS and the
CLI, against a real ledger node, a real SQLite read model and a real uvicorn (api_helpers)."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from tests.api_helpers import ALLOWED_ORIGIN, World, cli, error_of, world  # noqa: F401
from tests.indexer_helpers import CENTER
from tests.siwe_helpers import bearer


def _search(world: World, **params: float) -> object:
    query = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 500, **params}
    return world.api.get("/v1/slots/search", params=query)


# --------------------------------------------------------------------------------- search


def test_search_returns_free_slots_with_quote_and_distance(world: World):
    s = world.scenario
    reply = _search(world, start=s.at(0, 12), end=s.at(0, 14))
    assert reply.status_code == 200, reply.text
    offers = reply.json()["slots"]
    # A is free from 12:00 (its lease ends then), B is blacked out on Monday, C is open 09-18
    # on weekdays, D is 1.1 km away, E is withdrawn.
    assert [o["slotId"] for o in offers] == [s.slots["A"], s.slots["C"]]
    a, c = offers
    assert (a["distanceM"], a["units"], a["price"]) == (0.0, 4, 4 * 600)
    assert c["price"] == 4 * 1000 and c["category"] == "PRIVATE_LOT"
    assert c["distanceM"] == pytest.approx(176.4, abs=0.5)
    wide = _search(world, radius_m=2000, start=s.at(0, 12), end=s.at(0, 14)).json()["slots"]
    assert [o["slotId"] for o in wide] == [s.slots["A"], s.slots["C"], s.slots["D"]]
    assert wide[2]["distanceM"] == pytest.approx(1111.9, abs=1)


def test_search_returns_the_nearest_limit_and_counts_all_found(world: World):
    s = world.scenario
    body = _search(world, radius_m=2000, start=s.at(0, 12), end=s.at(0, 14), limit=2).json()
    assert body["found"] == 3
    assert [o["slotId"] for o in body["slots"]] == [s.slots["A"], s.slots["C"]]
    error = error_of(_search(world, start=s.at(0, 12), end=s.at(0, 14), limit=201), 422)
    assert "limit" in error["message"]


def test_search_leaves_out_a_leased_slot(world: World):
    s = world.scenario
    offers = _search(world, start=s.at(0, 10), end=s.at(0, 12)).json()["slots"]
    assert [o["slotId"] for o in offers] == [s.slots["C"]]


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"radius_m": 5001}, "validation", "radius_m"),
        ({"radius_m": 0}, "validation", "radius_m"),
        ({"lat": 91}, "validation", "lat"),
        ({"lon": -181}, "validation", "lon"),
        ({"start_shift": 60}, "misaligned_window", "half-hour"),
        ({"end_shift": -2 * 3600}, "empty_window", "after start"),
        ({"end_shift": 7 * 86400}, "window_too_long", "7 days"),
        ({"start_shift": -2 * 86400}, "start_in_past", "past"),
        ({"lat": "north"}, "validation", "lat"),
    ],
)
def test_search_rejects_bad_input_with_what_to_fix(world: World, change, code, words):
    s = world.scenario
    change = dict(change)  # a copy: the same dict is the case of both databases' runs
    params = {"start": s.at(0, 12), "end": s.at(0, 13)}
    params["start"] += change.pop("start_shift", 0)
    params["end"] += change.pop("end_shift", 0)
    params.update(change)
    error = error_of(_search(world, **params), 422)
    assert error["code"] == code
    assert words in error["message"]


def test_search_needs_every_parameter(world: World):
    error = error_of(world.api.get("/v1/slots/search", params={"lat": 37.5, "lon": 126.7}), 422)
    for name in ("radius_m", "start", "end"):
        assert name in error["message"]


def test_slot_details_and_unknown_slot(world: World):
    s = world.scenario
    slot = world.api.get(f"/v1/slots/{s.slots['C']}").json()
    assert (slot["owner"], slot["pricePerUnit"], slot["category"]) == (
        s.owner.address, 1000, "PRIVATE_LOT",
    )  # fmt: skip
    assert slot["windows"] == [{"daysMask": 0b0011111, "startUnit": 18, "endUnit": 36}]
    error = error_of(world.api.get("/v1/slots/99999"), 404)
    assert error["code"] == "unknown_slot" and "slot 99999" in error["message"]


def test_search_latency(world: World):
    """Informational: p50/p99 over 200 sequential searches (printed); bounded generously."""
    s = world.scenario
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        reply = _search(world, start=s.at(0, 12), end=s.at(0, 14))
        timings.append(time.perf_counter() - started)
        assert reply.status_code == 200
    timings.sort()
    p50, p99 = statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
    print(f"search latency over 200: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    assert p99 < 2.0


# -------------------------------------------------------------------------------- members


def test_member_leases_and_balance_from_the_read_model(world: World):
    s = world.scenario
    # The lessee's own wallet session (a resident's records are hers: test_api_personal_reads).
    own = bearer(world.api.url, world.chain.chain_id, s.lessee, scope="resident")
    leases = world.api.get(f"/v1/members/{s.lessee.address.lower()}/leases", headers=own).json()
    assert leases["address"] == s.lessee.address  # checksummed
    by_id = {lease["leaseId"]: lease for lease in leases["leases"]}
    assert by_id[s.leases["booked"]]["status"] == "BOOKED"
    assert by_id[s.leases["cancelled"]]["status"] == "CANCELLED"
    assert by_id[s.leases["settled"]]["overstayCharge"] == 2400
    balance = world.api.get(f"/v1/members/{s.lessee.address}/balance", headers=own).json()
    assert balance["balance"] == 94_000
    # Top-up in, four payments out, one refund in (newest first).
    kinds = [entry["kind"] for entry in balance["history"]]
    assert kinds.count("IN") == 2 and kinds.count("OUT") == 4
    assert sum(e["amount"] if e["kind"] == "IN" else -e["amount"] for e in balance["history"]) == (
        94_000
    )


@pytest.mark.parametrize("path", ["leases", "balance"])
def test_member_address_is_validated(world: World, path: str):
    error = error_of(world.api.get(f"/v1/members/0x1234/{path}"), 422)
    assert "40 hex digits" in error["message"]


# ----------------------------------------------------------------------------- typed data


def test_permit_typed_data_comes_from_the_chain(world: World):
    s = world.scenario
    typed = world.api.get(
        "/v1/typed-data/permit", params={"owner": s.lessee.address, "value": 5000}
    ).json()
    credit = world.chain.contract("credit")
    assert typed["domain"] == {
        "name": credit.functions.name().call(), "version": "1",
        "chainId": world.chain.chain_id, "verifyingContract": credit.address,
    }  # fmt: skip
    assert typed["primaryType"] == "Permit"
    message = typed["message"]
    assert message["spender"] == world.chain.system.market.address
    assert (message["value"], message["nonce"]) == (5000, 0)
    assert message["deadline"] > world.chain.head_time()


# ------------------------------------------------------------------ health, metrics, CORS


def test_health_reports_ledger_and_indexer_lag(world: World):
    health = world.api.get("/health").json()
    assert health["ok"] is True and health["ledger"] == "ok"
    assert health["chainId"] == world.chain.chain_id
    assert 0 <= health["indexerLag"] <= 5
    assert health["relayer"] == world.api.relayer


def test_metrics_count_requests_by_route_and_status(world: World):
    before = world.api.metric(
        "citypass_api_requests_total", 'method="GET",route="/v1/slots/{slot_id}",status="404"'
    )
    world.api.get("/v1/slots/424242")
    after = world.api.metric(
        "citypass_api_requests_total", 'method="GET",route="/v1/slots/{slot_id}",status="404"'
    )
    assert after == before + 1, [
        line for line in world.api.get("/metrics").text.splitlines() if "requests_total{" in line
    ]


def test_cors_preflight_only_for_allowed_origins(world: World):
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = world.api.request(
        "OPTIONS", "/v1/relay/forward", headers={"Origin": ALLOWED_ORIGIN, **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    other = world.api.request(
        "OPTIONS", "/v1/relay/forward", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers
    simple = world.api.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_openapi_lists_the_v1_endpoints(world: World):
    paths = world.api.get("/openapi.json").json()["paths"]
    for path in ("/v1/slots/search", "/v1/slots/{slot_id}", "/v1/relay/forward",
                 "/v1/relay/raw", "/v1/typed-data/forward-request", "/v1/typed-data/permit",
                 "/v1/members/{address}/leases", "/v1/members/{address}/balance"):  # fmt: skip
        assert path in paths
    assert world.api.get("/docs").status_code == 200


# ------------------------------------------------------------------------------------ CLI


def test_cli_help_and_one_line_errors(tmp_path):
    for args in ((), ("serve",), ("init-relayer",)):
        result = cli(*args, "--help")
        assert result.returncode == 0 and "Usage:" in result.stdout
    missing = cli("serve", "--deployment", str(tmp_path / "none.json"), "--db",
                  f"sqlite:///{tmp_path / 'r.db'}")  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1].startswith("error: deployment record")
    assert "Traceback" not in missing.stderr
    weak = cli("init-relayer", "--data-dir", str(tmp_path), env={"CITYPASS_API_PASSWORD": "x"})
    assert weak.returncode == 1 and weak.stderr.startswith("error: set CITYPASS_API_PASSWORD")
    bad_env = cli("serve", env={"CITYPASS_API_PORT": "eighty"})
    assert bad_env.returncode == 1 and "CITYPASS_API_PORT" in bad_env.stderr


# ------------------------------------------------------------------- settings and buckets


def test_token_bucket_refills_at_its_rate():
    from api.errors import RateLimited
    from api.ratelimit import TokenBucket

    now = [0.0]
    bucket = TokenBucket(rate=0.5, burst=2, clock=lambda: now[0])
    bucket.take("ip:1.2.3.4", "client 1.2.3.4")
    bucket.take("ip:1.2.3.4", "client 1.2.3.4")
    with pytest.raises(RateLimited) as refused:
        bucket.take("ip:1.2.3.4", "client 1.2.3.4")
    assert refused.value.retry_after == 2 and refused.value.status == 429
    bucket.take("ip:5.6.7.8", "client 5.6.7.8")  # other keys have their own bucket
    now[0] = 2.0  # one token back after 1 / rate seconds
    bucket.take("ip:1.2.3.4", "client 1.2.3.4")
    with pytest.raises(RateLimited):
        bucket.take("ip:1.2.3.4", "client 1.2.3.4")


def test_settings_refuse_a_wildcard_origin_and_default_to_the_own_origin():
    from api.errors import SettingsError
    from api.settings import Settings

    with pytest.raises(SettingsError, match="explicit origins"):
        Settings.from_env({"CITYPASS_API_CORS_ORIGINS": "https://a.example,*"})
    settings = Settings.from_env({"CITYPASS_API_PORT": "9000", "CITYPASS_API_PASSWORD": "pw"})
    assert settings.cors_allowed == ["http://127.0.0.1:9000", "http://localhost:9000"]
    assert "pw" not in repr(settings)
    for key, bad in (("FOLLOW_MODE", "fork"), ("POLL_INTERVAL", "0")):
        with pytest.raises(SettingsError, match=f"CITYPASS_API_{key}"):
            Settings.from_env({f"CITYPASS_API_{key}": bad})


def test_second_instance_without_follower_serves_and_stops_cleanly_on_sigterm(world: World):
    """--no-follow reads a read model another process keeps; SIGTERM exits 0 after 'stopped'."""
    import os
    import signal
    import subprocess
    import sys

    import requests

    from citypass.core.net import free_port
    from tests.api_helpers import API_PASSWORD
    from tests.oracle_helpers import ROOT, wait_until

    port = free_port()
    db = world.api.db_url
    command = [
        sys.executable, "-m", "api", "serve", "--no-follow", "--port", str(port),
        "--rpc-url", world.chain.node.url, "--db", db, "--deployment", str(world.deployment),
        "--data-dir", str(world.api.data_dir),
    ]  # fmt: skip
    env = {**os.environ, "CITYPASS_API_PASSWORD": API_PASSWORD}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:

        def health() -> dict | None:
            try:
                return requests.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except requests.RequestException:
                return None

        body = wait_until(health, timeout=30, interval=0.1)
        assert body["follower"] == "external" and body["followMode"] == "external"
        assert body["ok"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        lines = [line for line in process.stderr.read().splitlines() if line.startswith("{")]
        messages = [json.loads(line)["msg"] for line in lines]  # every line is JSON
        assert "stopped" in messages and messages[-1].startswith("Finished server process")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
