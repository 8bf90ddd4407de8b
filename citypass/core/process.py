"""Child processes that never outlive their parent, and stopping them."""

from __future__ import annotations

import ctypes
import signal
import subprocess

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG).

    Pass as `preexec_fn` to subprocess.Popen: the child (an anvil engine, say) then goes with
    the process that started it, even after a kill -9 that runs no cleanup."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> int:
    """SIGTERM a child that still runs and wait up to `timeout` seconds for it, then SIGKILL it
    (and reap it either way, so it leaves no zombie).

    Returns its exit code (negative: the signal that ended it), 0 when there was no child."""
    if process is None:
        return 0
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_process(process)
    return process.returncode


def kill_process(process: subprocess.Popen[bytes] | None) -> None:
    """kill -9 of a child that still runs, reaped: a crash, for the tests of recovery (children
    started with `die_with_parent` go with it)."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
