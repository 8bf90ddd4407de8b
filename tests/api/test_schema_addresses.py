"""The API's address field checksums exactly as eth_utils does (its own fast EIP-55), whatever
the case it is sent in, and refuses what is not an address (no chain needed)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import to_checksum_address
from pydantic import TypeAdapter, ValidationError

from api.schemas.common import Address
from citypass.protocol.abi import checksum

ADDRESS = TypeAdapter(Address)


def test_checksum_matches_eth_utils_in_any_case():
    addresses = [Account.create().address for _ in range(300)] + [
        "0x" + "0" * 40, "0x" + "f" * 40, "0x" + "9" * 40,
        "0x52908400098527886E0F7030069857D2E4169EE7",  # EIP-55's own example
    ]  # fmt: skip
    for address in addresses:
        expected = to_checksum_address(address)
        for sent in (address, address.lower(), "0x" + address[2:].upper()):
            assert ADDRESS.validate_python(sent) == expected


def test_what_is_not_an_address_is_refused():
    for bad in ["", "0x", "0x1234", "52908400098527886E0F7030069857D2E4169EE7", "0x" + "g" * 40,
                "0x" + "0" * 41, " 0x" + "0" * 40]:  # fmt: skip
        with pytest.raises(ValidationError, match="0x-prefixed address of 40 hex digits"):
            ADDRESS.validate_python(bad)


def test_protocol_checksum_is_eth_utils_and_refuses_non_addresses():
    # citypass.protocol.abi.checksum is the one fast EIP-55 the API's fields and the event
    # decoder (relay outcomes, the indexer) share.
    for address in [Account.create().address for _ in range(50)]:
        assert (
            checksum(address.lower())
            == checksum(address.upper().replace("0X", "0x"))
            == (to_checksum_address(address))
        )
    for bad in [
        "0x" + "g" * 40,
        "0x" + "0" * 41,
        "0x" + "0" * 39,
        "1x" + "0" * 40,
        "0x" + " " * 40,
    ]:
        with pytest.raises(ValueError, match="not a 0x address of 40 hex digits"):
            checksum(bad)
