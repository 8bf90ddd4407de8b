"""ledger_node.launcher.NodeProcess.start: a node that cannot bind its port is not taken for
started because another node answers there (a free port can be taken between free_port() and
the bind: a shared test world once deployed its contracts to another test's node that way)."""

from __future__ import annotations

import pytest

from ledger_node import launcher
from ledger_node.launcher import NodeProcess, PortTaken, init_data_dir
from tests.oracle_helpers import NODE_PASSWORD


def test_a_node_whose_port_another_node_holds_is_refused_not_taken_for_started(tmp_path):
    for name in ("first", "second"):
        init_data_dir(tmp_path / name, NODE_PASSWORD, block_period=0)
    first = NodeProcess(tmp_path / "first", NODE_PASSWORD).start()
    try:
        second = NodeProcess(tmp_path / "second", NODE_PASSWORD, port=first.port)
        with pytest.raises(PortTaken, match="cannot listen on"):
            second.start(timeout=60)
        assert second.process is not None and second.process.poll() is not None
    finally:
        first.stop()


def test_a_chosen_port_taken_meanwhile_is_replaced_by_another(tmp_path, monkeypatch):
    """With no port given the launcher chose one: if it is taken, it starts on another."""
    for name in ("first", "second"):
        init_data_dir(tmp_path / name, NODE_PASSWORD, block_period=0)
    first = NodeProcess(tmp_path / "first", NODE_PASSWORD).start()
    # free_port() answers the first node's port once, as if it had been taken meanwhile.
    taken = iter([first.port])
    free = launcher.free_port
    monkeypatch.setattr(launcher, "free_port", lambda: next(taken, None) or free())
    second = NodeProcess(tmp_path / "second", NODE_PASSWORD)
    try:
        second.start(timeout=60)
        assert second.port != first.port and second.process.poll() is None
    finally:
        second.stop()
        first.stop()


def test_a_node_that_does_not_answer_in_time_is_stopped_not_left_running(tmp_path):
    init_data_dir(tmp_path / "slow", NODE_PASSWORD, block_period=0)
    node = NodeProcess(tmp_path / "slow", NODE_PASSWORD)
    with pytest.raises(RuntimeError, match="did not answer within 0.01 s and was stopped"):
        node.start(timeout=0.01)
    assert node.process is not None and node.process.poll() is not None
