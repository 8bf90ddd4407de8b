"""Witness names: the bytes32 labels CityAccess stores."""

from __future__ import annotations

import pytest

from citypass.protocol.witness_names import decode_witness_name, encode_witness_name


def test_a_label_round_trips_through_its_bytes32():
    raw = encode_witness_name("audit-office")
    assert len(raw) == 32 and raw.startswith(b"audit-office\x00")
    assert decode_witness_name(raw) == "audit-office"


@pytest.mark.parametrize("bad", ["", "Audit", "-x", "a" * 33, "감사실", "a b"])
def test_a_label_outside_the_grammar_is_refused_with_the_rule(bad):
    with pytest.raises(ValueError, match="lower-case letters, digits and hyphens"):
        encode_witness_name(bad)


def test_bytes_set_by_hand_are_shown_hex_escaped():
    assert decode_witness_name(b"\xff\x01".ljust(32, b"\x00")) == "0xff01"
