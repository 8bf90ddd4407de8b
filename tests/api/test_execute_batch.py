"""The relayer's hand-encoded executeBatch calldata is byte for byte what eth_abi encodes, for
random batches (empty data, data not a multiple of 32 bytes, long signatures; no chain needed)."""

from __future__ import annotations

from eth_abi import encode
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from api.execute_batch import EXECUTE_BATCH_SELECTOR, execute_batch_calldata

ADDRESSES = [Account.create().address for _ in range(4)]

REQUESTS = st.tuples(
    st.sampled_from(ADDRESSES), st.sampled_from(ADDRESSES), st.integers(0, 2**256 - 1),
    st.integers(0, 2**256 - 1), st.integers(0, 2**48 - 1), st.binary(max_size=200),
    st.binary(max_size=100),
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(requests=st.lists(REQUESTS, max_size=6), refund=st.sampled_from(ADDRESSES))
def test_calldata_is_eth_abis(requests, refund):
    expected = EXECUTE_BATCH_SELECTOR + encode(
        ["(address,address,uint256,uint256,uint48,bytes,bytes)[]", "address"], [requests, refund]
    )
    assert execute_batch_calldata(requests, refund) == expected


def test_selector_is_the_forwarders():
    # CityForwarder's executeBatch as the compiled ABI names it (OpenZeppelin ERC2771Forwarder).
    assert EXECUTE_BATCH_SELECTOR.hex() == "ccf96b4a"
