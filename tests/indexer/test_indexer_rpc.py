"""The indexer's JSON-RPC client against a real ledger node whose engine is killed: the node's
"retry later" answers (-32005 while it restores its engine) are waited out, never a reason for
the follower process to stop (it did: the served demo's indexer exited on the first one)."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
import requests

from indexer.rpc import RpcClient
from tests.ledger_helpers import anvil_processes_for, new_node, wait_until


@pytest.fixture(autouse=True)
def isolation():
    """No brownie chain here: skip the conftest's per-test revert."""


class AnswerLog(requests.Session):
    """A plain requests session that keeps every JSON answer it received."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[Any] = []

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        reply = super().post(*args, **kwargs)
        self.answers.append(reply.json())
        return reply


def _codes(answers: list[Any]) -> list[int]:
    return [
        entry["error"]["code"]
        for answer in answers
        for entry in (answer if isinstance(answer, list) else [answer])
        if "error" in entry
    ]


def test_reads_wait_out_an_engine_restart_instead_of_failing(tmp_path):
    node = new_node(tmp_path, "node")
    try:
        client = RpcClient(node.url, timeout=10)
        client._session = AnswerLog()
        head = client.call("eth_blockNumber", [])
        (engine,) = anvil_processes_for(node.data_dir)
        os.kill(engine, signal.SIGKILL)
        wait_until(lambda: not anvil_processes_for(node.data_dir), timeout=5, interval=0.001)

        assert client.call("eth_blockNumber", []) == head

        assert -32005 in _codes(client._session.answers), client._session.answers
        metrics = requests.get(f"{node.base_url}/metrics", timeout=10).text
        assert "ledger_engine_exits_total 1" in metrics
    finally:
        node.stop()
