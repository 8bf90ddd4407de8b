"""The plate tag in signed sensor events: an event without a tag is signed exactly as before
the field existed; a tagged event is signed under the extended type (checked against
eth-account's generic EIP-712 encoder), its signature covers the tag, and the wire form
round-trips."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak

from citypass.protocol.sensor_events import (
    SENSOR_EVENT_TYPEHASH,
    SensorEvent,
    SensorEventError,
    parse_event,
    recover_signer,
    sign_event,
)
from tests.protocol.test_sensor_events import DEVICE, DEVICE_KEY, DOMAIN, _event

TAG = keccak(b"a plate tag stand-in")
_EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _tagged() -> SensorEvent:
    return _event(source_type="camera", plate_tag=TAG)


def _eth_account_signature(event: SensorEvent) -> bytes:
    typed = encode_typed_data(
        full_message={
            "types": {"EIP712Domain": _EIP712_DOMAIN, **event.types},
            "primaryType": "SensorEvent",
            "domain": DOMAIN.as_typed_data(),
            "message": event.message(),
        }
    )
    return bytes(Account.sign_message(typed, DEVICE_KEY).signature)


def test_a_tagged_event_is_signed_as_eth_account_signs_the_extended_type():
    event = _tagged()
    assert [f["name"] for f in event.types["SensorEvent"]][-1] == "plateTag"
    assert sign_event(event, DEVICE_KEY, DOMAIN).signature == _eth_account_signature(event)


def test_an_untagged_event_keeps_the_original_type():
    event = _event()
    assert "plateTag" not in event.message() and "plateTag" not in {
        f["name"] for f in event.types["SensorEvent"]
    }
    assert (
        keccak(
            b"SensorEvent(bytes32 eventId,address device,uint64 sequence,string eventType,"
            b"string sourceType,uint256 slotId,uint64 eventTimeMs,bool occupied,uint16 confidenceBps,"
            b"int32 latE6,int32 lonE6,string vehicleType,bytes32 evidenceHash)"
        )
        == SENSOR_EVENT_TYPEHASH
    )
    assert sign_event(event, DEVICE_KEY, DOMAIN).signature == _eth_account_signature(event)
    assert "plateTag" not in sign_event(event, DEVICE_KEY, DOMAIN).to_wire()


def test_the_wire_round_trip_keeps_the_tag_and_the_signature():
    signed = sign_event(_tagged(), DEVICE_KEY, DOMAIN)
    wire = signed.to_wire()
    assert wire["plateTag"] == "0x" + TAG.hex()
    parsed = parse_event(wire)
    assert parsed == signed and parsed.event.plate_tag == TAG
    assert recover_signer(parsed, DOMAIN) == DEVICE


@pytest.mark.parametrize("change", ["other tag", "removed"])
def test_the_signature_covers_the_tag(change):
    wire = sign_event(_tagged(), DEVICE_KEY, DOMAIN).to_wire()
    if change == "removed":
        del wire["plateTag"]
    else:
        wire["plateTag"] = "0x" + keccak(b"another plate").hex()
    assert recover_signer(parse_event(wire), DOMAIN) != DEVICE


@pytest.mark.parametrize(
    "value, message",
    [("0x" + "00" * 32, "plateTag must not be zero"), ("0x1234", "'plateTag' must be 0x and 32"),
     (12, "'plateTag' must be a str")],
)  # fmt: skip
def test_a_bad_tag_is_malformed(value, message):
    wire = sign_event(_tagged(), DEVICE_KEY, DOMAIN).to_wire()
    wire["plateTag"] = value
    with pytest.raises(SensorEventError, match=message) as caught:
        parse_event(wire)
    assert caught.value.reason == "malformed"
