"""citypass/protocol/occupancy_report: packing, EIP-712 digest (vs eth-account and the contract), signing."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from citypass.protocol.occupancy_report import (
    MAX_REPORT_WORDS,
    MAX_SLOT_ID,
    REPORT_TYPES,
    OccupancyReportError,
    ReportDomain,
    build_report,
    report_args,
    report_digest,
    sign_report,
    sign_report_quorum,
    signer_address,
)

# Throwaway test keys (never used outside tests).
KEY_A = bytes.fromhex("11" * 32)
KEY_B = bytes.fromhex("22" * 32)
DOMAIN = ReportDomain(1337, "0x" + "ab" * 20)


def _eth_account_digest(report, domain: ReportDomain) -> bytes:
    signable = encode_typed_data(
        domain_data=domain.as_typed_data(),
        message_types=REPORT_TYPES,
        message_data=report.message(),
    )
    return _hash_eip191_message(signable)


def test_build_report_groups_slots_by_word_ascending():
    report = build_report(7, 1_700_000_000, {300: True, 1: False, 2: True, 256: False})
    assert report.word_indexes == (0, 1)
    assert report.masks == ((1 << 1) | (1 << 2), (1 << 0) | (1 << 44))
    assert report.values == (1 << 2, 1 << 44)
    assert report.slot_states() == {1: False, 2: True, 256: False, 300: True}
    assert report_args(report) == (7, 1_700_000_000, [0, 1], list(report.masks), [4, 1 << 44])


@pytest.mark.parametrize("slot", [0, MAX_SLOT_ID + 1, -1, True])
def test_build_report_rejects_slot_outside_range(slot):
    with pytest.raises(OccupancyReportError, match="outside 1..65535"):
        build_report(1, 1, {slot: True})


def test_build_report_rejects_empty_and_bad_counters():
    with pytest.raises(OccupancyReportError, match="at least one"):
        build_report(1, 1, {})
    with pytest.raises(OccupancyReportError, match="sequence 0"):
        build_report(0, 1, {1: True})
    with pytest.raises(OccupancyReportError, match="observed_at"):
        build_report(1, 2**64, {1: True})


def test_build_report_rejects_too_many_words():
    observed = {(word << 8) | 1: True for word in range(MAX_REPORT_WORDS + 1)}
    with pytest.raises(OccupancyReportError, match="split them"):
        build_report(1, 1, observed)
    assert len(build_report(1, 1, dict(list(observed.items())[:-1])).word_indexes) == 64


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.integers(1, MAX_SLOT_ID), st.booleans(), min_size=1, max_size=40),
    st.integers(1, 2**64 - 1),
    st.integers(1, 2**64 - 1),
)
def test_digest_matches_eth_account_and_roundtrips(observed, sequence, observed_at):
    report = build_report(sequence, observed_at, observed)
    assert report.slot_states() == observed
    assert report_digest(report, DOMAIN) == _eth_account_digest(report, DOMAIN)


def test_signature_recovers_signer_with_eth_account():
    report = build_report(1, 1_700_000_000, {5: True})
    signature = sign_report(report, KEY_A, DOMAIN)
    assert len(signature) == 65 and signature[64] in (27, 28)
    recovered = Account._recover_hash(report_digest(report, DOMAIN), signature=signature)  # noqa: SLF001
    assert recovered == signer_address(KEY_A) == Account.from_key(KEY_A).address


def test_digest_depends_on_domain_and_every_field():
    report = build_report(1, 1_700_000_000, {5: True})
    base = report_digest(report, DOMAIN)
    assert report_digest(report, ReportDomain(1338, DOMAIN.verifying_contract)) != base
    assert report_digest(build_report(2, 1_700_000_000, {5: True}), DOMAIN) != base
    assert report_digest(build_report(1, 1_700_000_001, {5: True}), DOMAIN) != base
    assert report_digest(build_report(1, 1_700_000_000, {5: False}), DOMAIN) != base
    assert report_digest(build_report(1, 1_700_000_000, {6: True}), DOMAIN) != base


def test_quorum_signatures_are_sorted_by_signer():
    report = build_report(1, 1_700_000_000, {5: True})
    signatures = sign_report_quorum(report, [KEY_A, KEY_B], DOMAIN)
    digest = report_digest(report, DOMAIN)
    signers = [Account._recover_hash(digest, signature=s) for s in signatures]  # noqa: SLF001
    assert [int(s, 16) for s in signers] == sorted(int(s, 16) for s in signers)
    assert set(signers) == {signer_address(KEY_A), signer_address(KEY_B)}
