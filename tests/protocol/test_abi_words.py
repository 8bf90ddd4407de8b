"""The one-word ABI readers give exactly what eth_abi's strict decoding gives, and step aside
(None) wherever eth_abi refuses a word, so a malformed log still fails with eth_abi's error."""

from __future__ import annotations

import pytest
from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from citypass.protocol.abi_words import read_words, word_reader, word_readers

TYPES = ["uint8", "uint64", "uint256", "int8", "int64", "int256", "address", "bool", "bytes1",
         "bytes4", "bytes32"]  # fmt: skip
WORDS = [
    bytes(32),
    (1).to_bytes(32, "big"),
    (2).to_bytes(32, "big"),
    (255).to_bytes(32, "big"),
    (256).to_bytes(32, "big"),
    (2**64 - 1).to_bytes(32, "big"),
    (2**64).to_bytes(32, "big"),
    b"\xff" * 32,
    (-128).to_bytes(32, "big", signed=True),
    (-129).to_bytes(32, "big", signed=True),
    (127).to_bytes(32, "big"),
    (128).to_bytes(32, "big"),
    bytes(12) + bytes.fromhex("ab" * 20),
    b"\x01" + bytes(11) + bytes.fromhex("ab" * 20),
    b"abcd" + bytes(28),
    b"abcd" + bytes(27) + b"\x01",
    b"a" + bytes(31),
    bytes(range(32)),
]


@pytest.mark.parametrize("kind", TYPES)
def test_each_word_reads_as_eth_abi_decodes_it(kind: str) -> None:
    reader = word_reader(kind)
    assert reader is not None
    for word in WORDS:
        try:
            expected = abi_decode([kind], word)[0]
        except DecodingError:
            assert reader(word) is None, (kind, word.hex())
            continue
        assert reader(word) == expected, (kind, word.hex())
        assert type(reader(word)) is type(expected)


def test_a_row_of_words_or_none() -> None:
    readers = word_readers(["uint256", "address", "bool"])
    assert readers is not None
    data = (7).to_bytes(32, "big") + bytes(12) + b"\x11" * 20 + (1).to_bytes(32, "big")
    assert read_words(readers, data) == list(abi_decode(["uint256", "address", "bool"], data))
    # A length other than one word per type (eth_abi tolerates trailing bytes): eth_abi decides.
    assert read_words(readers, data + bytes(32)) is None
    assert read_words(readers, data[:-1]) is None
    # A bad word anywhere: eth_abi decides (and refuses).
    assert read_words(readers, data[:-32] + (2).to_bytes(32, "big")) is None


def test_types_of_more_than_one_word_are_not_read_here() -> None:
    for kind in ("string", "bytes", "uint256[]", "(uint256,address)", "bytes33", "bytes0"):
        assert word_reader(kind) is None
    assert word_readers(["uint256", "string"]) is None


def test_every_event_of_our_contracts_decodes_as_with_eth_abi() -> None:
    """Each one-word event of the build artefacts, fed the same topics and data, gives the same
    arguments through the word readers as through eth_abi."""
    from dataclasses import replace

    from citypass.protocol.abi import _EventLayout, load_abi
    from citypass.protocol.contracts import CONTRACT_NAMES

    samples = {"address": bytes(12) + bytes.fromhex("5a" * 20), "bool": (1).to_bytes(32, "big"),
               "bytes32": bytes(range(32)), "bytes4": b"wxyz" + bytes(28)}  # fmt: skip
    checked = 0
    for name in sorted(set(CONTRACT_NAMES.values())):
        for item in load_abi(name):
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            layout = _EventLayout.of(name, item)
            if layout.topic_readers is None or layout.data_readers is None:
                continue
            words = {
                field["name"]: samples.get(field["type"], (i + 7).to_bytes(32, "big"))
                for i, field in enumerate(item["inputs"])
            }
            topics = [bytes(32)] + [words[n] for n, _kind in layout.indexed]
            data = b"".join(words[n] for n in layout.data_names)
            slow = replace(layout, topic_readers=None, data_readers=None)
            assert layout.decode(topics, data) == slow.decode(topics, data), (name, item["name"])
            checked += 1
    assert checked > 30
