"""Evidence retention by crypto-shredding, on real evidence store directories and real SQLite:
objects past their period become unreadable and leave a deletion record; objects within it, of
open incidents, or on hold survive; a release lets the next sweep shred; format-1 objects are
swept too; a sweep killed with SIGKILL leaves every object readable or shredded-and-recorded.

The incidents' review status is given here as the chain would answer it (IncidentFacts);
test_evidence_retention_chain.py reads it from a real ledger node through the CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from citypass.core.retention import DAY, sweep
from oracles.config import load_settings
from oracles.errors import ConfigError
from oracles.evidence import EvidenceConfig, open_store
from oracles.evidence.errors import EvidenceShredded
from oracles.evidence.retention import EvidencePeriods, EvidenceRetention, IncidentFacts
from oracles.evidence.sealing import FORMAT_VERSION, seal
from oracles.evidence.store import KIND, key_table_path
from oracles.inbox import Inbox
from oracles.sweep import sweep_evidence
from tests.oracle_helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
PERIODS = EvidencePeriods(dismissed_days=30, confirmed_days=365, unanchored_days=30)
NOW = time.time()


def image(n: int) -> bytes:
    return b"\xff\xd8\xff\xe0JFIF-bay-" + str(n).encode() * 50


def files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "evidence" / "objects").rglob("*") if p.is_file()]


def retention(store, facts: dict[bytes, list[IncidentFacts]]) -> EvidenceRetention:
    return EvidenceRetention(store, PERIODS, lambda: facts)


def dismissed(incident_id: int, days_ago: float) -> IncidentFacts:
    return IncidentFacts(incident_id, "DISMISSED", int(NOW - days_ago * DAY))


def test_shreds_past_retention_and_keeps_the_rest(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as store:
        old, recent, confirmed, still_open = (store.put(image(i)) for i in range(4))
        facts = {
            old.content_hash: [dismissed(1, 31)],
            recent.content_hash: [dismissed(2, 29)],
            confirmed.content_hash: [IncidentFacts(3, "CONFIRMED", int(NOW - 100 * DAY))],
            still_open.content_hash: [IncidentFacts(4, "OPEN", 0)],
        }
        kind = retention(store, facts)

        listed = sweep(store.keys, [kind], NOW, dry_run=True)
        assert [e["subject"] for e in listed.shredded] == [old.cid.text]
        assert store.get(old.cid) == image(0)  # a dry run changes nothing
        assert store.keys.deletions() == []

        report = sweep(store.keys, [kind], NOW)
        assert [e["subject"] for e in report.shredded] == [old.cid.text]
        with pytest.raises(EvidenceShredded, match="deletion record 1") as err:
            store.get(old.cid)
        assert err.value.reason == "shredded"
        for kept, n in ((recent, 1), (confirmed, 2), (still_open, 3)):
            assert store.get(kept.cid) == image(n)
        (record,) = store.keys.deletions()
        assert (record.kind, record.subject, record.reason) == (KIND, old.cid.text, "retention")
        assert (record.rule, record.period_days) == ("dismissed_incident", 30)
        assert record.process == "citypass-oracle"
        assert abs(record.deleted_at - time.time()) < 60
        assert not store.backend.has(old.cid)  # the ciphertext went too
        assert len(files(tmp_path)) == 3
        # A second sweep finds nothing more and writes no second record.
        assert sweep(store.keys, [kind], NOW).shredded == []
        assert len(store.keys.deletions()) == 1
        # The same still arriving again is stored anew, not answered with the shredded CID.
        again = store.put(image(0))
        assert again.cid != old.cid and store.get(again.cid) == image(0)

    # No data key is left for the shredded object, and the table holds no plaintext.
    table = key_table_path(tmp_path).read_bytes()
    assert b"JFIF" not in table


def test_a_hold_keeps_evidence_until_released(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as store:
        held = store.put(image(7))
        kind = retention(store, {held.content_hash: [dismissed(9, 400)]})
        store.keys.set_hold(KIND, held.cid.text, held=True, actor="0xInspector",
                            reason_code="APPEAL_PENDING")  # fmt: skip
        report = sweep(store.keys, [kind], NOW)
        assert report.shredded == [] and [e["subject"] for e in report.held] == [held.cid.text]
        assert store.get(held.cid) == image(7)

        store.keys.set_hold(KIND, held.cid.text, held=False, actor="0xInspector",
                            reason_code="APPEAL_CLOSED")  # fmt: skip
        assert [e["subject"] for e in sweep(store.keys, [kind], NOW).shredded] == [held.cid.text]
        with pytest.raises(EvidenceShredded):
            store.get(held.cid)
        history = store.keys.hold_history(KIND, held.cid.text)
        assert [(h.action, h.reason_code) for h in history] == [
            ("hold", "APPEAL_PENDING"), ("release", "APPEAL_CLOSED"),
        ]  # fmt: skip


def test_evidence_of_several_incidents_waits_for_the_longest(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as store:
        shared = store.put(image(3))
        facts = {
            shared.content_hash: [
                dismissed(1, 40),
                IncidentFacts(2, "CONFIRMED", int(NOW - 40 * DAY)),
            ]
        }
        assert sweep(store.keys, [retention(store, facts)], NOW).shredded == []
        facts = {shared.content_hash: [dismissed(1, 400), dismissed(2, 31)]}
        assert len(sweep(store.keys, [retention(store, facts)], NOW).shredded) == 1


def test_unanchored_and_format_1_objects_are_swept(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as store:
        fresh = store.put(image(1))
        # A format-1 object (operator key only), indexed as the old store did, 31 days ago.
        legacy_plain = image(2)
        cid = store.backend.put(seal(store._key, legacy_plain))
        store._db.execute(
            "INSERT INTO evidence VALUES (?, ?, ?, ?, ?)",
            (__import__("hashlib").sha256(legacy_plain).digest(), cid.text, len(legacy_plain),
             0, int((NOW - 31 * DAY) * 1000)),
        )  # fmt: skip
        assert store.backend.get(cid)[4] == FORMAT_VERSION
        assert store.get(cid) == legacy_plain  # old objects stay readable
        report = sweep(store.keys, [retention(store, {})], NOW)
        assert [(e["subject"], e["rule"]) for e in report.shredded] == [
            (cid.text, "unanchored_evidence")
        ]
        with pytest.raises(EvidenceShredded):
            store.get(cid)
        assert store.get(fresh.cid) == image(1)  # stored now: 30 days to go


def test_a_failure_after_the_key_is_destroyed_leaves_it_shredded_and_recorded(tmp_path):
    """The injected failure sits between the two steps: key destroyed + record (one
    transaction), then the ciphertext's removal. The object is already unreadable; the next
    sweep removes the leftover without a second record."""
    with open_store(EvidenceConfig(tmp_path)) as store:
        old = store.put(image(5))
        kind = retention(store, {old.content_hash: [dismissed(1, 31)]})
        real_delete = store.backend.delete

        def failing(cid):
            raise OSError("disk unplugged")

        store.backend.delete = failing
        report = sweep(store.keys, [kind], NOW)
        assert report.erase_failures == 1 and len(report.shredded) == 1
        assert store.backend.has(old.cid)  # the ciphertext is still there, unreadable
        with pytest.raises(EvidenceShredded):
            store.get(old.cid)
        store.backend.delete = real_delete
        assert sweep(store.keys, [kind], NOW).shredded == []
        assert not store.backend.has(old.cid)
        assert len(store.keys.deletions()) == 1


def test_unbound_keys_are_removed_as_orphans(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as store:
        orphan = store.keys.create(KIND)  # as if `put` crashed before storing its object
        report = sweep(store.keys, [retention(store, {})], NOW + 2 * DAY)
        assert [(e["subject"], e["reason"]) for e in report.shredded] == [
            (f"key:{orphan.key_id}", "orphan")
        ]
        assert store.keys.key(KIND, orphan.key_id) is None


def test_deletion_and_hold_records_are_append_only(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as store:
        old = store.put(image(6))
        sweep(store.keys, [retention(store, {old.content_hash: [dismissed(1, 99)]})], NOW)
        store.keys.set_hold(KIND, "x", held=True, actor="a", reason_code="R")
    db = sqlite3.connect(key_table_path(tmp_path))
    for statement in ("UPDATE deletions SET reason = 'x'", "DELETE FROM deletions",
                      "DELETE FROM hold_events"):  # fmt: skip
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()


KILLED_SWEEP = """
import sys, time
from pathlib import Path
from citypass.core.retention import sweep
from oracles.evidence import EvidenceConfig, open_store
from oracles.evidence.retention import EvidencePeriods, EvidenceRetention, IncidentFacts
store = open_store(EvidenceConfig(Path(sys.argv[1])))
facts = {e.content_hash: [IncidentFacts(1, "DISMISSED", 1)] for e in store.entries()}
print("sweeping", flush=True)
sweep(store.keys, [EvidenceRetention(store, EvidencePeriods(), lambda: facts)], time.time())
"""


def test_a_sweep_killed_with_sigkill_leaves_each_object_readable_or_shredded(tmp_path):
    count = 300
    with open_store(EvidenceConfig(tmp_path)) as store:
        stored = [store.put(image(i)) for i in range(count)]
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_SWEEP, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE
    )
    db = sqlite3.connect(key_table_path(tmp_path))

    def started() -> bool:
        assert process.poll() is None, "the sweep ended before it was killed"
        return db.execute("SELECT count(*) FROM deletions").fetchone()[0] >= 5

    wait_until(started, timeout=60, interval=0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    db.close()
    with open_store(EvidenceConfig(tmp_path)) as store:
        recorded = {d.subject for d in store.keys.deletions(limit=count)}
        assert 5 <= len(recorded) < count, "the kill should land mid-sweep"
        for i, item in enumerate(stored):
            if item.cid.text in recorded:
                with pytest.raises(EvidenceShredded):
                    store.get(item.cid)
            else:
                assert store.get(item.cid) == image(i)


@pytest.mark.parametrize(
    ("value", "says"),
    [("-1", "positive number of days"), ("0", "positive number of days"),
     ("thirty", "not a valid number"), ("nan", "")],
)  # fmt: skip
def test_bad_retention_periods_are_config_errors_naming_the_variable(value, says):
    env = {
        "CITYPASS_ORACLE_RETAIN_DISMISSED_DAYS": value,
        "CITYPASS_ORACLE_DEVICE_REGISTRY": "0x" + "11" * 20,
        "CITYPASS_ORACLE_OCCUPANCY_ORACLE": "0x" + "22" * 20,
        "CITYPASS_ORACLE_INCIDENT_REGISTRY": "0x" + "33" * 20,
    }
    with pytest.raises(ConfigError, match="CITYPASS_ORACLE_RETAIN_DISMISSED_DAYS") as err:
        load_settings(env=env)
    assert says in str(err.value)
    good = load_settings(env={**env, "CITYPASS_ORACLE_RETAIN_DISMISSED_DAYS": "0.5"})
    assert good.retain_dismissed_days == 0.5 and good.retain_confirmed_days == 365


class _ChainWithoutIncidents:
    """The chain's answer while the daemon's incidents are still on their way: none filed."""

    def incident_index(self) -> dict[bytes, list[IncidentFacts]]:
        return {}


def test_evidence_of_an_incident_not_filed_yet_is_kept_past_the_unanchored_period(tmp_path):
    """The node down longer than the unanchored period: the still of an incident waiting in
    the daemon's inbox is not unanchored, its incident is on its way; a still no event names
    is. Once the incident is filed (and so on chain), its own rules apply."""
    settings = load_settings(
        env={
            "CITYPASS_ORACLE_RETAIN_UNANCHORED_DAYS": "0.00001",  # under a second
            "CITYPASS_ORACLE_DEVICE_REGISTRY": "0x" + "11" * 20,
            "CITYPASS_ORACLE_OCCUPANCY_ORACLE": "0x" + "22" * 20,
            "CITYPASS_ORACLE_INCIDENT_REGISTRY": "0x" + "33" * 20,
        }
    )
    inbox = Inbox(tmp_path / "inbox.sqlite")
    with open_store(EvidenceConfig(tmp_path)) as store:
        awaited, plate_read, loose = (store.put(image(i)) for i in range(3))
        events = []
        for n, still in enumerate((awaited, plate_read)):
            event_id = bytes([n + 1]) * 32
            events.append((event_id, bytes(32), "cam-1", n + 1, "illegal_parking", "camera",
                           7, 1_000 + n, 1, 9_000, 37_500_000, 126_780_000, "car",
                           still.content_hash, still.cid.binary))  # fmt: skip
        inbox.commit_batch(events, [], {"cam-1": 2}, [events[0][0]],
                           plate_reads=[(events[1][0], b"\x01" * 32)])  # fmt: skip
        assert inbox.awaiting_evidence() == {awaited.content_hash, plate_read.content_hash}

        later = time.time() + 5
        report = sweep_evidence(store, _ChainWithoutIncidents(), settings, later,
                                awaiting=inbox.awaiting_evidence())  # fmt: skip
        assert [e["subject"] for e in report.shredded] == [loose.cid.text]
        assert store.get(awaited.cid) == image(0) and store.get(plate_read.cid) == image(1)

        inbox.incidents_filed([events[0][0]], "0x" + "ab" * 32)
        inbox.plate_read_done(events[1][0], "matched", 3)
        assert inbox.awaiting_evidence() == set()
        # Filed, yet not on chain (another network's registry): unanchored again, and due.
        report = sweep_evidence(store, _ChainWithoutIncidents(), settings, later,
                                awaiting=inbox.awaiting_evidence())  # fmt: skip
        assert sorted(e["subject"] for e in report.shredded) == sorted(
            [awaited.cid.text, plate_read.cid.text]
        )
    inbox.close()
