"""Edge delivery against a real aiohttp receiver on loopback playing the oracle daemon's HTTP
contract: accepted, duplicates, dead letters, sequence gaps, 413, 503 and refused connections."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from eth_account import Account

from citypass.protocol.sensor_events import EventDomain, parse_event, recover_signer
from edge_oracle.config import EdgeSettings
from edge_oracle.delivery import Deliverer
from edge_oracle.devices import DeviceKey, KeyRing
from edge_oracle.metrics import EdgeMetrics
from edge_oracle.normaliser import Draft
from edge_oracle.outbox import Outbox
from edge_oracle.server import build_app
from edge_oracle.testing import ContractReceiver, free_port

# THROWAWAY TEST KEYS: never used outside these tests.
KEY_A = bytes.fromhex("a1" * 32)
KEY_B = bytes.fromhex("b2" * 32)
DOMAIN = EventDomain(82032, "0x" + "12" * 20)


def keyring() -> KeyRing:
    return KeyRing(
        [
            DeviceKey("mag-1", "magnetometer", Account.from_key(KEY_A).address, (1,), KEY_A),
            DeviceKey("mag-2", "magnetometer", Account.from_key(KEY_B).address, (2,), KEY_B),
        ]
    )


def drafts(n: int, start_ms: int = 1_790_000_000_000) -> list[Draft]:
    # Alternating sensors and states, so both devices' sequences interleave.
    return [
        Draft(
            f"mag-{1 + i % 2}",
            "park_start" if (i // 2) % 2 == 0 else "park_end",
            "in_ground",
            1 + i % 2,
            start_ms + i * 1000,
            (i // 2) % 2 == 0,
        )
        for i in range(n)
    ]


@pytest.fixture
def receiver():
    sink = ContractReceiver(DOMAIN).start()
    yield sink
    sink.close()


def settings(tmp_path: Path, url: str, **extra) -> EdgeSettings:
    values = dict(
        data_dir=tmp_path,
        oracle_url=url,
        chain_id=DOMAIN.chain_id,
        registry=DOMAIN.registry,
        backoff_initial_s=0.02,
        backoff_max_s=0.1,
        poll_interval_s=0.02,
        request_timeout_s=5,
    )
    values.update(extra)
    return EdgeSettings(**values)


def filled_outbox(tmp_path: Path, n: int) -> Outbox:
    outbox = Outbox(tmp_path / "outbox.sqlite", DOMAIN)
    outbox.append(drafts(n), keyring(), DOMAIN)
    return outbox


async def deliver_all(outbox: Outbox, config: EdgeSettings, timeout: float = 20) -> Deliverer:
    deliverer = Deliverer(outbox, config, EdgeMetrics())
    stop, done = asyncio.Event(), asyncio.Event()
    done.set()
    await asyncio.wait_for(deliverer.run(stop, until_empty=done), timeout)
    return deliverer


def assert_exactly_once_in_order(
    receiver: ContractReceiver, n: int, *, globally: bool = True
) -> None:
    wires = [receiver.events[i] for i in receiver.order]
    assert len(receiver.order) == len(set(receiver.order)) == n
    if globally:
        times = [w["eventTimeMs"] for w in wires]
        assert times == sorted(times), "events arrived out of order"
    for device in {w["device"] for w in wires}:
        sequences = [w["sequence"] for w in wires if w["device"] == device]
        assert sequences == list(range(1, len(sequences) + 1))


def test_delivery_sends_every_event_once_in_order_with_valid_signatures(tmp_path, receiver):
    outbox = filled_outbox(tmp_path, 40)
    asyncio.run(deliver_all(outbox, settings(tmp_path, receiver.url, batch_events=7)))
    assert_exactly_once_in_order(receiver, 40)
    assert max(len(b) for b in receiver.batches) == 7
    for wire in receiver.events.values():
        signed = parse_event(wire)
        assert recover_signer(signed, DOMAIN).lower() == signed.event.device
    assert outbox.counts() == {"pending": 0, "delivered": 40, "deadLettered": 0}
    assert outbox.last_delivery_ms() is not None


def test_delivery_counts_duplicates_as_delivered(tmp_path, receiver):
    outbox = filled_outbox(tmp_path, 6)
    asyncio.run(deliver_all(outbox, settings(tmp_path, receiver.url)))
    # A second edge copy of the same outbox (e.g. restored from a backup) re-sends everything.
    second = Outbox(tmp_path / "copy" / "outbox.sqlite", DOMAIN)
    second.append(drafts(6), keyring(), DOMAIN)
    deliverer = asyncio.run(deliver_all(second, settings(tmp_path / "copy", receiver.url)))
    assert second.counts()["delivered"] == 6
    assert deliverer.metrics.delivered.labels("duplicate")._value.get() == 6
    assert len(receiver.order) == 6


def test_permanent_rejection_goes_to_dead_letters_and_the_rest_is_delivered(tmp_path, receiver):
    receiver.reject = lambda wire: "slot_not_watched" if wire["eventTimeMs"] % 5000 == 0 else None
    outbox = filled_outbox(tmp_path, 20)
    deliverer = asyncio.run(deliver_all(outbox, settings(tmp_path, receiver.url)))
    dead = outbox.dead_letters(100)
    assert len(dead) == 4  # times 0, 5 s, 10 s, 15 s after the start
    assert {d.reason for d in dead} == {"slot_not_watched"}
    assert outbox.counts() == {"pending": 0, "delivered": 16, "deadLettered": 4}
    assert len(receiver.order) == 16
    assert deliverer.metrics.dead_lettered.labels("slot_not_watched")._value.get() == 4


def test_sequence_gap_is_retried_and_order_is_kept(tmp_path, receiver):
    outbox = filled_outbox(tmp_path, 10)
    pending = outbox.pending(10, 10**7)
    receiver.gap_once = {pending[3].event_id}
    deliverer = asyncio.run(deliver_all(outbox, settings(tmp_path, receiver.url)))
    # The daemon may accept the other device's later events from the same batch; each
    # device's own events still arrive in sequence order, each exactly once.
    assert_exactly_once_in_order(receiver, 10, globally=False)
    assert outbox.counts() == {"pending": 0, "delivered": 10, "deadLettered": 0}
    assert receiver.order.index(pending[3].event_id) > receiver.order.index(pending[1].event_id)
    assert deliverer.metrics.retries.labels("sequence_gap")._value.get() == 1
    assert receiver.requests == 2


def test_http_413_halves_the_batch_until_it_fits(tmp_path, receiver):
    receiver.max_events = 3
    outbox = filled_outbox(tmp_path, 25)
    deliverer = asyncio.run(deliver_all(outbox, settings(tmp_path, receiver.url, batch_events=20)))
    assert_exactly_once_in_order(receiver, 25)
    assert all(len(b) <= 3 for b in receiver.batches)
    assert deliverer.metrics.retries.labels("too_large")._value.get() >= 3


def test_http_503_backs_off_then_delivers(tmp_path, receiver):
    receiver.fail_statuses = [503, 503, 500, 503]
    outbox = filled_outbox(tmp_path, 12)
    deliverer = asyncio.run(deliver_all(outbox, settings(tmp_path, receiver.url)))
    assert_exactly_once_in_order(receiver, 12)
    assert deliverer.metrics.retries.labels("server_error")._value.get() == 4


def test_refused_connection_keeps_events_until_the_daemon_comes_back(tmp_path):
    port = free_port()
    outbox = filled_outbox(tmp_path, 15)
    receiver = ContractReceiver(DOMAIN, port)  # not listening yet: connections are refused

    async def scenario() -> Deliverer:
        deliverer = Deliverer(outbox, settings(tmp_path, receiver.url), EdgeMetrics())
        stop, done = asyncio.Event(), asyncio.Event()
        done.set()
        task = asyncio.create_task(deliverer.run(stop, until_empty=done))
        await asyncio.sleep(0.5)
        assert outbox.depth() == 15
        assert deliverer.status.oracle_reachable is False
        await asyncio.to_thread(receiver.start)
        await asyncio.wait_for(task, 20)
        return deliverer

    try:
        deliverer = asyncio.run(scenario())
        assert_exactly_once_in_order(receiver, 15)
        assert deliverer.metrics.retries.labels("unreachable")._value.get() >= 2
        assert deliverer.status.oracle_reachable is True
    finally:
        receiver.close()


def test_health_and_metrics_report_depth_dead_letters_and_reachability(tmp_path, receiver):
    receiver.reject = lambda wire: "device_inactive" if wire["sequence"] == 1 else None
    outbox = filled_outbox(tmp_path, 8)
    config = settings(tmp_path, receiver.url)

    async def scenario() -> tuple[dict, str]:
        deliverer = Deliverer(outbox, config, EdgeMetrics())
        done = asyncio.Event()
        done.set()
        await deliverer.run(asyncio.Event(), until_empty=done)
        runner = aiohttp.web.AppRunner(build_app(outbox, [deliverer], deliverer.metrics))
        await runner.setup()
        port = free_port()
        await aiohttp.web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/health") as reply:
                    health = await reply.json()
                async with session.get(f"http://127.0.0.1:{port}/metrics") as reply:
                    text = await reply.text()
        finally:
            await runner.cleanup()
        return health, text

    health, text = asyncio.run(scenario())
    assert health["outboxDepth"] == 0
    assert health["deadLettered"] == 2  # sequence 1 of each device
    assert health["delivered"] == 6
    assert health["oracleReachable"] is True
    assert 'citypass_edge_events_dead_lettered_total{reason="device_inactive"} 2.0' in text
    assert 'citypass_edge_events_delivered_total{outcome="accepted"} 6.0' in text
    assert "citypass_edge_outbox_depth 0.0" in text
    assert "citypass_edge_delivery_latency_seconds_count 6.0" in text


def test_outbox_wire_is_the_shared_format(tmp_path):
    outbox = filled_outbox(tmp_path, 2)
    wire = outbox.pending(10, 10**7)[0].wire
    assert json.loads(json.dumps(wire)) == wire
    assert parse_event(wire).event.sequence == 1
