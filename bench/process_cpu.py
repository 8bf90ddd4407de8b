"""CPU seconds each process of a system under load used between two points: where the time goes
when a benchmark's rate is bound by the machine's cores rather than by any one process."""

from __future__ import annotations

import contextlib

import psutil


def _used(process: psutil.Process) -> float:
    with contextlib.suppress(psutil.NoSuchProcess):
        times = process.cpu_times()
        return times.user + times.system
    return 0.0


class ProcessCpu:
    """CPU seconds per named process (its children not included), plus this process together
    with its children that have exited meanwhile (a load generator run as a child process)
    under `"bench"`.

        meter = ProcessCpu({"api": api_pid, "node": node_pid}); meter.start(); …
        used = meter.stop()  # {"api": 1.2, "node": 0.4, "bench": 0.3}
    """

    def __init__(self, pids: dict[str, int]) -> None:
        self.processes = {role: psutil.Process(pid) for role, pid in pids.items()}
        self.me = psutil.Process()
        self.before: dict[str, float] = {}

    def _sample(self) -> dict[str, float]:
        used = {role: _used(process) for role, process in self.processes.items()}
        mine = self.me.cpu_times()
        # children_*: the children this process has waited for, so a finished load generator
        # counts here and a still-running service (which has its own role) does not.
        used["bench"] = mine.user + mine.system + mine.children_user + mine.children_system
        return used

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        return {role: round(after[role] - self.before[role], 2) for role in after}


def child_running(pid: int, command_part: str) -> int | None:
    """The pid of `pid`'s first child whose command line contains `command_part` (a node's
    anvil engine, an API's indexer process), or None."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if command_part in " ".join(child.cmdline()):
                    return child.pid
    return None
