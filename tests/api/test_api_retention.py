"""Retention through a real citypass-api process over a real ledger node and real SQLite: an
application's personal fields are encrypted at rest (a planted name and phone are absent from
the database files) and shredded by `citypass-api sweep` once past their period; the deletion
records are served to auditors (and evidence's to inspectors) and refused to others; an
inspector puts an incident's evidence (in a real evidence store directory, the oracle daemon's)
on hold and releases it, and the evidence sweep honours both."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from api.applications.tables import applications, create_tables
from citypass.core.retention import DAY, sweep
from citypass.protocol.roles import ROLES
from indexer.db import make_engine
from oracles.evidence import EvidenceConfig, open_store
from oracles.evidence.errors import EvidenceShredded
from oracles.evidence.retention import EvidencePeriods, EvidenceRetention, IncidentFacts
from oracles.ledger import Ledger
from scripts._cli.api_client import StaffApi, sign_text
from tests.api_helpers import ApiServer, cli, error_of, start_api_server
from tests.oracle_helpers import Chain, start_chain, wait_until
from tests.siwe_helpers import bearer

NAME, PHONE = "Ryu Planted-Seoyeon", "01098765432"  # the API keeps the digits
APPLICATION = {"name": NAME, "phone": "010-9876-5432", "homeAddress": "7 Sangsalmi-gil, Maeul",
               "privacyConsent": True}  # fmt: skip
LEGACY_NAME = "Old Clear-Name Baek"
IMAGE = b"\xff\xd8\xff\xe0JFIF-held-evidence-" * 100


@dataclass
class World:
    chain: Chain
    api: ApiServer
    base: Path
    oracle_dir: Path
    staff: Any  # VILLAGE_ENTERPRISE
    auditor: Any
    inspector: Any
    incident_id: int
    evidence: Any  # StoredEvidence

    def headers(self, account: Any) -> dict[str, str]:
        return bearer(self.api.url, self.chain.chain_id, account)

    def sweep_env(self, days: str) -> dict[str, str]:
        return {"CITYPASS_API_RETAIN_REJECTED_APPLICATION_DAYS": days}

    def cli_sweep(self, *args: str, days: str = "0.00001") -> Any:
        return cli("sweep", "--db", f"sqlite:///{self.base / 'readmodel.db'}",
                   "--data-dir", str(self.api.data_dir), *args, env=self.sweep_env(days))  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("retention")
    chain = start_chain(base / "chain")
    oracle_dir = base / "oracle"
    with open_store(EvidenceConfig(oracle_dir)) as store:  # the oracle daemon's store
        stored = store.put(IMAGE)
    admin = {"from": chain.people.admin}
    staff, auditor, inspector = Account.create(), Account.create(), Account.create()
    for account, role in ((staff, "VILLAGE_ENTERPRISE"), (auditor, "AUDITOR"),
                          (inspector, "INSPECTOR")):  # fmt: skip
        chain.system.access.grantRole(ROLES[role], account.address, admin)
    chain.system.incidents.reportIncident(
        (0, 0, 37_503_000, 126_787_000, chain.head_time() - 60, 9_000, b"\x01" * 32,
         stored.content_hash, stored.cid.binary),
        {"from": chain.people.oracle},
    )  # fmt: skip
    incident_id = chain.contract("incidents").functions.incidentCount().call()
    _plant_legacy_application(base / "readmodel.db")
    _deployment, api = start_api_server(
        chain, base, CITYPASS_API_POLL_INTERVAL="0.1", CITYPASS_API_EVIDENCE_DIR=str(oracle_dir),
        CITYPASS_API_RETENTION_SWEEP_SECONDS="1",
    )  # fmt: skip
    wait_until(lambda: api.get("/health").json()["indexedBlock"] >= chain.w3.eth.block_number)
    yield World(chain, api, base, oracle_dir, staff, auditor, inspector, incident_id, stored)
    api.stop()
    chain.node.stop()


def _plant_legacy_application(db: Path) -> None:
    """A row as an API from before per-application keys stored it: the fields in clear."""
    engine = make_engine(f"sqlite:///{db}")
    create_tables(engine)
    with engine.begin() as conn:
        conn.execute(applications.insert().values(
            address=Account.create().address, status="PENDING", name=LEGACY_NAME,
            phone="01055550000", home_address="1 Old-gil", submitted_at=time.time(),
        ))  # fmt: skip
    engine.dispose()
    assert LEGACY_NAME.encode() in b"".join(p.read_bytes() for p in db.parent.glob("readmodel*"))


def _apply(world: World, resident: Any) -> dict:
    signed_in = StaffApi.sign_in(world.api.url, resident.address, sign_text(resident),
                                 scope="resident")  # fmt: skip
    headers = {"Authorization": f"Bearer {signed_in.token}"}
    reply = world.api.post("/v1/applications", json=APPLICATION, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()


def _database_bytes(world: World) -> bytes:
    files = list(world.base.glob("readmodel.db*")) + list(world.api.data_dir.glob("keys.sqlite*"))
    assert files
    return b"".join(p.read_bytes() for p in files)


def _application(world: World, application_id: int) -> dict:
    reply = world.api.get(f"/v1/applications/{application_id}", headers=world.headers(world.staff))
    assert reply.status_code == 200, reply.text
    return reply.json()


# ---------------------------------------------------------------------------- applications


def test_personal_fields_are_encrypted_at_rest_and_shredded_after_their_period(world):
    rejected = _apply(world, Account.create())
    pending = _apply(world, Account.create())
    assert (rejected["name"], rejected["phone"]) == (NAME, PHONE)  # served to its applicant
    stored = _database_bytes(world)
    for planted in (NAME, PHONE, "9876-5432", "Sangsalmi"):
        assert planted.encode() not in stored
        assert planted.encode("utf-16-le") not in stored
    staff = world.headers(world.staff)
    reply = world.api.post(f"/v1/staff/applications/{rejected['applicationId']}/reject",
                           json={"reasonCode": "NOT_RESIDENT"}, headers=staff)  # fmt: skip
    assert reply.status_code == 200, reply.text

    # Within the period (the default 30 days): nothing is due.
    kept = world.cli_sweep("--dry-run", days="30")
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["shredded"] == []

    listed = world.cli_sweep("--dry-run")
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    assert report["dryRun"] is True
    assert [e["subject"] for e in report["shredded"]] == [str(rejected["applicationId"])]
    assert _application(world, rejected["applicationId"])["name"] == NAME  # unchanged

    done = world.cli_sweep()
    assert done.returncode == 0, done.stderr
    assert [e["rule"] for e in json.loads(done.stdout)["shredded"]] == ["rejected_application"]
    gone = _application(world, rejected["applicationId"])
    assert gone["personalDeleted"] is True
    assert (gone["name"], gone["phone"], gone["homeAddress"]) == (None, None, None)
    assert (gone["status"], gone["reasonCode"]) == ("REJECTED", "NOT_RESIDENT")
    assert _application(world, pending["applicationId"])["name"] == NAME  # still pending
    again = world.cli_sweep()
    assert json.loads(again.stdout)["shredded"] == []  # one deletion, one record
    # The running API counts the records (the CLI's too) on /metrics.
    counted = 'kind="application",reason="retention"'
    wait_until(lambda: world.api.metric("citypass_api_deletion_records", counted) == 1)


def test_applications_stored_in_clear_before_are_sealed_when_the_api_starts(world):
    stored = _database_bytes(world)
    assert LEGACY_NAME.encode() not in stored and b"01055550000" not in stored
    listed = world.api.get("/v1/staff/applications", headers=world.headers(world.staff)).json()
    (legacy,) = [a for a in listed["applications"] if a["name"] == LEGACY_NAME]
    assert legacy["phone"] == "01055550000" and legacy["personalDeleted"] is False


def test_the_deletion_records_are_for_auditors(world):
    path = "/v1/retention/deletions?kind=application"
    assert error_of(world.api.get(path), 401)["code"] == "session_missing"
    outsider = Account.create()
    stranger = bearer(world.api.url, world.chain.chain_id, outsider, scope="resident")
    assert error_of(world.api.get(path, headers=stranger), 403)["code"] == "missing_role"
    assert "AUDITOR" in error_of(world.api.get(path, headers=world.headers(world.inspector)),
                               403)["message"]  # fmt: skip
    wait_until(lambda: world.api.get(path, headers=world.headers(world.auditor)).json()
               ["deletions"])  # fmt: skip
    reply = world.api.get(path, headers=world.headers(world.auditor))
    assert reply.status_code == 200, reply.text
    (record,) = [d for d in reply.json()["deletions"] if d["reason"] == "retention"]
    assert (record["kind"], record["rule"], record["process"]) == (
        "application", "rejected_application", "citypass-api",
    )  # fmt: skip
    assert record["periodDays"] == 0.00001 and record["deletedAt"].endswith("+09:00")
    assert NAME not in reply.text and PHONE not in reply.text
    after = world.api.get(f"{path}&after={record['seq']}", headers=world.headers(world.auditor))
    assert record["seq"] not in [d["seq"] for d in after.json()["deletions"]]
    auditor = world.headers(world.auditor)
    for bad in ("kind=bogus", "kind=application&after=-1", "kind=application&limit=0",
                "kind=application&limit=501", ""):  # fmt: skip
        error = error_of(world.api.get(f"/v1/retention/deletions?{bad}", headers=auditor), 422)
        assert error["code"] == "validation"


def test_the_api_sweeps_by_itself(world):
    wait_until(lambda: any(line.get("msg") == "retention sweep"
                           for line in world.api.log_lines()), timeout=20)  # fmt: skip


def test_a_bad_retention_period_is_a_clear_error():
    for variable in ("CITYPASS_API_RETAIN_REJECTED_APPLICATION_DAYS",
                     "CITYPASS_API_RETAIN_VEHICLE_DAYS"):  # fmt: skip
        for value in ("-3", "0", "soon"):
            failed = cli("sweep", env={variable: value})
            assert failed.returncode == 1
            assert failed.stderr.startswith("error: ")
            assert variable in failed.stderr
    helped = cli("sweep", "--help")
    assert helped.returncode == 0 and "--dry-run" in helped.stdout


# ------------------------------------------------------------------------------ evidence


def _evidence_sweep(world: World, reviewed_days_ago: float) -> list[str]:
    """The oracle daemon's sweep over its store, the incident dismissed that long ago."""
    with open_store(EvidenceConfig(world.oracle_dir)) as store:
        facts = {
            world.evidence.content_hash: [
                IncidentFacts(
                    world.incident_id, "DISMISSED", int(time.time() - reviewed_days_ago * DAY)
                )
            ]
        }
        kind = EvidenceRetention(store, EvidencePeriods(), lambda: facts)
        return [e["subject"] for e in sweep(store.keys, [kind], time.time()).shredded]


