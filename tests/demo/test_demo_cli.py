"""`citypass-demo`'s own options: bad values get one clear error before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.oracle_helpers import ROOT


@pytest.mark.parametrize(
    ("day", "says"),
    [
        ("2026-12-12", "2026-12-12 is a Saturday: choose Monday to Friday"),
        ("12/31/2026", "'12/31/2026' does not match the format '%Y-%m-%d'"),
    ],
)
def test_a_day_that_cannot_be_simulated_is_refused_before_anything_starts(day, says):
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--day", day, "--no-serve"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr and "--day" in result.stderr
    assert "Starting the ledger node" not in result.stdout + result.stderr
