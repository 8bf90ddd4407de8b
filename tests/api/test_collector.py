"""api/collector.py: a serving API process stops re-walking what start-up built and collects
its young objects less often (why: the module's docstring, measured with bench/api.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.oracle_helpers import ROOT

PROBE = """
import gc
import api.app  # what `serve` has imported by then
from api.collector import YOUNG_GENERATION, settle_collector
before = gc.get_freeze_count()
settle_collector()
print(before, gc.get_freeze_count(), gc.get_threshold()[0] == YOUNG_GENERATION)
"""


def test_settling_freezes_what_start_up_built_and_widens_the_young_generation():
    # In a process of its own: freezing the test runner's objects would outlive this test.
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert run.returncode == 0, run.stderr
    before, after, widened = run.stdout.split()
    assert int(before) == 0 and int(after) > 100_000  # the API modules and their libraries
    assert widened == "True"
