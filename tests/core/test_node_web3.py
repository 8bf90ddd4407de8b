"""citypass/core/node_web3.py: the services' web3.py client asks a node for its chain id once,
however many calls it validates, and caches nothing else (a loopback JSON-RPC server counts
the requests)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from citypass.core.node_web3 import node_web3
from tests.loopback_http import JsonHandler, serving

CHAIN_ID = 82032
ANSWERS = {
    "eth_chainId": hex(CHAIN_ID),
    "eth_call": "0x" + "00" * 31 + "2a",
    "eth_blockNumber": "0x7",
}


@pytest.fixture
def node() -> Iterator[tuple[str, Counter]]:
    asked: Counter = Counter()

    class Node(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            asked[request["method"]] += 1
            result = ANSWERS[request["method"]]
            self.answer_json({"jsonrpc": "2.0", "id": request["id"], "result": result})

    with serving(Node) as (url,):
        yield f"{url}/t/token", asked


def test_the_chain_id_is_asked_once_and_block_reads_every_time(node):
    url, asked = node
    w3 = node_web3(url, timeout=5)
    call = {"to": "0x" + "11" * 20, "data": "0x12345678", "chainId": CHAIN_ID}
    for _ in range(5):
        assert int.from_bytes(w3.eth.call(call), "big") == 42
    assert w3.eth.chain_id == CHAIN_ID
    for _ in range(3):
        assert w3.eth.block_number == 7
    assert asked == Counter({"eth_call": 5, "eth_chainId": 1, "eth_blockNumber": 3})
    # A second client (another process, a restart) asks again.
    assert node_web3(url, timeout=5).eth.chain_id == CHAIN_ID
    assert asked["eth_chainId"] == 2


def test_a_call_declaring_another_chain_is_still_refused(node):
    url, _ = node
    w3 = node_web3(url, timeout=5)
    with pytest.raises(Exception, match="chain ID 1"):
        w3.eth.call({"to": "0x" + "11" * 20, "data": "0x", "chainId": 1})
