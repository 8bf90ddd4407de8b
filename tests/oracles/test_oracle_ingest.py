"""The oracle daemon's ingest against a real ledger node and a real daemon process: bad input
is refused with a named reason, counted in /metrics, and never reaches the chain."""

from __future__ import annotations

import json
import time

import pytest
import requests
from eth_account import Account

from oracles.daemon import MISS_REFRESH_SECONDS
from tests.oracle_helpers import (
    DeviceKey,
    OracleProcess,
    start_chain,
    wait_until,
)

UNKNOWN = 2
MAX_BYTES = 64 * 1024
REJECTED = "citypass_oracle_events_rejected_total"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("oracle-ingest")
    chain = start_chain(base)
    owner = chain.new_member()
    good_slot, bad_slot = chain.shared_slot(owner), chain.shared_slot(owner)
    magnetometer = chain.register_device("magnetometer", [good_slot, bad_slot])
    daemon = OracleProcess(
        chain, base / "oracle", env={"CITYPASS_ORACLE_MAX_BATCH_BYTES": str(MAX_BYTES)}
    ).start()
    yield chain, daemon, magnetometer, good_slot, bad_slot
    daemon.stop()
    chain.node.stop()


def now_ms(chain) -> int:
    return chain.head_time() * 1000


def verdict(daemon, events) -> dict:
    reply = daemon.post(events)
    assert reply.status_code == 200, reply.text
    return reply.json()


def reasons(reply: dict) -> list[str]:
    return [r["reason"] for r in reply["rejected"]]


def test_valid_event_is_accepted_and_a_resend_is_a_duplicate(env):
    chain, daemon, mag, good_slot, _ = env
    event = mag.event("park_start", good_slot, now_ms(chain))
    first = verdict(daemon, [event])
    assert first == {
        "accepted": ["0x" + event.event.event_id.hex()],
        "duplicates": [],
        "rejected": [],
    }
    again = verdict(daemon, [event])
    assert again["duplicates"] == ["0x" + event.event.event_id.hex()] and not again["accepted"]
    assert daemon.metric("citypass_oracle_events_duplicate_total") >= 1
    oracle = chain.contract("occupancy").functions
    wait_until(lambda: oracle.occupancyOf(good_slot).call() == 1, timeout=20)


def test_forged_signature_is_refused(env):
    chain, daemon, mag, _, bad_slot = env
    forged = mag.event(
        "park_start", bad_slot, now_ms(chain), sequence=mag.sequence + 1, key=Account.create().key
    )
    assert reasons(verdict(daemon, [forged])) == ["bad_signature"]
    assert daemon.metric(REJECTED, 'reason="bad_signature"') == 1


def test_unregistered_device_is_refused(env):
    chain, daemon, _, _, bad_slot = env
    stranger = DeviceKey(Account.create(), "magnetometer", chain.domain())
    assert reasons(verdict(daemon, [stranger.event("park_start", bad_slot, now_ms(chain))])) == [
        "unknown_device"
    ]
    assert daemon.metric(REJECTED, 'reason="unknown_device"') == 1


def test_a_device_registered_moments_ago_is_accepted(env):
    chain, daemon, _, good_slot, _ = env
    time.sleep(MISS_REFRESH_SECONDS)  # past the rate limit left by the unknown-device test
    fresh = chain.register_device("magnetometer", [good_slot])
    # No wait for the periodic refresh: an unknown device triggers one at once.
    reply = verdict(daemon, [fresh.event("scheduled_report", good_slot, now_ms(chain), True)])
    assert len(reply["accepted"]) == 1, reply


def test_slot_not_watched_is_refused(env):
    chain, daemon, mag, good_slot, _ = env
    reply = verdict(daemon, [mag.event("park_start", good_slot + 100, now_ms(chain))])
    assert reasons(reply) == ["slot_not_watched"]
    # Slot 0 is only for slot-less events: a park_start needs a slot.
    assert reasons(verdict(daemon, [mag.event("park_start", 0, now_ms(chain))])) == [
        "slot_not_watched"
    ]
    assert daemon.metric(REJECTED, 'reason="slot_not_watched"') == 2


