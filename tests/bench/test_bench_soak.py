"""`python -m bench.soak` as an operator runs it: a short soak on a real node, its JSON checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ledger_helpers import ROOT, anvil_processes_for

BLOCKS = 100
TXS_PER_BLOCK = 3
SNAPSHOT_EVERY = 25


def run_soak(*args: str, tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    # TMPDIR puts the soak's data directory under the test's own directory.
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.run(
        [sys.executable, "-m", "bench.soak", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def node_processes_under(tmp: Path) -> list[int]:
    """Live `ledger-node start` processes whose data directory is under `tmp`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "ledger_node.cli" in argv and any(arg.startswith(str(tmp)) for arg in argv):
            found.append(int(entry.name))
    return found


def test_soak_reports_rss_journal_restarts_and_verify_when_run_quick(tmp_path):
    result = run_soak(
        "--quick",
        "--blocks", str(BLOCKS),
        "--txs-per-block", str(TXS_PER_BLOCK),
        "--restart-at", str(BLOCKS),
        "--snapshot-every", str(SNAPSHOT_EVERY),
        "--sample-every", "25",
        tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert report["blocks_sealed"] == report["blocks_requested"] == BLOCKS
    assert report["transactions"] == BLOCKS * TXS_PER_BLOCK
    assert report["blocks_per_s"] > 0

    # Samples at block 0, every 25 blocks, and after the final restart.
    assert [s["block"] for s in report["samples"]] == [0, 25, 50, 75, 100, 100]
    for sample in report["samples"]:
        assert sample["node_rss_mb"] > 10
        assert sample["engine_rss_mb"] > 1
    growth = [s["journal_bytes"] for s in report["samples"]]
    assert growth[-1] > growth[0] > 0
    assert report["journal_bytes_per_block"] == round(growth[-1] / BLOCKS, 1)

    # SIGTERM and kill -9 at the end find a snapshot at the head; the worst case moves it
    # aside, so recovery starts one snapshot interval back and replays it.
    kinds = [(r["kind"], r["at_block"], r["replayed_blocks"]) for r in report["restarts"]]
    assert kinds == [
        ("sigterm", BLOCKS, 0),
        ("kill9", BLOCKS, 0),
        ("sigterm-older-snapshot", BLOCKS, SNAPSHOT_EVERY),
    ]
    for restart in report["restarts"]:
        assert restart["ok"] and restart["same_head"], restart
        assert restart["head_after"] == BLOCKS
        assert restart["restart_s"] >= restart["start_s"] > 0
    assert [r["stop_exit_code"] for r in report["restarts"]] == [0, -9, 0]
    assert report["restart_s_at_end"] == report["restarts"][0]["restart_s"]
    assert report["kill9_restart_s"] == report["restarts"][1]["restart_s"]
    assert report["restart_s_worst_case"] == report["restarts"][2]["restart_s"]
    assert report["snapshot_bytes"] > 0
    names = ("restart_s_at_end", "kill9_restart_s", "restart_s_worst_case")
    slow = {n for n in names if report[n] > 30}
    assert set(report["misses"]) == slow

    assert report["verify"]["ok"], report["verify"]
    assert (
        f"verified {BLOCKS} blocks and {BLOCKS * TXS_PER_BLOCK} transactions"
        in (report["verify"]["summary"])
    )
    # The soak stops what it started and removes its directory.
    assert node_processes_under(tmp_path) == []
    assert anvil_processes_for(tmp_path) == []
    assert not list(tmp_path.glob("ledger-soak-*"))


def test_soak_refuses_a_bad_flag_with_one_line_when_out_of_range(tmp_path):
    result = run_soak("--txs-per-block", "0", tmp=tmp_path, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--txs-per-block 0 is out of range" in lines[0]
    assert result.stdout == ""
