"""The JSON-RPC client to a test module's `node` fixture (each module starts its own node)."""

from __future__ import annotations

import pytest

from tests.ledger_helpers import Rpc


@pytest.fixture(scope="module")
def rpc(node):
    return Rpc(node.url)
