"""EIP-712 typed data: the domains and their separators for every signed format (the sensor events,
the occupancy reports and the forwarder's requests hash theirs here), and the typed data residents
sign in their wallets: EIP-2612 permits for CityCredit and ERC-2771 forward requests for the
CityForwarder. Used by tests, benchmarks and the API, which serves the same typed data to wallet
apps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from eth_account import Account
from eth_account.messages import encode_typed_data, hash_domain
from eth_utils import to_checksum_address


def typed_struct(encoded_type: str) -> dict[str, list[dict[str, str]]]:
    """The `types` entry of EIP-712 typed data (what wallets sign with eth_signTypedData_v4) from
    the struct's encodeType string, e.g. "Permit(address owner,uint256 value)". Each struct is
    written once, in the form the contracts hash, so the two cannot drift apart."""
    match = re.fullmatch(r"(\w+)\(([^()]*)\)", encoded_type)
    if match is None:
        raise ValueError(f"not an EIP-712 encodeType string: {encoded_type!r}")
    name, members = match.groups()
    fields = [member.split(" ") for member in members.split(",")] if members else []
    return {name: [{"name": field_name, "type": field_type} for field_type, field_name in fields]}


# The domain fields every CityPass contract signs under (OpenZeppelin's EIP712, no salt).
EIP712_DOMAIN_TYPE = typed_struct(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)["EIP712Domain"]

PERMIT_TYPES = typed_struct(
    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)

FORWARD_REQUEST_TYPES = typed_struct(
    "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,"
    "uint48 deadline,bytes data)"
)


@dataclass(frozen=True)
class Signature:
    v: int
    r: bytes
    s: bytes
    signature: bytes


def domain(name: str, version: str, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "chainId": chain_id,
        "verifyingContract": verifying_contract,
    }


def domain_separator(domain_data: Mapping[str, Any]) -> bytes:
    """hashStruct(EIP712Domain) of a domain: what a contract's `_domainSeparatorV4()` returns and
    every digest starts from. eth-account's own hashing (~60 µs), cached per domain: the services
    hash thousands of messages a second under a handful of domains."""
    return _domain_separator(tuple(sorted(domain_data.items())))


@lru_cache(maxsize=256)
def _domain_separator(domain_items: tuple[tuple[str, Any], ...]) -> bytes:
    return bytes(hash_domain(dict(domain_items)))


@dataclass(frozen=True)
class ContractDomain:
    """The EIP-712 domain of one CityPass contract: which chain and which deployment a signature is
    for. Subclasses name the contract (`NAME`, `VERSION`) as its constructor does."""

    NAME: ClassVar[str]
    VERSION: ClassVar[str] = "1"

    chain_id: int
    verifying_contract: str

    def as_typed_data(self) -> dict[str, Any]:
        return domain(
            self.NAME, self.VERSION, self.chain_id, to_checksum_address(self.verifying_contract)
        )

    @cached_property
    def separator(self) -> bytes:
        return domain_separator(self.as_typed_data())


def sign_typed(
    private_key: bytes | str, domain_data: dict, types: dict, message: dict
) -> Signature:
    signable = encode_typed_data(domain_data=domain_data, message_types=types, message_data=message)
    signed = Account.sign_message(signable, private_key)
    r = signed.r.to_bytes(32, "big")
    s = signed.s.to_bytes(32, "big")
    return Signature(v=signed.v, r=r, s=s, signature=r + s + bytes([signed.v]))


def permit_message(owner: str, spender: str, value: int, nonce: int, deadline: int) -> dict:
    return {
        "owner": owner,
        "spender": spender,
        "value": value,
        "nonce": nonce,
        "deadline": deadline,
    }


def sign_permit(
    private_key: bytes | str,
    *,
    token_name: str,
    token_address: str,
    chain_id: int,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
) -> Signature:
    return sign_typed(
        private_key,
        domain(token_name, "1", chain_id, token_address),
        PERMIT_TYPES,
        permit_message(owner, spender, value, nonce, deadline),
    )


def forward_request(
    sender: str,
    target: str,
    data: bytes,
    *,
    nonce: int,
    deadline: int,
    gas: int = 500_000,
    value: int = 0,
) -> dict:
    return {
        "from": sender,
        "to": target,
        "value": value,
        "gas": gas,
        "nonce": nonce,
        "deadline": deadline,
        "data": data,
    }


def sign_forward_request(
    private_key: bytes | str, *, forwarder_address: str, chain_id: int, request: dict
) -> Signature:
    return sign_typed(
        private_key,
        domain("CityPassForwarder", "1", chain_id, forwarder_address),
        FORWARD_REQUEST_TYPES,
        request,
    )


def request_data_tuple(request: dict, signature: bytes) -> tuple:
    """The ERC2771Forwarder.ForwardRequestData tuple for `execute`."""
    return (
        request["from"],
        request["to"],
        request["value"],
        request["gas"],
        request["deadline"],
        request["data"],
        signature,
    )
