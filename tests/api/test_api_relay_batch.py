"""Requests relayed together: the API batches concurrent ForwardRequests into one
CityForwarder.executeBatch transaction. Each resident still gets an answer with only their own
events, a conflict inside a batch fails only the loser, and a request sent twice is relayed once.
Real ledger node and API process (tests/api_helpers.py)."""

from __future__ import annotations

import itertools
import os
import signal
import threading
from typing import Any

import requests
from eth_account import Account

from api.relay_batch import BATCH_GAS_BUDGET, MAX_REQUEST_GAS
from tests.api.test_api_relay import _book_data, _nonce, _signed_body, _typed
from tests.api_helpers import World, relayer_private_key, world  # noqa: F401

# Friday and Saturday half-hours of slot A (other relay tests use Monday to Wednesday).
_HALF_HOURS = itertools.count(0)
CONCURRENT = 16


def _next_window(world: World) -> tuple[int, int]:
    index = next(_HALF_HOURS)
    start = world.scenario.at(4 + index // 48, (index % 48) / 2)
    return start, start + 1800


def _signed_booking(world: World, resident: Any, start: int, end: int) -> dict:
    market = world.chain.system.market.address
    data = _book_data(world, world.scenario.slots["A"], start, end)
    return _signed_body(_typed(world, resident.address, market, data), resident.key)


def _post_together(world: World, bodies: list[dict]) -> list[Any]:
    """POST every body at the same moment (one thread each, released by a barrier)."""
    barrier = threading.Barrier(len(bodies))
    replies: list[Any] = [None] * len(bodies)

    def post(index: int) -> None:
        barrier.wait()
        replies[index] = world.api.post("/v1/relay/forward", json=bodies[index])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_concurrent_bookings_share_batches_and_each_gets_its_own_events(world: World):
    residents = [world.chain.resident() for _ in range(CONCURRENT)]
    windows = [_next_window(world) for _ in residents]
    bodies = [_signed_booking(world, r, *w) for r, w in zip(residents, windows, strict=True)]
    replies = _post_together(world, bodies)
    assert [r.status_code for r in replies] == [200] * CONCURRENT, [r.text for r in replies]
    results = [r.json() for r in replies]
    assert all(result["success"] for result in results)
    market = world.chain.contract("market").functions
    for resident, window, result in zip(residents, windows, results, strict=True):
        assert result["signer"] == resident.address and result["nonce"] == 0
        booked = [e for e in result["events"] if e["event"] == "LeaseBooked"]
        # Only this resident's booking, not the batch's others.
        assert len(booked) == 1 and (booked[0]["args"]["start"], booked[0]["args"]["end"]) == window
        executed = [e for e in result["events"] if e["event"] == "ExecutedForwardRequest"]
        assert len(executed) == 1 and executed[0]["args"]["signer"] == resident.address
        assert market.leaseOf(result["leaseId"]).call()[0] == resident.address
        assert _nonce(world, resident.address) == 1
    assert len({result["leaseId"] for result in results}) == CONCURRENT
    hashes = {result["txHash"] for result in results}
    # Sixteen requests arriving together do not need sixteen transactions.
    assert len(hashes) < CONCURRENT
    for tx_hash in hashes:
        tx = world.chain.w3.eth.get_transaction(tx_hash)
        forwarder = world.chain.contract("forwarder")
        function, args = forwarder.decode_function_input(tx["input"])
        assert function.fn_name == "executeBatch"
        sharing = [r for r in results if r["txHash"] == tx_hash]
        assert len(args["requests"]) == len(sharing)
        assert args["refundReceiver"] == world.api.relayer


def test_two_residents_racing_for_the_same_half_hour_one_wins(world: World):
    start, end = _next_window(world)
    residents = [world.chain.resident() for _ in range(2)]
    bodies = [_signed_booking(world, r, start, end) for r in residents]
    replies = _post_together(world, bodies)
    wins = [r for r in replies if r.status_code == 200 and r.json()["success"]]
    assert len(wins) == 1, [r.text for r in replies]
    loser = next(r for r in replies if r is not wins[0])
    if loser.status_code == 200:
        # Same batch: both simulations passed, the chain refused the second; nothing booked.
        result = loser.json()
        assert result["success"] is False
        assert not [e for e in result["events"] if e["event"] == "LeaseBooked"]
    else:
        # Later batch: the simulation saw the winner's lease.
        assert loser.status_code == 409, loser.text
        assert loser.json()["error"]["code"] == "LeaseMarketOverlap"


def test_the_same_request_sent_twice_at_once_is_relayed_once(world: World):
    resident = world.chain.resident()
    body = _signed_booking(world, resident, *_next_window(world))
    replies = _post_together(world, [body, body])
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200, 409], [r.text for r in replies]
    refused = next(r for r in replies if r.status_code == 409).json()["error"]
    assert refused["code"] in {"replayed", "verify_failed"}
    assert _nonce(world, resident.address) == 1


