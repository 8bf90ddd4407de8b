"""The plate leak check itself (tests/demo/plate_leaks.py), which test_demo_serving.py runs
after a real demo day: a plate planted in a transaction's input on a real node, or in a file
(in clear or hex-encoded, as typed or normalised), is found; a clean chain and tree are not
flagged."""

from __future__ import annotations

import json

import pytest

from tests.demo.plate_leaks import chain_leaks, file_leaks, needles
from tests.oracle_helpers import start_chain

PLATE = "12가 3456"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    chain = start_chain(tmp_path_factory.mktemp("leaks"))
    yield chain
    chain.node.stop()


def test_the_needles_are_both_spellings_in_clear_and_in_hex():
    found = needles([PLATE])
    assert set(found) == {"12가 3456", "12가3456"}
    assert found["12가3456"] == ("12가3456".encode(), "12가3456".encode().hex(), b"12\\uac003456")


def test_a_plate_planted_in_a_transactions_input_is_found(chain):
    found = needles([PLATE])
    assert chain_leaks(chain.node.url, found) == []
    resident = chain.resident()
    approve = chain.contract("credit").functions.approve(resident.address, 1)
    calldata = approve._encode_transaction_data() + "12가3456".encode().hex()
    nonce = chain.w3.eth.get_transaction_count(resident.address)
    tx = {"to": approve.address, "data": calldata, "gas": 200_000, "gasPrice": 0,
          "nonce": nonce, "chainId": chain.chain_id}  # fmt: skip
    signed = resident.sign_transaction(tx)
    tx_hash = chain.w3.eth.send_raw_transaction(signed.raw_transaction)
    assert chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)["status"] == 1
    leaks = chain_leaks(chain.node.url, found)
    assert leaks == [f"tx 0x{bytes(tx_hash).hex()} input: 12가3456"]


@pytest.mark.parametrize(
    "content",
    [PLATE.encode(), b"x" + "12가3456".encode() + b"y", "12가3456".encode().hex().upper().encode(),
     json.dumps({"plate": PLATE}).encode(), b'{"p": "12\\uAC003456"}'],
)  # fmt: skip
def test_a_plate_planted_in_a_file_is_found(tmp_path, content):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "clean.log").write_text('{"msg": "vehicle registered"}\n')
    found = needles([PLATE])
    assert file_leaks([tmp_path], found) == []
    (tmp_path / "logs" / "daemon.log").write_bytes(content)
    leaks = file_leaks([tmp_path], found)
    assert leaks and all(leak.startswith(f"{tmp_path / 'logs' / 'daemon.log'}: ") for leak in leaks)
    assert file_leaks([tmp_path], found, skip=[tmp_path / "logs"]) == []
