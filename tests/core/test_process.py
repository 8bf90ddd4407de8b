"""citypass/core/process.py: stopping a child gives its exit code; a stubborn one is killed."""

from __future__ import annotations

import subprocess
import sys

from citypass.core.process import kill_process, stop_process


def _child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)


def test_stop_terminates_a_running_child_and_gives_its_exit_code():
    child = _child("import sys, time; print('up', flush=True); time.sleep(60)")
    assert child.stdout is not None and child.stdout.readline() == b"up\n"
    assert stop_process(child, timeout=10) == -15  # SIGTERM ended it
    assert stop_process(child) == -15  # already stopped: the same code, no second signal
    assert stop_process(None) == 0


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout():
    child = _child(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " print('up', flush=True); time.sleep(60)"
    )
    assert child.stdout is not None and child.stdout.readline() == b"up\n"
    assert stop_process(child, timeout=0.2) == -9


def test_kill_reaps_a_running_child_and_leaves_an_exited_one_alone():
    child = _child("import time; time.sleep(60)")
    kill_process(child)
    assert child.returncode == -9
    done = _child("raise SystemExit(3)")
    done.wait()
    kill_process(done)
    assert done.returncode == 3
    kill_process(None)
