"""After a demo run: `citypass-demo` (the main job, on the ledger node, with the sensors, the
oracle daemon, mobility and the API) simulates its day, prints the URLs and keeps serving; Debian's
Chromium, headless and driven by Playwright, then loads the explorer, a transaction page and the
dashboard with no console errors, and the numbers on them are the ones the demo's own summary
printed. Ctrl-C (SIGINT) then stops the whole stack and the demo ends with the auditor's check.

The run is a quarter of the village and of its day (`--share 25`): every part of the day still
happens (bookings, cancellations, overstays, sensors, incidents, trips, journeys, valet jobs), in
a quarter of the time. That the full village gives the pilot's supply ratio is checked apart.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from citypass.core.pilot import SPACES_BEFORE_SHARING
from demo.village import LOTS, supply_ratio
from tests.browser_helpers import browser, page, visit  # noqa: F401
from tests.oracle_helpers import ROOT

DEMO_TIMEOUT_S = 900
SHARE = 25  # percent of the village and of its day


@dataclass
class DemoRun:
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def summary_number(self, pattern: str) -> int:
        found = re.search(pattern, self.output)
        assert found, f"{pattern!r} not in the demo's summary:\n{self.output[-3000:]}"
        return int(found.group(1).replace(",", ""))

    def rpc(self, method: str, params: list) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return requests.post(self.urls["rpc"], json=body, timeout=10).json()["result"]


def _read(run: DemoRun) -> None:
    assert run.process.stdout is not None
    for line in run.process.stdout:
        run.lines.append(line.rstrip("\n"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("demo")
    process = subprocess.Popen(
        [sys.executable, "-m", "demo", "--vehicles", "20", "--share", str(SHARE),
         "--workdir", str(workdir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    run = DemoRun(process)
    reader = threading.Thread(target=_read, args=(run,), daemon=True)
    reader.start()
    deadline = time.monotonic() + DEMO_TIMEOUT_S
    while "Ctrl-C stops" not in run.output:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the demo did not start serving:\n{run.output[-4000:]}")
        time.sleep(1)
    for name, key in (("API docs", "docs"), ("Explorer", "explorer"), ("Dashboard", "dashboard")):
        run.urls[key] = re.search(rf"^{name}:\s+(\S+)$", run.output, re.M).group(1)
    run.urls["rpc"] = re.search(r"Ledger node RPC URL: (\S+)", run.output).group(1)
    yield run
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=300)
    reader.join(timeout=10)


def test_demo_serves_the_api_docs(demo: DemoRun):
    reply = requests.get(demo.urls["docs"], timeout=10)
    assert reply.status_code == 200 and "swagger" in reply.text.lower()
    health = requests.get(demo.urls["docs"].removesuffix("/docs") + "/health", timeout=10).json()
    assert health["ok"] and health["indexerLag"] <= 1 and health["follower"] == "running"


def test_explorer_after_the_demo_shows_sealed_blocks(page, demo: DemoRun):  # noqa: F811
    visit(page, demo.urls["explorer"])
    head = int(demo.rpc("eth_blockNumber", []), 16)
    indexed = int(page.locator("#indexed").inner_text())
    assert head - 1 <= indexed <= head
    rows = page.locator("#blocks tr[data-block]")
    assert rows.count() > 5
    assert set(rows.locator("td.sealed").all_inner_texts()) == {"sealed"}


def test_a_demo_transaction_reads_in_domain_language(page, demo: DemoRun):  # noqa: F811
    # The newest block that carries a transaction of the day.
    number = int(demo.rpc("eth_blockNumber", []), 16)
    while not (block := demo.rpc("eth_getBlockByNumber", [hex(number), False]))["transactions"]:
        number -= 1
    tx_hash = block["transactions"][0]
    visit(page, f"{demo.urls['explorer']}/tx/{tx_hash}")
    assert page.locator("#tx-status").inner_text() in ("success", "reverted")
    sentences = page.locator("#logs .sentence").all_inner_texts()
    assert sentences and all(s.strip() for s in sentences)


def test_dashboard_after_the_demo_shows_the_summary_numbers(page, demo: DemoRun):  # noqa: F811
    visit(page, demo.urls["dashboard"])
    shared = demo.summary_number(r"shared spaces: (\d+)")
    assert shared > 0 and page.locator("#kpi-shared").inner_text() == str(shared)
    before = demo.summary_number(r"before sharing: \d+ / \d+ = (\d+)%")
    after = demo.summary_number(r"after sharing: +\d+ / \d+ = (\d+)%")
    assert page.locator("#kpi-supply").inner_text() == f"{before}% → {after}%"
    returned = demo.summary_number(r"cars returned: (\d+)")
    assert returned > 0 and page.locator("#kpi-valet").inner_text() == str(returned)
    assert page.locator("svg.chart").count() == 5
    kpis = requests.get(demo.urls["docs"].removesuffix("/docs") + "/v1/kpis", timeout=30).json()
    illegal = demo.summary_number(r"incidents: illegal_parking\s+(\d+)")
    assert illegal > 0
    assert sum(day["readModel"] for day in kpis["illegalParkingPerDay"]["days"]) == illegal
    assert kpis["valet"]["requests"] == demo.summary_number(r"Valet requests: (\d+)")


def test_the_full_village_gives_the_pilots_supply_ratio():
    """What the dashboard shows after a full-size demo (every lot's spaces registered)."""
    full = SPACES_BEFORE_SHARING + sum(lot.spaces for lot in LOTS)
    before, after = supply_ratio(SPACES_BEFORE_SHARING), supply_ratio(full)
    assert f"{before:.0%} → {after:.0%}" == "37% → 109%"


def test_ctrl_c_stops_the_stack_and_the_journal_verifies(demo: DemoRun):
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=300) == 0, demo.output[-3000:]
    time.sleep(0.5)
    assert "Auditor's check (ledger-node verify): verified" in demo.output
    with pytest.raises(requests.ConnectionError):
        requests.get(demo.urls["docs"], timeout=5)
