"""citypass-api relays against a real ledger node: a resident signs a ForwardRequest from the
served typed data and the API books it on chain; everything the API must refuse is refused
before gas is spent (checked on chain: the forwarder nonce and balances do not move)."""

from __future__ import annotations

import itertools
import re

from eth_account import Account
from eth_account.messages import encode_typed_data

from tests.api_helpers import (  # noqa: F401
    API_PASSWORD,
    SIGNER_BURST,
    World,
    error_of,
    relayer_private_key,
    world,
)
from tests.oracle_helpers import wait_until
from tests.siwe_helpers import bearer

# Distinct free Tuesday half-hours of slot A for each booking test.
_HOURS = itertools.count(0)


def _window(world: World) -> tuple[int, int]:
    hour = next(_HOURS)
    return world.scenario.at(1, hour), world.scenario.at(1, hour + 0.5)


def _book_data(world: World, slot: int, start: int, end: int) -> str:
    market = world.chain.contract("market")
    return market.encode_abi("book", args=[slot, start, end, 10**9])


def _typed(world: World, sender: str, to: str, data: str) -> dict:
    reply = world.api.get(
        "/v1/typed-data/forward-request", params={"from": sender, "to": to, "data": data}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _signed_body(typed: dict, key: bytes, **changes: int) -> dict:
    """Sign the served typed data (optionally changed, e.g. another chainId) as a wallet would."""
    typed = {**typed, "domain": {**typed["domain"]}, "message": {**typed["message"]}}
    for name, value in changes.items():
        target = typed["domain"] if name in ("chainId", "verifyingContract") else typed["message"]
        target[name] = value
    signed = Account.sign_message(encode_typed_data(full_message=typed), key)
    message = typed["message"]
    return {
        "from": message["from"], "to": message["to"], "value": message["value"],
        "gas": message["gas"], "deadline": message["deadline"], "data": message["data"],
        "signature": "0x" + signed.signature.hex().removeprefix("0x"),
        "chainId": typed["domain"]["chainId"],
        "verifyingContract": typed["domain"]["verifyingContract"],
    }  # fmt: skip


def _booking(world: World, resident, **changes: int) -> dict:
    start, end = _window(world)
    market = world.chain.system.market.address
    typed = _typed(world, resident.address, market, _book_data(world, _slot(world), start, end))
    return _signed_body(typed, resident.key, **changes)


def _slot(world: World) -> int:
    return world.scenario.slots["A"]


def _nonce(world: World, address: str) -> int:
    return world.chain.contract("forwarder").functions.nonces(address).call()


# ---------------------------------------------------------------------------- the happy path


def test_resident_books_through_the_relay(world: World):
    resident = world.chain.resident()
    typed_start, typed_end = _window(world)
    market = world.chain.system.market.address
    data = _book_data(world, _slot(world), typed_start, typed_end)
    typed = _typed(world, resident.address, market, data)
    forwarder = world.chain.contract("forwarder")
    assert typed["domain"] == {
        "name": "CityPassForwarder", "version": "1", "chainId": world.chain.chain_id,
        "verifyingContract": forwarder.address,
    }  # fmt: skip
    assert typed["message"]["nonce"] == 0 and typed["message"]["value"] == 0
    assert 21_000 < typed["message"]["gas"] < 1_000_000
    body = _signed_body(typed, resident.key)
    relays_before = world.api.metric("citypass_api_relays_total", 'outcome="relayed"')
    reply = world.api.post("/v1/relay/forward", json=body)
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["success"] is True and result["status"] == 1
    assert re.fullmatch(r"0x[0-9a-f]{64}", result["txHash"])
    lease = world.chain.contract("market").functions.leaseOf(result["leaseId"]).call()
    # The resident, not the relayer, is the lessee (ERC-2771 sender).
    assert (lease[0], lease[1]) == (resident.address, 1)  # lessee, half-hour units
    booked = next(e for e in result["events"] if e["event"] == "LeaseBooked")
    assert (booked["args"]["start"], booked["args"]["end"]) == (typed_start, typed_end)
    assert {e["event"] for e in result["events"]} >= {"LeaseBooked", "ExecutedForwardRequest"}
    assert _nonce(world, resident.address) == 1
    receipt = world.chain.w3.eth.get_transaction_receipt(result["txHash"])
    assert receipt["from"] == world.api.relayer
    assert world.api.metric("citypass_api_relays_total", 'outcome="relayed"') == relays_before + 1
    # The follower indexes it: the resident's leases show the booking.
    own = bearer(world.api.url, world.chain.chain_id, resident, scope="resident")
    wait_until(
        lambda: any(
            lease["leaseId"] == result["leaseId"]
            for lease in world.api.get(
                f"/v1/members/{resident.address}/leases", headers=own
            ).json()["leases"]
        ),
        timeout=10,
    )

    replay = error_of(world.api.post("/v1/relay/forward", json=body), 409)
    assert replay["code"] == "replayed" and "nonce 0" in replay["message"]
    assert _nonce(world, resident.address) == 1


def test_resident_without_allowance_books_with_a_served_permit(world: World):
    """Two signatures, no transaction of the resident's own: a CityCredit permit from
    /v1/typed-data/permit inside a relayed LeaseMarket.bookWithPermit."""
    chain = world.chain
    resident = chain.new_member()
    chain.system.credit.mint(
        resident.address, 50_000, b"\x00" * 32, {"from": chain.people.treasury}
    )
    credit = chain.contract("credit")
    assert credit.functions.allowance(resident.address, chain.system.market.address).call() == 0
    permit = world.api.get(
        "/v1/typed-data/permit", params={"owner": resident.address, "value": 600}
    ).json()
    signed = Account.sign_message(encode_typed_data(full_message=permit), resident.key)
    start, end = _window(world)
    data = chain.contract("market").encode_abi(
        "bookWithPermit",
        args=[_slot(world), start, end, 600, permit["message"]["deadline"], signed.v,
              signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")],
    )  # fmt: skip
    typed = _typed(world, resident.address, chain.system.market.address, data)
    reply = world.api.post("/v1/relay/forward", json=_signed_body(typed, resident.key))
    assert reply.status_code == 200, reply.text
    assert credit.functions.balanceOf(resident.address).call() == 50_000 - 600
    assert chain.contract("market").functions.leaseOf(reply.json()["leaseId"]).call()[0] == (
        resident.address
    )


# --------------------------------------------------------------------------- refused requests


def test_expired_request_is_refused(world: World):
    resident = world.chain.resident()
    body = _booking(world, resident, deadline=world.chain.head_time() - 60)
    error = error_of(world.api.post("/v1/relay/forward", json=body), 422)
    assert error["code"] == "expired" and "expired" in error["message"]
    assert _nonce(world, resident.address) == 0


def test_request_signed_for_another_chain_is_refused(world: World):
    resident = world.chain.resident()
    body = _booking(world, resident, chainId=999)
    error = error_of(world.api.post("/v1/relay/forward", json=body), 422)
    assert error["message"].startswith(
        f"signed for chain 999, this ledger is {world.chain.chain_id}"
    )
    # Without the domain fields the signature simply is not the resident's for this ledger.
    del body["chainId"], body["verifyingContract"]
    error = error_of(world.api.post("/v1/relay/forward", json=body), 422)
    assert error["code"] == "bad_signature" and str(world.chain.chain_id) in error["message"]
    assert _nonce(world, resident.address) == 0


def test_request_signed_by_someone_else_is_refused(world: World):
    resident, other = world.chain.resident(), Account.create()
    body = _booking(world, resident)
    forged = _signed_body(
        _typed(world, resident.address, body["to"], body["data"]), other.key
    )  # fmt: skip
    error = error_of(world.api.post("/v1/relay/forward", json=forged), 422)
    assert error["code"] == "bad_signature"


def test_selectors_off_the_allowlist_are_forbidden_and_nothing_happens(world: World):
    resident = world.chain.resident()
    credit = world.chain.contract("credit")
    balance = credit.functions.balanceOf(resident.address).call()
    transfer = credit.encode_abi("transfer", args=[world.api.relayer, 1000])
    # The typed-data endpoint already refuses to prepare it ...
    error = error_of(
        world.api.get(
            "/v1/typed-data/forward-request",
            params={"from": resident.address, "to": credit.address, "data": transfer},
        ),
        403,
    )
    assert "0xa9059cbb" in error["message"]
    # ... and a request signed anyway is refused before anything reaches the chain.
    typed = _typed(world, resident.address, world.chain.system.market.address,
                   _book_data(world, _slot(world), *_window(world)))  # fmt: skip
    typed["message"].update(to=credit.address, data=transfer)
    error = error_of(
        world.api.post("/v1/relay/forward", json=_signed_body(typed, resident.key)), 403
    )
    assert error["code"] == "not_allowlisted" and "0xa9059cbb" in error["message"]
    market = world.chain.contract("market")
    policy = market.functions.policy().call()
    set_policy = market.encode_abi("setPolicy", args=[policy])
    typed["message"].update(to=market.address, data=set_policy)
    error = error_of(
        world.api.post("/v1/relay/forward", json=_signed_body(typed, resident.key)), 403
    )
    assert set_policy[:10] in error["message"]
    assert credit.functions.balanceOf(resident.address).call() == balance
    assert _nonce(world, resident.address) == 0


def test_value_must_be_zero(world: World):
    resident = world.chain.resident()
    body = _booking(world, resident, value=1)
    error = error_of(world.api.post("/v1/relay/forward", json=body), 422)
    assert error["code"] == "value_not_zero"


def test_a_call_that_would_revert_is_refused_with_the_custom_error(world: World):
    s = world.scenario
    resident = world.chain.resident()
    market = world.chain.system.market.address
    # Slot A is leased Monday 10:00-12:00 in the scenario: an overlap (409).
    overlap = _typed(world, resident.address, market, _book_data(world, s.slots["A"],
                     s.at(0, 10), s.at(0, 11)))  # fmt: skip
    error = error_of(
        world.api.post("/v1/relay/forward", json=_signed_body(overlap, resident.key)), 409
    )
    assert error["code"] == "LeaseMarketOverlap" and "LeaseMarketOverlap" in error["message"]
    # A slot that does not exist: the request is wrong (422).
    unknown = _typed(world, resident.address, market, _book_data(world, 9999, s.at(1, 20),
                     s.at(1, 21)))  # fmt: skip
    error = error_of(
        world.api.post("/v1/relay/forward", json=_signed_body(unknown, resident.key)), 422
    )
    assert error["code"] == "LeaseMarketUnknownSlot" and "9999" in error["message"]
    assert _nonce(world, resident.address) == 0


def test_signer_rate_limit_answers_429_with_retry_after(world: World):
    resident = world.chain.resident()
    body = _booking(world, resident)
    assert world.api.post("/v1/relay/forward", json=body).status_code == 200
    statuses = [world.api.post("/v1/relay/forward", json=body) for _ in range(SIGNER_BURST)]
    # The booking took one token, the replays the rest; then the bucket is empty.
    assert [r.status_code for r in statuses] == [409] * (SIGNER_BURST - 1) + [429]
    limited = statuses[-1]
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    # Another resident is not affected.
    other = world.chain.resident()
    assert world.api.post("/v1/relay/forward", json=_booking(world, other)).status_code == 200


def test_malformed_bodies_get_422(world: World):
    resident = world.chain.resident()
    body = _booking(world, resident)
    for change, words in (
        ({"from": "0x12"}, "from"),
        ({"data": "0xabc"}, "data"),
        ({"gas": -1}, "gas"),
        ({"extra": 1}, "extra"),
    ):
        error = error_of(world.api.post("/v1/relay/forward", json={**body, **change}), 422)
        assert words in error["message"]


# ------------------------------------------------------------------------------- raw relay


def test_raw_transactions_are_relayed_as_is(world: World):
    chain = world.chain
    resident = chain.resident()
    market = chain.contract("market")
    start, end = _window(world)
    base = {"from": resident.address, "gasPrice": 0, "chainId": chain.chain_id, "gas": 400_000}
    tx = market.functions.book(_slot(world), start, end, 10**9).build_transaction(
        {**base, "nonce": chain.w3.eth.get_transaction_count(resident.address)}
    )
    raw = "0x" + resident.sign_transaction(tx).raw_transaction.hex().removeprefix("0x")
    reply = world.api.post("/v1/relay/raw", json={"raw": raw})
    assert reply.status_code == 200, reply.text
    assert reply.json()["sender"] == resident.address
    receipt = chain.w3.eth.wait_for_transaction_receipt(reply.json()["txHash"], timeout=30)
    assert receipt["status"] == 1
    # Another transaction with the used nonce: the node refuses it.
    start, end = _window(world)
    reused = market.functions.book(_slot(world), start, end, 10**9).build_transaction(
        {**base, "nonce": tx["nonce"]}
    )
    raw_reused = "0x" + resident.sign_transaction(reused).raw_transaction.hex().removeprefix("0x")
    again = error_of(world.api.post("/v1/relay/raw", json={"raw": raw_reused}), 409)
    assert "ledger node refused" in again["message"]
    # A non-member's transaction: the permission gateway refuses it.
    stranger = Account.create()
    foreign = stranger.sign_transaction({**tx, "from": stranger.address, "nonce": 0})
    denied = error_of(
        world.api.post("/v1/relay/raw", json={"raw": "0x" + foreign.raw_transaction.hex()}), 403
    )
    assert "ledger node refused" in denied["message"]
    for bad in ("0xzz", "deadbeef", "0x1234"):
        error = error_of(world.api.post("/v1/relay/raw", json={"raw": bad}), 422)
        assert error["code"] == "bad_raw_transaction"


# ------------------------------------------------------------------------------- no secrets


def test_no_key_or_password_in_responses_or_logs(world: World):
    """Runs last in this module: every response body seen so far and every log line."""
    key = relayer_private_key(world).removeprefix("0x")
    lines = world.api.log_path.read_text()
    assert lines.strip(), "the API wrote no log lines"
    entries = world.api.log_lines()  # every line is JSON
    assert any(e.get("msg") == "relayed" for e in entries)
    assert any(e.get("msg") == "request" and e.get("route") for e in entries)
    for text in [*world.api.seen, lines]:
        assert key not in text.lower()
        assert API_PASSWORD not in text
    keystore = (world.api.data_dir / "keystore" / "relayer.json").read_text()
    assert '"ciphertext"' in keystore and key not in keystore
