"""Property: for any sequence of observed slot states, the on-chain bitmap equals a Python model.

Hypothesis runs many examples inside one test function, so the chain is not rolled back between
examples; the model is kept across examples too (it starts empty with the test's fresh chain),
which also exercises long report sequences."""

from __future__ import annotations

import pytest
from brownie import web3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citypass.protocol.occupancy_report import (
    ReportDomain,
    build_report,
    report_args,
    sign_report,
    signer_address,
)
from tests.contract_helpers import head_time

KEY = bytes([0x51]) * 32  # throwaway test key
FREE, OCCUPIED = 0, 1
# Slots across three words, with the word edges (255/256, 511/512) over-represented.
EDGE_SLOTS = st.sampled_from([1, 2, 254, 255, 256, 257, 300, 510, 511, 512, 513, 767])
SLOTS = st.one_of(EDGE_SLOTS, st.integers(1, 767))
REPORTS = st.lists(
    st.dictionaries(SLOTS, st.booleans(), min_size=1, max_size=24), min_size=1, max_size=5
)


@pytest.fixture(scope="module")
def oracle(system, people):
    oracle = system.occupancy
    oracle.setSigner(signer_address(KEY), True, {"from": people.admin})
    oracle.setSigner(people.oracle, False, {"from": people.admin})
    return oracle


@pytest.fixture
def model() -> dict[int, int]:
    """Word index → expected occupancy word, shared by all examples of one test."""
    return {}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(reports=REPORTS)
def test_bitmap_matches_model(oracle, people, model, reports):
    domain = ReportDomain(web3.eth.chain_id, oracle.address)
    for observed in reports:
        report = build_report(oracle.lastSequence() + 1, head_time(), observed)
        expected_changed = 0
        for slot, occupied in observed.items():
            word, bit = slot >> 8, 1 << (slot & 255)
            old = model.get(word, 0)
            new = old | bit if occupied else old & ~bit
            expected_changed += old != new
            model[word] = new
        tx = oracle.submitReport(
            report_args(report), [sign_report(report, KEY, domain)], {"from": people.oracle}
        )
        event = tx.events["OccupancyReported"]
        assert event["changed"] == expected_changed
        assert event["observed"] == len(observed)
        for word in range(3):
            assert oracle.occupancyWord(word) == model.get(word, 0)
        for slot, occupied in observed.items():
            assert oracle.occupancyOf(slot) == (OCCUPIED if occupied else FREE)
