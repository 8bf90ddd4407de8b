"""bench/process_cpu.py: CPU seconds per process between two points, as bench/api.py reports
them for the bookings (which process the time went to)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from bench.process_cpu import ProcessCpu, child_running

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"


def test_each_process_is_charged_its_own_cpu_and_a_finished_child_goes_to_the_bench():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        meter = ProcessCpu({"sleeper": sleeper.pid})
        meter.start()
        # A child that burns 0.4 s of CPU and exits, as the load generator does.
        subprocess.run([sys.executable, "-c", BURN], check=True)
        used = meter.stop()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert set(used) == {"sleeper", "bench"}
    assert used["sleeper"] < 0.1
    assert used["bench"] >= 0.35


def test_a_child_is_found_by_its_command_line():
    parent = subprocess.Popen(
        [
            sys.executable, "-c",
            "import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', 'marker-x'])\n"
            "time.sleep(30)\n",
        ]
    )  # fmt: skip
    try:
        found = None
        for _ in range(100):
            found = child_running(parent.pid, "marker-x")
            if found is not None:
                break
            time.sleep(0.05)
        assert found is not None and found != parent.pid
        assert child_running(parent.pid, "no-such-child") is None
    finally:
        for child in psutil.Process(parent.pid).children():
            child.kill()
        parent.kill()
        parent.wait()
