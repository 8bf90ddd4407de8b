"""Normaliser: state changes → park_start / park_end, duplicates dropped, heartbeats,
comms_lost / comms_restored, decommissioned, camera incidents with evidence; the outbox's
atomic sequences and persisted sensor state."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account

from citypass.protocol.sensor_events import EventDomain
from edge_oracle.devices import DeviceKey, KeyRing
from edge_oracle.errors import OutboxError
from edge_oracle.normaliser import Draft, Normaliser
from edge_oracle.outbox import Outbox
from edge_oracle.readings import CameraDetection, SlotReading

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_795_964_400_000
KEY = bytes.fromhex("c3" * 32)  # THROWAWAY TEST KEY
DOMAIN = EventDomain(82032, "0x" + "56" * 20)


def mag(occupied: bool, at: int, **extra) -> SlotReading:
    return SlotReading("mag-0037", "magnetometer", 37, occupied, at, **extra)


def kinds(drafts: list[Draft]) -> list[str]:
    return [d.event_type for d in drafts]


def test_state_changes_become_park_events_and_repeats_do_not():
    n = Normaliser(3 * HOUR)
    assert kinds(n.process(mag(True, T0))) == ["park_start"]
    assert kinds(n.process(mag(True, T0 + MIN))) == []
    assert kinds(n.process(mag(False, T0 + 2 * MIN))) == ["park_end"]
    assert kinds(n.process(mag(False, T0 + 3 * MIN))) == []
    assert n.duplicates == 2
    start = n.process(mag(True, T0 + 4 * MIN))[0]
    assert (start.source_type, start.slot_id, start.occupied, start.event_time_ms) == (
        "in_ground",
        37,
        True,
        T0 + 4 * MIN,
    )


def test_heartbeat_is_a_scheduled_report_with_the_current_state():
    n = Normaliser(4 * HOUR)
    n.process(mag(True, T0))
    report = n.process(mag(True, T0 + 3 * HOUR, heartbeat=True))
    assert kinds(report) == ["scheduled_report"] and report[0].occupied is True
    # The heartbeat's state is now the known state: a following equal reading is a repeat.
    assert n.process(mag(True, T0 + 3 * HOUR + MIN)) == []


def test_a_gap_beyond_the_threshold_is_comms_lost_then_restored():
    n = Normaliser(3 * HOUR + 15 * MIN)
    n.process(mag(True, T0))
    drafts = n.process(mag(False, T0 + 5 * HOUR))
    assert kinds(drafts) == ["comms_lost", "comms_restored", "park_end"]
    assert drafts[0].event_time_ms == T0 + 3 * HOUR + 15 * MIN
    assert drafts[1].event_time_ms == T0 + 5 * HOUR


def test_tick_reports_silent_sensors_once_and_the_next_reading_restores():
    n = Normaliser(3 * HOUR)
    n.process(mag(True, T0))
    assert n.tick(T0 + 2 * HOUR) == []
    assert kinds(n.tick(T0 + 4 * HOUR)) == ["comms_lost"]
    assert n.tick(T0 + 5 * HOUR) == []
    assert kinds(n.process(mag(True, T0 + 6 * HOUR))) == ["comms_restored"]


def test_decommissioned_once():
    n = Normaliser(3 * HOUR)
    n.process(mag(True, T0))
    assert kinds(n.process(mag(False, T0 + MIN, decommissioned=True))) == ["decommissioned"]
    assert n.process(mag(False, T0 + 2 * MIN, decommissioned=True)) == []
    assert n.tick(T0 + 10 * HOUR) == []  # a retired sensor is not "lost"


def test_camera_incident_carries_the_image_hash_and_parking_dedupes():
    n = Normaliser(3 * HOUR)
    image = b"\x89PNG fake still"
    incident = CameraDetection(
        "cam-03", 37, "illegal_parking", "car", 9300, T0, 37_503_100, 126_787_200, image
    )
    [draft] = n.process(incident)
    assert draft.event_type == "illegal_parking" and draft.source_type == "camera"
    assert draft.evidence == image and draft.evidence_hash == hashlib.sha256(image).digest()
    assert (draft.confidence_bps, draft.vehicle_type) == (9300, "car")
    parked = CameraDetection("cam-03", 38, "parked", "van", 8000, T0 + MIN)
    assert kinds(n.process(parked)) == ["park_start"]
    assert n.process(parked) == []


def keys() -> KeyRing:
    return KeyRing(
        [DeviceKey("mag-0037", "magnetometer", Account.from_key(KEY).address, (37,), KEY)]
    )


def test_sequences_are_monotonic_across_restarts_and_state_survives(tmp_path):
    path = tmp_path / "outbox.sqlite"
    outbox = Outbox(path, DOMAIN)
    n = Normaliser(3 * HOUR)
    outbox.append(n.process(mag(True, T0)), keys(), DOMAIN, states=n.take_changed())
    outbox.append(n.process(mag(False, T0 + MIN)), keys(), DOMAIN, states=n.take_changed())
    outbox.close()
    reopened = Outbox(path, DOMAIN)
    restarted = Normaliser(3 * HOUR, reopened.states())
    # The state came back: the same reading again is a repeat, not a new departure.
    assert restarted.process(mag(False, T0 + 2 * MIN)) == []
    signed = reopened.append(restarted.process(mag(True, T0 + 3 * MIN)), keys(), DOMAIN)
    assert [s.event.sequence for s in signed] == [3]
    wires = [p.wire for p in reopened.pending(100, 10**7)]
    assert [w["sequence"] for w in wires] == [1, 2, 3]
    assert [w["eventType"] for w in wires] == ["park_start", "park_end", "park_start"]


def test_a_failed_append_stores_nothing_and_skips_no_sequence(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite", DOMAIN)
    good = Draft("mag-0037", "park_start", "in_ground", 37, T0, True)
    stranger = Draft("mag-9999", "park_start", "in_ground", 99, T0, True)
    with pytest.raises(OutboxError, match="no device key for sensor 'mag-9999'"):
        outbox.append([good, stranger], keys(), DOMAIN, positions={"slot:x": (10, 500)})
    assert outbox.depth() == 0 and outbox.sequences() == {} and outbox.position("slot:x") == (0, 0)
    [signed] = outbox.append([good], keys(), DOMAIN)
    assert signed.event.sequence == 1


def test_batches_respect_the_byte_limit_and_keep_order(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite", DOMAIN)
    outbox.append(
        [Draft("mag-0037", "park_start", "in_ground", 37, T0 + i, True) for i in range(10)],
        keys(),
        DOMAIN,
    )
    one = outbox.pending(10, 10**7)[0].size
    batch = outbox.pending(10, one * 3 + 1)
    assert [p.wire["sequence"] for p in batch] == [1, 2, 3]
    assert len(outbox.pending(10, 1)) == 1  # always at least one event


def test_an_outbox_refuses_events_for_another_chain(tmp_path):
    Outbox(tmp_path / "outbox.sqlite", DOMAIN).close()
    with pytest.raises(OutboxError, match="signed for chain:registry"):
        Outbox(tmp_path / "outbox.sqlite", EventDomain(1, DOMAIN.registry))
