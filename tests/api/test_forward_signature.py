"""The relayer's hand-made EIP-712 digest and signer recovery agree with eth_account on random
ForwardRequests, and refuse what OpenZeppelin's ECDSA refuses (no chain needed)."""

from __future__ import annotations

import random

from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from api.forward_signature import SECP256K1_N, forward_request_digest, recover_signer
from citypass.protocol.signing import FORWARD_REQUEST_TYPES, domain_separator

ADDRESSES = [Account.create().address for _ in range(4)]
KEYS = [Account.create() for _ in range(3)]


def _domain(chain_id: int, contract: str) -> dict:
    return {"name": "CityPassForwarder", "version": "1", "chainId": chain_id,
            "verifyingContract": contract}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    signer=st.sampled_from(KEYS),
    to=st.sampled_from(ADDRESSES),
    chain_id=st.integers(1, 2**64),
    gas=st.integers(21_000, 30_000_000),
    nonce=st.integers(0, 2**64),
    deadline=st.integers(0, 2**48 - 1),
    data=st.binary(max_size=300),
)
def test_digest_and_signer_match_eth_account(signer, to, chain_id, gas, nonce, deadline, data):
    domain = _domain(chain_id, ADDRESSES[0])
    message = {"from": signer.address, "to": to, "value": 0, "gas": gas, "nonce": nonce,
               "deadline": deadline, "data": data}  # fmt: skip
    signable = encode_typed_data(domain, FORWARD_REQUEST_TYPES, message)
    signature = bytes(Account.sign_message(signable, signer.key).signature)
    digest = forward_request_digest(
        domain_separator(domain), signer.address, to, 0, gas, nonce, deadline, data
    )
    assert recover_signer(digest, signature) == signer.address
    assert recover_signer(digest, signature) == Account.recover_message(
        signable, signature=signature
    )
    # Any other nonce is another message: another (or no) signer.
    other = forward_request_digest(
        domain_separator(domain), signer.address, to, 0, gas, nonce + 1, deadline, data
    )
    assert recover_signer(other, signature) != signer.address


def test_malformed_and_malleable_signatures_recover_nobody():
    digest = bytes(random.Random(5).randbytes(32))
    signature = bytes(Account.unsafe_sign_hash(digest, KEYS[0].key).signature)
    assert recover_signer(digest, signature) == KEYS[0].address
    assert recover_signer(digest, signature[:64]) is None  # too short
    assert recover_signer(digest, signature + b"\x00") is None  # too long
    assert recover_signer(digest, signature[:64] + bytes([29])) is None  # v not 27/28
    assert recover_signer(digest, bytes(32) + signature[32:]) is None  # r = 0
    # The same signature with s' = n - s (the "other half") is what OZ's ECDSA rejects.
    s = int.from_bytes(signature[32:64], "big")
    flipped = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([signature[64] ^ 1])
    assert recover_signer(digest, flipped) is None