def _as_tuple(body: dict) -> tuple:
    return (
        body["from"], body["to"], body["value"], body["gas"], body["deadline"],
        bytes.fromhex(body["data"][2:]), bytes.fromhex(body["signature"][2:]),
    )  # fmt: skip


def test_a_nonce_used_through_another_relayer_is_not_trusted_from_memory(world: World):
    """The API remembers each signer's next nonce after its own relays; when the signer used
    that nonce elsewhere meanwhile, the forwarder skips the request (409), the API forgets what
    it remembered, and the signer's next request is checked against the chain again."""
    resident = world.chain.resident()
    first = _signed_booking(world, resident, *_next_window(world))
    assert world.api.post("/v1/relay/forward", json=first).status_code == 200
    # Nonce 1, submitted by somebody else straight to the forwarder (anyone may relay).
    elsewhere = _signed_booking(world, resident, *_next_window(world))
    world.chain.system.forwarder.execute(_as_tuple(elsewhere), {"from": world.chain.people.admin})
    assert _nonce(world, resident.address) == 2
    # Another booking the wallet signed at nonce 1 too: the API's memory says 1 is next, the
    # simulation passes (a free half-hour), the forwarder skips it on chain.
    market = world.chain.system.market.address
    data = _book_data(world, world.scenario.slots["A"], *_next_window(world))
    typed = _typed(world, resident.address, market, data)
    stale = world.api.post("/v1/relay/forward", json=_signed_body(typed, resident.key, nonce=1))
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["code"] == "verify_failed"
    assert _nonce(world, resident.address) == 2
    third = _signed_booking(world, resident, *_next_window(world))
    reply = world.api.post("/v1/relay/forward", json=third)
    assert reply.status_code == 200 and reply.json()["success"], reply.text
    assert reply.json()["nonce"] == 2 and _nonce(world, resident.address) == 3


def test_a_batch_stays_within_its_gas_budget_and_the_rest_waits_for_the_next(world: World):
    """Four requests signed with 5M gas each cannot share one 16M batch: they are spread over
    several executeBatch transactions, and all of them are booked."""
    residents = [world.chain.resident() for _ in range(4)]
    market = world.chain.system.market.address
    bodies = []
    for resident in residents:
        data = _book_data(world, world.scenario.slots["A"], *_next_window(world))
        typed = _typed(world, resident.address, market, data)
        bodies.append(_signed_body(typed, resident.key, gas=5_000_000))
    replies = _post_together(world, bodies)
    assert [r.status_code for r in replies] == [200] * 4, [r.text for r in replies]
    results = [r.json() for r in replies]
    assert all(result["success"] for result in results)
    hashes = {result["txHash"] for result in results}
    assert len(hashes) >= 2
    for tx_hash in hashes:
        assert world.chain.w3.eth.get_transaction(tx_hash)["gas"] <= BATCH_GAS_BUDGET


