"""Registered vehicles over a real ledger node and a real citypass-api process: a resident
registers a plate (only its keyed-hash tags per KST month are stored), lists and deletes her
vehicles; a bad plate is refused with 422 naming the field and never echoed (not in the answer,
not in the API's log, not in its database); another resident cannot see or delete them; the
oracle's endpoint answers ORACLE accounts only; the secret file is 0600."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account

from api.vehicles.retention import VehicleRetention
from citypass.core.retention import DAY, sweep
from citypass.core.shredding import KeyTable
from citypass.core.timeunits import month_bounds, month_of
from citypass.protocol.plate_tags import GRAMMAR, load_month_keys, month_key, months_from, plate_tag
from citypass.protocol.roles import ROLES
from indexer.db import make_engine
from scripts._cli.api_client import StaffApi, sign_text
from tests.api_helpers import ApiServer, cli, error_of, start_api_server
from tests.oracle_helpers import Chain, start_chain

PLATE = "12가 3456"
OTHER_PLATE = "서울 34나-5678"
BAD_PLATES = ("12X3456", "가가1234", "1가3456", "77가123", "１２가3456", "서울123가4567")


@dataclass
class Garage:
    chain: Chain
    api: ApiServer
    alice: Any
    bob: Any


@pytest.fixture(scope="module")
def garage(tmp_path_factory):
    base = tmp_path_factory.mktemp("vehicles")
    chain = start_chain(base / "chain")
    _deployment, api = start_api_server(
        chain, base, CITYPASS_API_MAX_VEHICLES="2", CITYPASS_API_PLATE_MONTHS="3"
    )
    yield Garage(chain, api, Account.create(), Account.create())
    api.stop()
    chain.node.stop()


def _auth(api: ApiServer, account: Any) -> dict[str, str]:
    signed_in = StaffApi.sign_in(api.url, account.address, sign_text(account), scope="resident")
    return {"Authorization": f"Bearer {signed_in.token}"}


def _secret(api: ApiServer) -> bytes:
    return bytes.fromhex((api.data_dir / "plate-tag.key").read_text().strip())


def _month(garage: Garage) -> str:
    return month_of(int(garage.chain.w3.eth.get_block("latest")["timestamp"]))


def test_register_stores_the_tags_of_this_month_and_the_next_ones(garage):
    headers = _auth(garage.api, garage.alice)
    reply = garage.api.post("/v1/vehicles", json={"plate": PLATE}, headers=headers)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    months = months_from(_month(garage), 3)
    secret = _secret(garage.api)
    expected = [
        {"month": m, "tag": "0x" + plate_tag(month_key(secret, m), "12가3456").hex()}
        for m in months
    ]
    assert body["tags"] == expected
    assert len({t["tag"] for t in body["tags"]}) == 3  # months do not link
    listed = garage.api.get("/v1/vehicles", headers=headers).json()["vehicles"]
    assert listed == [body]
    assert "plate" not in reply.text and "3456" not in reply.text


def test_the_same_plate_again_renews_the_vehicle(garage):
    headers = _auth(garage.api, garage.alice)
    before = garage.api.get("/v1/vehicles", headers=headers).json()["vehicles"]
    again = garage.api.post("/v1/vehicles", json={"plate": "12가-3456"}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["vehicleId"] == before[0]["vehicleId"]
    assert len(garage.api.get("/v1/vehicles", headers=headers).json()["vehicles"]) == 1


def test_a_wallet_may_register_only_so_many_vehicles(garage):
    headers = _auth(garage.api, garage.alice)
    second = garage.api.post("/v1/vehicles", json={"plate": OTHER_PLATE}, headers=headers)
    assert second.status_code == 201, second.text
    third = garage.api.post("/v1/vehicles", json={"plate": "99배1234"}, headers=headers)
    assert error_of(third, 409)["code"] == "too_many_vehicles"
    gone = garage.api.request(
        "DELETE", f"/v1/vehicles/{second.json()['vehicleId']}", headers=headers
    )
    assert gone.status_code == 204, gone.text
    assert len(garage.api.get("/v1/vehicles", headers=headers).json()["vehicles"]) == 1


@pytest.mark.parametrize("plate", BAD_PLATES)
def test_a_bad_plate_is_refused_without_echo(garage, plate):
    reply = garage.api.post(
        "/v1/vehicles", json={"plate": plate}, headers=_auth(garage.api, garage.alice)
    )
    error = error_of(reply, 422)
    assert error["code"] == "validation"
    assert error["message"].startswith("plate: ") and "Korean plate" in error["message"]
    # One fixed message for every bad plate: nothing of the input comes back.
    assert error["message"] == "plate: Value error, must be " + GRAMMAR
    assert plate not in reply.text
    assert plate not in garage.api.log_path.read_text()


@pytest.mark.parametrize(
    "body, field",
    [({}, "plate"), ({"plate": 12}, "plate"), ({"plate": "1" * 40}, "plate"),
     ({"plate": PLATE, "colour": "red"}, "colour")],
)  # fmt: skip
def test_malformed_bodies_name_the_field(garage, body, field):
    reply = garage.api.post("/v1/vehicles", json=body, headers=_auth(garage.api, garage.alice))
    assert error_of(reply, 422)["message"].startswith(field + ":")


def test_without_a_session_every_vehicle_endpoint_answers_401(garage):
    for method, path in (("POST", "/v1/vehicles"), ("GET", "/v1/vehicles"),
                         ("DELETE", "/v1/vehicles/1")):  # fmt: skip
        reply = garage.api.request(method, path, json={"plate": PLATE})
        assert error_of(reply, 401)["code"] == "session_missing"


def test_another_resident_neither_sees_nor_deletes_them(garage):
    alice = _auth(garage.api, garage.alice)
    mine = garage.api.get("/v1/vehicles", headers=alice).json()["vehicles"]
    bob = _auth(garage.api, garage.bob)
    assert garage.api.get("/v1/vehicles", headers=bob).json() == {"vehicles": []}
    refused = garage.api.request("DELETE", f"/v1/vehicles/{mine[0]['vehicleId']}", headers=bob)
    assert error_of(refused, 404)["code"] == "no_such_vehicle"
    assert garage.api.get("/v1/vehicles", headers=alice).json()["vehicles"] == mine
    assert error_of(garage.api.request("DELETE", "/v1/vehicles/0", headers=alice), 422)


def test_the_oracle_reads_a_lessees_tags_of_a_month(garage):
    oracle = garage.chain.people.oracle
    headers = _auth(garage.api, oracle)
    month = _month(garage)
    path = f"/v1/oracle/vehicle-tags/{garage.alice.address}"
    reply = garage.api.get(path, params={"month": month}, headers=headers)
    assert reply.status_code == 200, reply.text
    secret = _secret(garage.api)
    assert reply.json() == {
        "address": garage.alice.address, "month": month,
        "tags": ["0x" + plate_tag(month_key(secret, month), "12가3456").hex()],
    }  # fmt: skip
    far = garage.api.get(path, params={"month": "2099-01"}, headers=headers).json()
    assert far["tags"] == []
    bad = garage.api.get(path, params={"month": "2026-13"}, headers=headers)
    assert error_of(bad, 422)["message"].startswith("month:")
    assert error_of(garage.api.get(path), 401)["code"] == "session_missing"


def test_the_oracle_endpoint_refuses_everyone_else(garage):
    path = f"/v1/oracle/vehicle-tags/{garage.alice.address}"
    for who in (garage.alice, garage.bob, garage.chain.people.admin):
        reply = garage.api.get(path, headers=_auth(garage.api, who))
        assert error_of(reply, 403)["code"] == "missing_role"


def test_the_secret_is_private_and_no_plate_is_stored_or_logged(garage):
    path = garage.api.data_dir / "plate-tag.key"
    assert path.stat().st_mode & 0o777 == 0o600
    secret_hex = path.read_text().strip()
    log = garage.api.log_path.read_text()
    assert secret_hex not in log
    db = garage.api.db_url.removeprefix("sqlite:///")
    raw = open(db, "rb").read()  # noqa: SIM115 - the whole file, as a leak check reads it
    with sqlite3.connect(db) as conn:
        dumped = "\n".join(conn.iterdump())
    for plate in (PLATE, "12가3456", OTHER_PLATE, "서울34나5678"):
        assert plate not in log and plate not in dumped
        assert plate.encode() not in raw
    assert "vehicle registered" in log


def test_plate_keys_provisions_month_keys_never_the_secret(garage, tmp_path):
    out = tmp_path / "edge" / "plate-keys.json"
    made = cli("plate-keys", "--data-dir", str(garage.api.data_dir), "--out", str(out),
               "--from", "2026-12", "--months", "2")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout.split() == ["2026-12", "2027-01"]
    secret = _secret(garage.api)
    assert load_month_keys(out) == {m: month_key(secret, m) for m in ("2026-12", "2027-01")}
    assert out.stat().st_mode & 0o777 == 0o600
    assert secret.hex() not in out.read_text()
    # A month later: the past month is dropped, the kept one stays, the new one is added.
    later = cli("plate-keys", "--data-dir", str(garage.api.data_dir), "--out", str(out),
                "--from", "2027-01", "--months", "2")  # fmt: skip
    assert later.stdout.split() == ["2027-01", "2027-02"]


@pytest.mark.parametrize(
    "args, message",
    [(["--months", "0"], "--months 0 is out of range: use 1 … 12"),
     (["--from", "2026-13"], "--from: month '2026-13' must be written YYYY-MM"),
     (["--data-dir", "/nonexistent/api"], "plate-tag.key does not exist")],
)  # fmt: skip
def test_plate_keys_refuses_bad_arguments(garage, tmp_path, args, message):
    base = ["plate-keys", "--data-dir", str(garage.api.data_dir), "--out", str(tmp_path / "k")]
    made = cli(*base, *args)
    assert made.returncode == 1
    assert made.stderr.startswith("error: ") and message in made.stderr
    assert not (tmp_path / "k").exists()


# ------------------------------------------------------------------------------ retention


def _register(garage: Garage, account: Any, plate: str) -> dict:
    reply = garage.api.post(
        "/v1/vehicles", json={"plate": plate}, headers=_auth(garage.api, account)
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def _db_bytes(garage: Garage) -> bytes:
    db = garage.api.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        dumped = "\n".join(conn.iterdump())
    return open(db, "rb").read() + dumped.encode()  # noqa: SIM115 - the whole file


def _auditor(garage: Garage) -> dict[str, str]:
    auditor = Account.create()
    garage.chain.system.access.grantRole(
        ROLES["AUDITOR"], auditor.address, {"from": garage.chain.people.admin}
    )
    return _auth(garage.api, auditor)


def test_tags_are_sealed_and_a_residents_deletion_shreds_them_with_a_record(garage):
    carol = Account.create()
    vehicle = _register(garage, carol, "31다 7777")
    tags = [bytes.fromhex(t["tag"][2:]) for t in vehicle["tags"]]
    stored = _db_bytes(garage)
    # Sealed under the vehicle's own data key: neither the tag's bytes nor its hex are stored.
    for tag in tags:
        assert tag not in stored and tag.hex().encode() not in stored
    keys = KeyTable.open(garage.api.data_dir / "keys.sqlite", "test")
    try:
        assert {k.subject for k in keys.keys("vehicle")} >= {str(vehicle["vehicleId"])}
        gone = garage.api.request(
            "DELETE", f"/v1/vehicles/{vehicle['vehicleId']}", headers=_auth(garage.api, carol)
        )
        assert gone.status_code == 204, gone.text
        assert str(vehicle["vehicleId"]) not in {k.subject for k in keys.keys("vehicle")}
    finally:
        keys.close()
    records = garage.api.get(
        "/v1/retention/deletions", params={"kind": "vehicle"}, headers=_auditor(garage)
    )
    assert records.status_code == 200, records.text
    mine = [d for d in records.json()["deletions"] if d["subject"] == str(vehicle["vehicleId"])]
    assert len(mine) == 1 and mine[0]["reason"] == "request"
    assert mine[0]["rule"] == "resident_deleted_vehicle"
    refused = garage.api.get(
        "/v1/retention/deletions", params={"kind": "vehicle"}, headers=_auth(garage.api, carol)
    )
    assert error_of(refused, 403)["code"] == "missing_role"


def test_the_sweep_shreds_a_vehicle_a_day_after_its_last_month(garage):
    dave = Account.create()
    vehicle = _register(garage, dave, "45라 1234")
    last = max(t["month"] for t in vehicle["tags"])
    ended = month_bounds(last)[1]
    engine = make_engine(garage.api.db_url)
    keys = KeyTable.open(garage.api.data_dir / "keys.sqlite", "test-sweep")
    kind = VehicleRetention(engine, keys, days_after_last_month=1)
    try:
        early = sweep(keys, [kind], now=ended + DAY - 60)
        assert str(vehicle["vehicleId"]) not in {s["subject"] for s in early.shredded}
        oracle = _auth(garage.api, garage.chain.people.oracle)
        path = f"/v1/oracle/vehicle-tags/{dave.address}"
        assert garage.api.get(path, params={"month": last}, headers=oracle).json()["tags"]
        done = sweep(keys, [kind], now=ended + DAY + 60)
        assert str(vehicle["vehicleId"]) in {s["subject"] for s in done.shredded}
        # Gone for her and for the oracle; the deletion record names the rule and the period.
        assert garage.api.get("/v1/vehicles", headers=_auth(garage.api, dave)).json() == {
            "vehicles": []
        }
        assert garage.api.get(path, params={"month": last}, headers=oracle).json()["tags"] == []
        record = keys.deleted("vehicle", str(vehicle["vehicleId"]))
        assert record is not None and record.reason == "retention"
        assert (record.rule, record.period_days) == ("vehicle_months_ended", 1)
    finally:
        keys.close()
        engine.dispose()
