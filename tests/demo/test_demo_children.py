"""The demo's supervision of its daemons (demo/children.py) on real child processes: one that is
killed comes back with the same command, log and environment and a new pid, and the demo says
so; one that keeps dying, or stops cleanly, is lost, named."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import demo.children as children
from citypass.core.net import free_port
from demo.children import ChildDaemon, DaemonLost, stop_all, supervise
from tests.oracle_helpers import wait_until


def web_daemon(tmp_path: Path) -> ChildDaemon:
    """`python -m http.server` over a directory holding `health`: a /health that answers."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "health").write_text('{"ok": true}')
    port = free_port()
    return ChildDaemon(
        name="test daemon", url=f"http://127.0.0.1:{port}", data_dir=served,
        args=["http.server", str(port), "--bind", "127.0.0.1", "--directory", str(served)],
        env={**os.environ, "DEMO_TEST_MARK": "kept"}, log=tmp_path / "test daemon.log",
    )  # fmt: skip


def test_a_killed_daemon_is_restarted_with_the_same_command_and_said_back(tmp_path, capsys):
    daemon = web_daemon(tmp_path).start()
    try:
        daemon.wait_healthy()
        first = daemon.process
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        supervise([daemon])
        assert daemon.process is not first and daemon.process.poll() is None
        assert daemon.process.args == first.args
        said = capsys.readouterr().err
        assert said == (
            "the test daemon stopped (exit -9); restarting it (it resumes from its own data)\n"
        )
        environ = Path(f"/proc/{daemon.process.pid}/environ").read_bytes()
        assert b"DEMO_TEST_MARK=kept" in environ
        # Once its /health answers again, and once only.
        back = wait_until(lambda: (supervise([daemon]), capsys.readouterr().err)[1], 20, 0.1)
        assert back == f"the test daemon is back (pid {daemon.process.pid})\n"
        supervise([daemon])
        assert capsys.readouterr().err == ""
    finally:
        stop_all([daemon], timeout=10)
    assert daemon.process.poll() is not None  # stop_all stopped the new process
    with (tmp_path / "test daemon.log").open() as log:  # both processes wrote to the one log
        assert log.read().count("Serving HTTP") == 2


def test_a_daemon_that_keeps_dying_is_lost_after_the_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(children, "RESTART_DELAY_S", 0.0)
    daemon = ChildDaemon(
        name="failing daemon", url="http://127.0.0.1:9", data_dir=tmp_path,
        args=["json.tool", str(tmp_path / "missing.json")], env=dict(os.environ),
        log=tmp_path / "failing daemon.log",
    ).start()  # fmt: skip
    with pytest.raises(DaemonLost) as lost:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            daemon.process.wait(10)
            supervise([daemon])
    said = capsys.readouterr().err
    assert said.count("the failing daemon stopped (exit 2); restarting it") == 5, said
    assert lost.value.message == (
        f"the failing daemon stopped (exit 2) after 5 restarts within 60 s; "
        f"see {tmp_path / 'failing daemon.log'}"
    )


def test_a_daemon_stopped_cleanly_is_not_restarted(tmp_path):
    daemon = ChildDaemon(
        name="finished daemon", url="http://127.0.0.1:9", data_dir=tmp_path,
        args=["json.tool", "--help"], env=dict(os.environ), log=tmp_path / "finished.log",
    ).start()  # fmt: skip
    first = daemon.process
    first.wait(10)
    with pytest.raises(DaemonLost, match=r"^the finished daemon stopped \(exit 0\); see "):
        supervise([daemon])
    assert daemon.process is first