def test_a_request_signed_for_more_gas_than_a_batch_holds_is_refused_at_once(world: World):
    """The schema takes up to 30M gas, a batch only 16M: such a request used to go back to the
    queue for ever (dry-run again every round, never answered). It is refused by name, and a
    request signed at exactly the most one may use is still booked."""
    resident = world.chain.resident()
    market = world.chain.system.market.address
    data = _book_data(world, world.scenario.slots["A"], *_next_window(world))
    typed = _typed(world, resident.address, market, data)
    reply = world.api.post(
        "/v1/relay/forward", json=_signed_body(typed, resident.key, gas=MAX_REQUEST_GAS + 1)
    )
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["code"] == "gas_too_high"
    assert str(MAX_REQUEST_GAS) in reply.json()["error"]["message"]
    reply = world.api.post(
        "/v1/relay/forward", json=_signed_body(typed, resident.key, gas=MAX_REQUEST_GAS)
    )
    assert reply.status_code == 200 and reply.json()["success"], reply.text
    assert world.chain.w3.eth.get_transaction(reply.json()["txHash"])["gas"] == BATCH_GAS_BUDGET


def test_a_batch_the_node_refuses_answers_its_requests_with_the_node_s_reason(world: World):
    """The relayer key used elsewhere takes the nonce the API meant for its next batch: the node
    refuses that batch (plain JSON-RPC, api/relay_batch.py), each of its requests is answered
    409 node_refused with the node's own words, and the next request is relayed at the node's
    nonce."""
    resident = world.chain.resident()
    first = world.api.post(
        "/v1/relay/forward", json=_signed_booking(world, resident, *_next_window(world))
    )
    assert first.status_code == 200 and first.json()["success"], first.text
    w3 = world.chain.w3
    relayer = Account.from_key(relayer_private_key(world))
    stolen = relayer.sign_transaction(
        {
            "to": relayer.address,
            "value": 0,
            "gas": 21_000,
            "gasPrice": 0,
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(relayer.address, "pending"),
        }  # fmt: skip
    )
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(stolen.raw_transaction))
    refused = world.api.post(
        "/v1/relay/forward", json=_signed_booking(world, resident, *_next_window(world))
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "node_refused" and "nonce" in error["message"].lower(), error
    again = world.api.post(
        "/v1/relay/forward", json=_signed_booking(world, resident, *_next_window(world))
    )
    assert again.status_code == 200 and again.json()["success"], again.text


def test_a_relayer_killed_mid_load_loses_and_doubles_nothing(world: World):
    """kill -9 of the API while bookings are in flight, then a restart: every booking answered
    200 before the kill is on chain, and sending every request again books each one exactly
    once (the forwarder's nonce); the relayer's own nonce resumes from the node's journal, so
    the bookings after the restart go through (no gap, no reuse)."""
    residents = [world.chain.resident() for _ in range(CONCURRENT)]
    bodies = [_signed_booking(world, r, *_next_window(world)) for r in residents]
    replies: list[Any] = [None] * len(bodies)
    first_answer = threading.Event()

    def post(index: int) -> None:
        try:
            replies[index] = world.api.post("/v1/relay/forward", json=bodies[index], timeout=30)
            first_answer.set()
        except requests.RequestException:  # the process died under this request
            pass

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    first_answer.wait(timeout=30)
    os.killpg(world.api.process.pid, signal.SIGKILL)  # the API and its indexer child at once
    for thread in threads:
        thread.join()
    acknowledged = [i for i, r in enumerate(replies) if r is not None and r.status_code == 200]
    for index in acknowledged:
        assert _nonce(world, residents[index].address) == 1, replies[index].text
    world.api.restart()
    again = [world.api.post("/v1/relay/forward", json=body) for body in bodies]
    for index, reply in enumerate(again):
        if index in acknowledged or reply.status_code == 409:
            # Relayed before the kill (answered or not): the same request is not relayed twice.
            assert reply.status_code == 409, reply.text
            assert reply.json()["error"]["code"] in {"replayed", "verify_failed"}
        else:
            assert reply.status_code == 200 and reply.json()["success"], reply.text
    market = world.chain.contract("market")
    booked = market.events.LeaseBooked().get_logs(from_block=0)
    for resident in residents:
        assert _nonce(world, resident.address) == 1
        assert len([e for e in booked if e["args"]["lessee"] == resident.address]) == 1