def _readable(world: World) -> bool:
    with open_store(EvidenceConfig(world.oracle_dir)) as store:
        try:
            return store.get(world.evidence.cid) == IMAGE
        except EvidenceShredded:
            return False


def test_the_chain_reader_finds_the_incident_open(world):
    system = world.chain.system
    ledger = Ledger(world.chain.node.url, system.devices.address, system.occupancy.address,
                    system.incidents.address)  # fmt: skip
    (facts,) = ledger.incident_index()[world.evidence.content_hash]
    assert (facts.incident_id, facts.status, facts.reviewed_at) == (world.incident_id, "OPEN", 0)


def test_an_inspector_and_an_auditor_see_the_evidence_and_nobody_else(world):
    path = f"/v1/inspector/incidents/{world.incident_id}/evidence"
    for reader in (world.inspector, world.auditor):
        seen = world.api.get(path, headers=world.headers(reader))
        assert seen.status_code == 200, seen.text
        assert seen.content == IMAGE and seen.headers["content-type"] == "image/jpeg"
        assert seen.headers["cache-control"] == "no-store"
    assert error_of(world.api.get(path), 401)["code"] == "session_missing"
    # Staff of another role, and a resident's own wallet session.
    assert error_of(world.api.get(path, headers=world.headers(world.staff)), 403)["code"] == (
        "missing_role"
    )
    resident = Account.create()
    signed_in = StaffApi.sign_in(world.api.url, resident.address, sign_text(resident),
                                 scope="resident")  # fmt: skip
    as_resident = world.api.get(path, headers={"Authorization": f"Bearer {signed_in.token}"})
    assert as_resident.status_code == 403, as_resident.text
    unknown = world.api.get("/v1/inspector/incidents/999999/evidence",
                            headers=world.headers(world.inspector))  # fmt: skip
    assert error_of(unknown, 404)["code"] == "unknown_incident"


