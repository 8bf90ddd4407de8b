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


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM a child that still runs and wait up to `timeout` seconds for it, then SIGKILL it
    (and reap it either way, so it leaves no zombie)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