def test_times_out_of_bounds_are_refused(env):
    chain, daemon, mag, _, bad_slot = env
    future = mag.event("park_start", bad_slot, now_ms(chain) + 3600_000)
    old = mag.event("park_start", bad_slot, now_ms(chain) - 5 * 86400_000)
    assert reasons(verdict(daemon, [future, old])) == ["time_in_future", "time_too_old"]
    assert daemon.metric(REJECTED, 'reason="time_in_future"') == 1
    assert daemon.metric(REJECTED, 'reason="time_too_old"') == 1


def test_event_right_after_a_development_clock_jump_is_accepted(env):
    # The daemon polls the head only now and then; an event stamped just after the chain's
    # clock jumped ahead must be judged on the new clock, not refused as from the future.
    chain, daemon, mag, good_slot, _ = env
    jumped = chain.head_time() + 2 * 3600
    chain.set_clock(jumped)
    event = mag.event("scheduled_report", good_slot, jumped * 1000, occupied=False)
    reply = verdict(daemon, [event])
    assert reply["accepted"] == ["0x" + event.event.event_id.hex()], reply


def test_refused_event_consumes_its_sequence_so_the_next_is_accepted(env):
    chain, daemon, mag, good_slot, _ = env
    refused = mag.event("park_start", good_slot + 100, now_ms(chain))
    nxt = mag.event("scheduled_report", good_slot, now_ms(chain), occupied=True)
    reply = verdict(daemon, [refused, nxt])
    assert reasons(reply) == ["slot_not_watched"] and len(reply["accepted"]) == 1
    # A re-send of the refused event gets the same answer, not a new one.
    assert reasons(verdict(daemon, [refused])) == ["slot_not_watched"]


def test_sequence_gap_is_refused_until_the_missing_event_arrives(env):
    chain, daemon, mag, good_slot, _ = env
    missing = mag.event("scheduled_report", good_slot, now_ms(chain), occupied=True)
    later = mag.event("scheduled_report", good_slot, now_ms(chain), occupied=True)
    assert reasons(verdict(daemon, [later])) == ["sequence_gap"]
    reply = verdict(daemon, [missing, later])
    assert len(reply["accepted"]) == 2 and not reply["rejected"]


def test_replayed_and_conflicting_events_are_not_stored_again(env):
    chain, daemon, mag, good_slot, _ = env
    event = mag.event("scheduled_report", good_slot, now_ms(chain), occupied=True)
    assert verdict(daemon, [event])["accepted"]
    # The same sequence signed again with other content: a device reusing a sequence number.
    other = mag.event("park_end", good_slot, now_ms(chain), sequence=event.event.sequence)
    assert reasons(verdict(daemon, [other])) == ["conflicting_event"]
    assert verdict(daemon, [event])["duplicates"] == ["0x" + event.event.event_id.hex()]


def test_deactivated_device_is_refused_within_one_refresh(env):
    chain, daemon, _, good_slot, _ = env
    # Events accepted before the refresh are legitimate: they go to the slot already occupied.
    # Wait until the daemon knows this very device (earlier tests registered others): an event
    # refused as unknown would leave a gap in its sequence, and every later one would be
    # refused for the gap before its device's state is looked at.
    known = daemon.health()["devices"]
    device = chain.register_device("magnetometer", [good_slot])
    wait_until(lambda: daemon.health()["devices"] > known, timeout=10)
    chain.system.devices.setActive(device.address, False, {"from": chain.people.operator})
    deactivated_at = time.monotonic()

    def refused() -> bool:
        event = device.event("park_start", good_slot, now_ms(chain))
        return reasons(verdict(daemon, [event])) == ["inactive_device"]

    wait_until(refused, timeout=5, interval=0.05)
    # The refresh period is 0.3 s; allow scheduling slack on a busy machine.
    assert time.monotonic() - deactivated_at < 3.0
    assert daemon.metric(REJECTED, 'reason="inactive_device"') >= 1


