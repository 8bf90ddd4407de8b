"""`citypass-demo`'s own options: bad values get one clear error before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize(
    "command", ["citypass-demo", "ledger-node", "citypass-api", "citypass-oracle", "citypass-edge"]
)
def test_each_installed_command_starts_from_any_directory(command, tmp_path):
    """The console scripts `make demo` and the runbooks call import only installed packages:
    run from a directory outside the checkout (no checkout on sys.path), `--help` answers."""
    binary = Path(sys.executable).parent / command
    result = subprocess.run(
        [str(binary), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Usage:" in result.stdout
