"""CityForwarder.executeBatch calldata, ABI-encoded by hand.

eth_abi spent ~34 µs of CPU per request on the batch's (address,address,uint256,uint256,uint48,
bytes,bytes)[] (this by hand: ~2 µs). The layout is fixed
(Solidity ABI: a dynamic array of dynamic tuples, each with two byte strings), so it is written
word by word here; tests/api/test_execute_batch.py compares it with eth_abi on random batches.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import keccak

EXECUTE_BATCH_SIGNATURE = (
    "executeBatch((address,address,uint256,uint256,uint48,bytes,bytes)[],address)"
)
EXECUTE_BATCH_SELECTOR = keccak(text=EXECUTE_BATCH_SIGNATURE)[:4]
# One ForwardRequestData: (from, to, value, gas, deadline, data, signature).
RequestTuple = tuple[str, str, int, int, int, bytes, bytes]
_HEAD_WORDS = 7  # the tuple's static head: five values and two offsets


def execute_batch_calldata(requests: Sequence[RequestTuple], refund_receiver: str) -> bytes:
    """selector ‖ abi.encode(requests, refundReceiver), as eth_abi encodes it."""
    elements = [_tuple(request) for request in requests]
    offsets = []
    at = 32 * len(elements)  # element offsets count from the first offset word
    for element in elements:
        offsets.append(_word(at))
        at += len(element)
    return b"".join(
        (
            EXECUTE_BATCH_SELECTOR,
            _word(64),  # the array's offset, after the two head words
            _address(refund_receiver),
            _word(len(elements)),
            *offsets,
            *elements,
        )
    )


def _tuple(request: RequestTuple) -> bytes:
    sender, to, value, gas, deadline, data, signature = request
    data_part = _bytes(data)
    return b"".join(
        (
            _address(sender),
            _address(to),
            _word(value),
            _word(gas),
            _word(deadline),
            _word(32 * _HEAD_WORDS),
            _word(32 * _HEAD_WORDS + len(data_part)),
            data_part,
            _bytes(signature),
        )
    )


def _bytes(value: bytes) -> bytes:
    """Length word, then the bytes right-padded to whole words."""
    return _word(len(value)) + value + bytes(-len(value) % 32)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])