def test_malformed_bodies_get_400_and_malformed_events_are_named(env):
    chain, daemon, mag, _, _ = env
    url = daemon.url + "/v1/events"
    reply = requests.post(url, data=b"{not json", timeout=10)
    assert reply.status_code == 400 and "not JSON" in reply.json()["message"]
    reply = requests.post(url, json=[1, 2], timeout=10)
    assert reply.status_code == 400 and "events" in reply.json()["message"]
    wire = mag.event("park_start", 1, now_ms(chain), sequence=10**6).to_wire()
    del wire["slotId"]
    answer = verdict(daemon, [wire, "not an object"])
    assert reasons(answer) == ["malformed", "malformed"]
    assert "slotId" in answer["rejected"][0]["message"]
    assert daemon.metric("citypass_oracle_requests_refused_total", 'reason="malformed"') == 2


def test_oversized_batches_get_413(env):
    chain, daemon, mag, _, _ = env
    url = daemon.url + "/v1/events"
    reply = requests.post(url, json={"events": [{}] * 501}, timeout=10)
    assert reply.status_code == 413 and "500" in reply.json()["message"]
    body = json.dumps({"events": ["x" * (MAX_BYTES)]})
    reply = requests.post(url, data=body, timeout=10)
    assert reply.status_code == 413 and str(MAX_BYTES) in reply.json()["message"]
    assert daemon.metric("citypass_oracle_requests_refused_total", 'reason="oversized"') == 2


def test_a_large_body_under_the_limit_is_read_whole(env):
    chain, daemon, mag, good_slot, _ = env
    events = [
        mag.event("scheduled_report", good_slot, now_ms(chain), occupied=True) for _ in range(80)
    ]
    body = json.dumps({"events": [e.to_wire() for e in events]}).encode()
    assert MAX_BYTES // 2 < len(body) <= MAX_BYTES  # arrives in several TCP reads
    reply = requests.post(daemon.url + "/v1/events", data=body, timeout=30)
    assert reply.status_code == 200 and len(reply.json()["accepted"]) == 80


def test_json_nested_too_deep_gets_400_naming_it_and_the_daemon_goes_on(env):
    chain, daemon, mag, good_slot, _ = env
    url = daemon.url + "/v1/events"
    beyond_the_parser = '{"events": ' + "[" * 30_000 + "]" * 30_000 + "}"  # was a 500
    beyond_the_limit = '{"events": [' + '{"a": ' * 40 + "1" + "}" * 40 + "]}"
    for body in (beyond_the_parser, beyond_the_limit):
        reply = requests.post(url, data=body, timeout=10)
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"] == "malformed"
        assert "nested too deep" in reply.json()["message"]
    missing = requests.get(daemon.url + "/no/such/path", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"] == "http_error"
    event = mag.event("scheduled_report", good_slot, now_ms(chain), occupied=True)
    assert len(verdict(daemon, [event])["accepted"]) == 1


def test_nothing_refused_reached_the_chain(env):
    chain, daemon, _, good_slot, bad_slot = env
    oracle = chain.contract("occupancy").functions
    # Let the daemon finish its report cycles, then look: only accepted events are on chain.
    wait_until(
        lambda: daemon.health()["pendingReports"] == 0 and daemon.health()["inboxDepth"] == 0
    )
    time.sleep(1.0)
    assert oracle.occupancyOf(bad_slot).call() == UNKNOWN
    assert oracle.lastSeenOf(bad_slot).call() == 0
    assert oracle.occupancyOf(good_slot).call() == 1
    assert daemon.metric("citypass_oracle_events_accepted_total") >= 5
