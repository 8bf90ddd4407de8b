"""Independent oracles: three separate `citypass-oracle run` processes (own keys, keystores and
data directories) at quorum 2 of 3 on a real ledger node. Each daemon gets the edge's signed
events itself (posted to its inbox as the edge delivers them); reports need co-signatures from
other daemons over HTTP; one daemon killed does not stop reports and catches up after its
restart; a lying daemon never gets its false state on chain; bad co-sign requests get 4xx."""

from __future__ import annotations

import pytest
import requests
from eth_account import Account

from citypass.protocol.occupancy_report import (
    ReportDomain,
    build_report,
    sign_report,
)
from tests.oracle_helpers import start_chain, wait_until
from tests.oracle_quorum_helpers import landed_signers, occupied_bit, start_oracle_set

SLOTS = list(range(3001, 3007))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("oracle-quorum")
    chain = start_chain(base)
    daemons = start_oracle_set(chain, base, 3, 2)
    mag = chain.register_device("magnetometer", SLOTS)
    wait_until(lambda: all(d.health()["devices"] >= 1 for d in daemons))
    yield chain, daemons, mag
    for daemon in daemons:
        daemon.stop()
    chain.node.stop()


def last_sequence(chain) -> int:
    return chain.contract("occupancy").functions.lastSequence().call()


def deliver(daemons, events) -> None:
    """As the edge does: the same signed events to every (running) oracle daemon."""
    for daemon in daemons:
        reply = daemon.post(events).json()
        assert len(reply["accepted"]) + len(reply["duplicates"]) == len(events), reply


def park(chain, mag, slot: int, occupied: bool):
    return mag.event("park_start" if occupied else "park_end", slot, chain.head_time() * 1000)


def test_reports_carry_signatures_of_separate_daemons(world):
    chain, daemons, mag = world
    keys = {d.health()["signer"] for d in daemons}
    assert len(keys) == 3  # three daemons, three distinct keys
    before = last_sequence(chain)
    deliver(daemons, [park(chain, mag, SLOTS[0], True), park(chain, mag, SLOTS[1], True)])
    wait_until(lambda: occupied_bit(chain, SLOTS[0]) and occupied_bit(chain, SLOTS[1]))
    landed = range(before + 1, last_sequence(chain) + 1)
    assert landed
    for sequence in landed:
        signers = landed_signers(chain, sequence)
        assert len(set(signers)) >= 2 and set(signers) <= keys, signers
    assert sum(d.metric("citypass_oracle_cosigned_total") for d in daemons) >= 1


def test_a_killed_daemon_does_not_stop_reports_and_catches_up(world):
    chain, daemons, mag = world
    down = daemons[1]
    down.kill()  # -9: no clean shutdown
    missed = [park(chain, mag, SLOTS[2], True)]
    deliver([daemons[0], daemons[2]], missed)
    wait_until(lambda: occupied_bit(chain, SLOTS[2]), timeout=20)
    down.process = None
    down.start()
    # The edge's outbox keeps what the daemon missed and delivers it once it is back.
    deliver([down], missed)
    wait_until(lambda: down.health()["inboxDepth"] == 0 and down.health()["pendingReports"] == 0)
    before = last_sequence(chain)
    deliver(daemons, [park(chain, mag, SLOTS[2], False), park(chain, mag, SLOTS[3], True)])
    wait_until(lambda: not occupied_bit(chain, SLOTS[2]) and occupied_bit(chain, SLOTS[3]))
    back = down.health()["signer"]
    signed = [landed_signers(chain, s) for s in range(before + 1, last_sequence(chain) + 1)]
    wait_until(lambda: down.health()["lastReportSequence"] >= last_sequence(chain))
    assert any(back in signers for signers in signed), signed  # it co-signs again


