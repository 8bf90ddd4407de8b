"""citypass/protocol/signing.domain_separator: eth-account's EIP-712 domain hash, the one every
signed format (sensor events, occupancy reports, forward requests) starts its digest from."""

from __future__ import annotations

import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from citypass.protocol.occupancy_report import ReportDomain
from citypass.protocol.sensor_events import EventDomain
from citypass.protocol.signing import (
    EIP712_DOMAIN_TYPE,
    FORWARD_REQUEST_TYPES,
    domain,
    domain_separator,
    typed_struct,
)

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def by_hand(name: str, version: str, chain_id: int, contract: str) -> bytes:
    """OpenZeppelin's EIP712._buildDomainSeparator, written out."""
    type_hash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    return keccak(
        type_hash
        + keccak(text=name)
        + keccak(text=version)
        + chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(contract[2:])
    )


def test_domain_separator_is_the_contracts_and_ignores_key_order_and_address_case():
    data = domain("CityPassForwarder", "1", 1337, CONTRACT)
    expected = by_hand("CityPassForwarder", "1", 1337, CONTRACT)
    assert domain_separator(data) == expected
    assert domain_separator(dict(reversed(list(data.items())))) == expected
    assert domain_separator({**data, "verifyingContract": CONTRACT.lower()}) == expected
    assert domain_separator({**data, "chainId": 1338}) != expected


def test_domain_separator_is_what_encode_typed_data_signs_under():
    data = domain("CityPassForwarder", "1", 82032, CONTRACT)
    message = {"from": CONTRACT, "to": CONTRACT, "value": 0, "gas": 1, "nonce": 0,
               "deadline": 0, "data": b""}  # fmt: skip
    signable = encode_typed_data(
        full_message={
            "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, **FORWARD_REQUEST_TYPES},
            "primaryType": "ForwardRequest",
            "domain": data,
            "message": message,
        }
    )
    assert bytes(signable.header) == domain_separator(data)


def test_event_and_report_domains_hash_under_their_own_names():
    events = EventDomain(82032, CONTRACT.lower())
    reports = ReportDomain(82032, CONTRACT)
    assert events.separator == by_hand("CityPass Sensor Events", "1", 82032, CONTRACT)
    assert reports.separator == by_hand("CityPass OccupancyOracle", "1", 82032, CONTRACT)
    assert events.as_typed_data()["verifyingContract"] == CONTRACT


def test_typed_struct_lists_the_fields_in_the_order_the_contract_hashes_them():
    assert typed_struct("TripEnd(uint256 tripId,uint64 endedAt,int64 distanceMeters)") == {
        "TripEnd": [
            {"name": "tripId", "type": "uint256"},
            {"name": "endedAt", "type": "uint64"},
            {"name": "distanceMeters", "type": "int64"},
        ]
    }
    assert [field["name"] for field in EIP712_DOMAIN_TYPE] == [
        "name",
        "version",
        "chainId",
        "verifyingContract",
    ]


@pytest.mark.parametrize(
    "bad", ["Permit", "Permit(address owner", "(address owner)", "A(b c)(d e)"]
)
def test_typed_struct_refuses_what_is_not_an_encode_type_string(bad):
    with pytest.raises(ValueError, match="not an EIP-712 encodeType string"):
        typed_struct(bad)
