"""The signed sensor-event format shared by edge_oracle and the oracle daemon."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from brownie.test import given
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import settings
from hypothesis import strategies as st

from citypass.protocol.sensor_events import (
    SENSOR_EVENT_TYPES,
    EventDomain,
    SensorEvent,
    SensorEventError,
    derive_event_id,
    evidence_hash,
    parse_event,
    recover_signer,
    sign_event,
)

# Throwaway test key (never used outside tests).
DEVICE_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
DEVICE = Account.from_key(DEVICE_KEY).address
DOMAIN = EventDomain(82032, "0x" + "ab" * 20)


def _event(**overrides) -> SensorEvent:
    base = SensorEvent(
        device=DEVICE,
        sequence=7,
        event_type="park_start",
        source_type="in_ground",
        slot_id=37,
        event_time_ms=1_790_000_000_123,
        occupied=True,
        confidence_bps=9_700,
        lat_e6=37_503_000,
        lon_e6=126_786_000,
        vehicle_type="car",
    )
    return replace(base, **overrides) if overrides else base


@settings(max_examples=40, deadline=None)
@given(
    sequence=st.integers(1, 2**64 - 1),
    slot=st.integers(0, 2**256 - 1),
    lat=st.integers(-(2**31), 2**31 - 1),
    occupied=st.booleans(),
    kind=st.sampled_from(["park_start", "jaywalking", "scheduled_report"]),
)
def test_digest_matches_eth_account_typed_data(sequence, slot, lat, occupied, kind):
    event = _event(
        sequence=sequence,
        event_id=b"",
        slot_id=slot,
        lat_e6=lat,
        occupied=occupied,
        event_type=kind,
    )
    event = replace(event, event_id=derive_event_id(DEVICE, sequence))
    typed = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                **SENSOR_EVENT_TYPES,
            },
            "primaryType": "SensorEvent",
            "domain": DOMAIN.as_typed_data(),
            "message": event.message(),
        }
    )
    signed = Account.sign_message(typed, DEVICE_KEY)
    ours = sign_event(event, DEVICE_KEY, DOMAIN)
    assert signed.signature == ours.signature
    assert recover_signer(ours, DOMAIN) == DEVICE


def test_wire_round_trip_keeps_signature_valid():
    image = b"\xff\xd8 a camera still"
    signed = sign_event(
        _event(source_type="camera", event_type="illegal_parking"), DEVICE_KEY, DOMAIN, image
    )
    parsed = parse_event(signed.to_wire())
    assert parsed == signed
    assert parsed.event.evidence_hash == evidence_hash(image)
    assert recover_signer(parsed, DOMAIN) == DEVICE


def test_other_domain_recovers_another_address():
    signed = sign_event(_event(), DEVICE_KEY, DOMAIN)
    assert recover_signer(signed, EventDomain(1, DOMAIN.registry)) != DEVICE


def test_tampered_field_recovers_another_address():
    signed = sign_event(_event(), DEVICE_KEY, DOMAIN)
    wire = signed.to_wire()
    wire["slotId"] = 38
    assert recover_signer(parse_event(wire), DOMAIN) != DEVICE


def test_high_s_signature_is_refused():
    signed = sign_event(_event(), DEVICE_KEY, DOMAIN)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signed.signature[32:64], "big")
    flipped = (
        signed.signature[:32] + (n - s).to_bytes(32, "big") + bytes([55 - signed.signature[64]])
    )
    with pytest.raises(SensorEventError, match="malleable") as info:
        recover_signer(replace(signed, signature=flipped), DOMAIN)
    assert info.value.reason == "bad_signature"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sequence": 0}, "sequence starts at 1"),
        ({"sequence": "7"}, "'sequence' must be a int"),
        ({"occupied": 1}, "'occupied' must be a bool"),
        ({"eventType": "parked"}, "eventType 'parked'"),
        ({"sourceType": "radar"}, "sourceType 'radar'"),
        ({"vehicleType": "12GA3456"}, "vehicleType"),
        ({"confidenceBps": 10_001}, "confidenceBps"),
        ({"latE6": 91_000_000}, "latE6/lonE6"),
        ({"slotId": -1}, "uint256"),
        ({"eventId": "0x" + "00" * 32}, "eventId must be keccak256"),
        ({"signature": "0x1234"}, "65 hex bytes"),
        ({"device": "not an address"}, "device must be"),
        ({"evidence": "***"}, "base64"),
        ({"evidence": base64.b64encode(b"other").decode()}, "not the SHA-256"),
    ],
)
def test_malformed_fields_are_named(change, message):
    wire = sign_event(_event(), DEVICE_KEY, DOMAIN).to_wire()
    wire.update(change)
    with pytest.raises(SensorEventError, match=message) as info:
        parse_event(wire)
    assert info.value.reason == "malformed"


def test_missing_field_is_named():
    wire = sign_event(_event(), DEVICE_KEY, DOMAIN).to_wire()
    del wire["eventTimeMs"]
    with pytest.raises(SensorEventError, match="'eventTimeMs' is missing"):
        parse_event(wire)
    with pytest.raises(SensorEventError, match="JSON object"):
        parse_event(["not", "an", "object"])