def test_an_inspector_holds_and_releases_an_incidents_evidence(world):
    base = f"/v1/inspector/incidents/{world.incident_id}"
    inspector = world.headers(world.inspector)
    cid = world.evidence.cid.text
    status = world.api.get(f"{base}/hold", headers=inspector).json()
    assert (status["evidenceCid"], status["held"], status["history"]) == (cid, False, [])

    held = world.api.post(f"{base}/hold", json={"reasonCode": "APPEAL"}, headers=inspector)
    assert held.status_code == 200, held.text
    assert held.json()["held"] is True
    (event,) = held.json()["history"]
    assert (event["action"], event["by"], event["reasonCode"]) == (
        "hold", world.inspector.address, "APPEAL",
    )  # fmt: skip
    again = world.api.post(f"{base}/hold", json={"reasonCode": "APPEAL"}, headers=inspector)
    assert error_of(again, 409)["code"] == "already_held"

    assert _evidence_sweep(world, reviewed_days_ago=400) == []  # held: kept
    assert _readable(world)

    released = world.api.post(f"{base}/release", json={"reasonCode": "APPEAL_CLOSED"},
                              headers=inspector)  # fmt: skip
    assert released.status_code == 200 and released.json()["held"] is False
    assert [h["action"] for h in released.json()["history"]] == ["hold", "release"]
    twice = world.api.post(f"{base}/release", json={"reasonCode": "APPEAL_CLOSED"},
                           headers=inspector)  # fmt: skip
    assert error_of(twice, 409)["code"] == "not_held"

    assert _evidence_sweep(world, reviewed_days_ago=400) == [cid]
    assert not _readable(world)
    after = world.api.get(f"{base}/hold", headers=inspector).json()
    assert after["deleted"]["subject"] == cid and after["deleted"]["rule"] == "dismissed_incident"
    late = world.api.post(f"{base}/hold", json={"reasonCode": "APPEAL"}, headers=inspector)
    assert error_of(late, 409)["code"] == "evidence_deleted"
    records = world.api.get("/v1/retention/deletions?kind=evidence", headers=inspector).json()
    assert [d["subject"] for d in records["deletions"]] == [cid]
    gone = world.api.get(f"{base}/evidence", headers=inspector)
    assert error_of(gone, 410)["code"] == "evidence_deleted"


def test_holds_refuse_bad_input_and_other_roles(world):
    base = f"/v1/inspector/incidents/{world.incident_id}"
    inspector = world.headers(world.inspector)
    assert error_of(world.api.post(f"{base}/hold", json={"reasonCode": "APPEAL"}), 401)
    by_auditor = world.api.post(f"{base}/hold", json={"reasonCode": "APPEAL"},
                                headers=world.headers(world.auditor))  # fmt: skip
    assert error_of(by_auditor, 403)["code"] == "missing_role"
    for body in ({"reasonCode": "because I said so"}, {}, {"reasonCode": "APPEAL", "note": "x"},
                 {"reasonCode": "APPEAL_CLOSED"}):  # fmt: skip
        assert error_of(world.api.post(f"{base}/hold", json=body, headers=inspector), 422)
    unknown = world.api.post("/v1/inspector/incidents/999999/hold", json={"reasonCode": "APPEAL"},
                             headers=inspector)  # fmt: skip
    assert error_of(unknown, 404)["code"] == "unknown_incident"
    assert error_of(world.api.get("/v1/inspector/incidents/0/hold", headers=inspector), 422)