def test_a_lying_daemon_never_gets_its_false_state_on_chain(world):
    chain, daemons, mag = world
    liar = daemons[2]
    liar.stop()
    liar.process = None
    liar.env = {"CITYPASS_ORACLE_TEST_FAULT": "lie"}
    liar.start()
    truth = {SLOTS[4]: True, SLOTS[5]: True, SLOTS[0]: False}
    # Three rounds, so at least one sequence is the liar's turn to propose.
    for slot, occupied in truth.items():
        before = last_sequence(chain)
        deliver(daemons, [park(chain, mag, slot, occupied)])
        wait_until(lambda b=before: last_sequence(chain) > b, timeout=20)
        wait_until(lambda s=slot, o=occupied: occupied_bit(chain, s) == o, timeout=20)
    assert {s: occupied_bit(chain, s) for s in truth} == truth
    assert occupied_bit(chain, SLOTS[1]) and occupied_bit(chain, SLOTS[3])
    refused = sum(
        d.metric("citypass_oracle_cosign_refused_total", 'reason="mismatch"') for d in daemons[:2]
    )
    assert refused >= 1
    assert liar.metric("citypass_oracle_peer_answers_total", 'answer="mismatch"') >= 1
    liar_key = liar.health()["signer"]
    for sequence in range(1, last_sequence(chain) + 1):
        signers = landed_signers(chain, sequence)
        assert [s for s in signers if s != liar_key], f"report {sequence} signed by the liar only"


def proposal(chain, key: bytes, sequence: int, states: dict[int, bool], **changes) -> dict:
    domain = ReportDomain(chain.chain_id, chain.system.occupancy.address)
    report = build_report(sequence, chain.head_time(), states)
    body = {
        "chainId": chain.chain_id,
        "contract": chain.system.occupancy.address,
        "proposer": Account.from_key(key).address,
        "signature": "0x" + sign_report(report, key, domain).hex(),
        "report": report.message(),
    }
    return {**body, **changes}


def test_bad_cosign_requests_get_a_4xx_naming_the_problem(world):
    chain, daemons, _mag = world
    honest = daemons[0]
    # A quiet world first: the honest daemons have nothing left to report.
    wait_until(lambda: all(d.health()["pendingReports"] == 0 for d in daemons[:2]))
    url = honest.url + "/v1/peer/cosign"
    peer_key = daemons[1].key
    stranger = bytes(Account.create().key)
    nxt = last_sequence(chain) + 1
    truth = {SLOTS[1]: True}
    good = proposal(chain, peer_key, nxt, truth)
    forged = proposal(chain, stranger, nxt, truth, proposer=good["proposer"])
    bad_values = {**good, "report": {**good["report"], "values": [good["report"]["masks"][0] * 2]}}
    cases = [
        ("{not json", 400, "malformed", "not JSON"),
        ({**good, "extra": 1}, 400, "invalid", "extra"),
        ({**good, "report": {**good["report"], "sequence": "7"}}, 400, "invalid", "sequence"),
        ({k: v for k, v in good.items() if k != "signature"}, 400, "invalid", "signature"),
        (bad_values, 400, "invalid_report", "outside the mask"),
        ({**good, "chainId": chain.chain_id + 1}, 400, "wrong_chain", "chainId"),
        ({**good, "contract": chain.system.devices.address}, 400, "wrong_contract", "contract"),
        (forged, 401, "forged_signature", "not by the proposer"),
        (proposal(chain, stranger, nxt, truth), 403, "not_a_signer", "not a registered"),
        (proposal(chain, peer_key, nxt - 1, truth), 409, "old_sequence", "the chain is at"),
        (proposal(chain, peer_key, nxt, {SLOTS[1]: False}), 409, "mismatch", f"slot {SLOTS[1]}"),
    ]
    pending = honest.health()["pendingReports"]
    for body, status, error, words in cases:
        if isinstance(body, str):
            reply = requests.post(url, data=body, timeout=10)
        else:
            reply = requests.post(url, json=body, timeout=10)
        assert reply.status_code == status, (error, reply.text)
        answer = reply.json()
        assert answer["error"] == error and words in answer["message"], answer
    # Nothing changed: no report on chain, none pending, and every refusal counted.
    assert last_sequence(chain) == nxt - 1
    assert honest.health()["pendingReports"] == pending
    assert honest.metric("citypass_oracle_cosign_refused_total", 'reason="not_a_signer"') >= 1
    # The control case: the same daemon co-signs a registered peer's true proposal.
    reply = requests.post(url, json=good, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["signer"] == honest.health()["signer"]
