"""citypass.protocol.review_reasons mirrors IncidentRegistry's ReviewReason: the same names in the
same order as the Solidity enum (a code's position is its on-chain value), every code fits at
least one action, and the conversions refuse what is not a code. That the table of which codes
fit which action is the contract's own is checked on chain in
tests/contracts/test_incident_registry.py."""

from __future__ import annotations

import re

import pytest

from citypass.protocol.review_reasons import (
    NEEDS_DETAILS,
    REASONS_FOR,
    REVIEW_REASONS,
    reason_code,
    reason_name,
)
from tests.oracle_helpers import ROOT


def _solidity_enum(name: str) -> tuple[str, ...]:
    source = (ROOT / "contracts" / "types" / "SensorTypes.sol").read_text()
    body = re.search(rf"enum {name}\s*\{{(.*?)\}}", source, re.S)
    assert body, f"enum {name} is not in SensorTypes.sol"
    lines = (line.split("//", 1)[0].strip().rstrip(",") for line in body.group(1).splitlines())
    return tuple(line for line in lines if line)


def test_the_names_are_the_solidity_enums_in_its_order():
    assert _solidity_enum("ReviewReason") == REVIEW_REASONS


def test_every_code_fits_an_action_and_only_shared_ones_need_details():
    assert set(REVIEW_REASONS) == set(REASONS_FOR["confirm"]) | set(REASONS_FOR["dismiss"])
    assert set(REASONS_FOR["confirm"]) & set(REASONS_FOR["dismiss"]) == NEEDS_DETAILS


def test_codes_and_names_convert_both_ways():
    for code, name in enumerate(REVIEW_REASONS):
        assert reason_code(name) == code and reason_name(code) == name
    assert reason_name(len(REVIEW_REASONS)) == f"#{len(REVIEW_REASONS)}"
    with pytest.raises(ValueError):
        reason_code("towed")
