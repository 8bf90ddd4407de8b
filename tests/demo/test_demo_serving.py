"""After a demo run: `citypass-demo` (the main job, on the ledger node, with the sensors, the
oracle daemon, mobility and the API) simulates its day, prints the URLs and keeps serving; Debian's
Chromium, headless and driven by Playwright, then loads the explorer, a transaction page and the
dashboard with no console errors, and the numbers on them are the ones the demo's own summary
printed. An operator then runs the scripts of docs/operator-scripts.md against it with the real
`brownie run`, as the demo's printed instructions say, and each write changes the chain. Ctrl-C
(SIGINT) then stops the whole stack and the demo ends with the auditor's check.

The demo runs issue 16's organisations too: three oracle daemons at quorum 2 (every report of the
day carries two of their keys' signatures) and two witnesses that co-signed the day's last block
before it served (the node's witness status, the explorer's "2 of 2", and `verify --checkpoint`
on a backup of the journal, as an auditor would).

The run is a quarter of the village and of its day (`--share 25`): every part of the day still
happens (bookings, cancellations, overstays, sensors, incidents, trips, journeys, valet jobs), in
a quarter of the time. The impact figures are outcomes of the run (docs/impact.md): the summary
prints them from the chain, and the dashboard's are the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from eth_account import Account
from web3 import Web3

from citypass.protocol.abi import load_abi
from citypass.protocol.contracts import CONTRACT_NAMES
from citypass.protocol.deployment_record import Deployment
from citypass.protocol.plate_tags import normalise_plate
from demo.plates import demo_plates
from scripts._cli.api_client import StaffApi, sign_text
from tests.browser_helpers import browser, page, visit  # noqa: F401
from tests.demo.daemon_restarts import (
    answers,
    back_pid,
    park_on_a_free_space,
    printed_oracle,
    printed_witness,
)
from tests.demo.plate_leaks import chain_leaks, file_leaks, needles
from tests.demo.resident_journey import Resident
from tests.explorer_helpers import landing_links_answer
from tests.oracle_helpers import ROOT, wait_until
from tests.oracle_quorum_helpers import signers_of
from tests.scripts.helpers import brownie_home

DEMO_TIMEOUT_S = 900
SHARE = 25  # percent of the village and of its day
DEMO_SEED = 2019  # citypass-demo's default --seed: the plates it uses follow from it
OPERATOR_NETWORK = "citypass-demo-test"  # deployments/*-test.json is git-ignored


@dataclass
class DemoRun:
    process: subprocess.Popen
    home: Path  # the HOME (brownie's registry) the demo and the operator share
    lines: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None  # the node's, the API's and the sensors' data and logs

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


def last_weekday_closing_a_month() -> dt.date:
    """The first month's last day, from tomorrow on, that is a weekday: the simulated day ends
    the next morning in a new month, so operators can close the month (month_end)."""
    day = dt.date.today() + dt.timedelta(days=1)
    while True:
        last = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if last.weekday() < 5:
            return last
        day = last + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("demo")
    home = brownie_home(tmp_path_factory.mktemp("home"))
    process = subprocess.Popen(
        [sys.executable, "-m", "demo", "--vehicles", "20", "--share", str(SHARE),
         "--workdir", str(workdir), "--brownie-network", OPERATOR_NETWORK,
         "--day", last_weekday_closing_a_month().isoformat()],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "HOME": str(home)},
    )  # fmt: skip
    run = DemoRun(process, home, workdir=workdir)
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
    visit(page, demo.urls["explorer"] + "/blocks?lang=en")  # the English the assertions read
    head = int(demo.rpc("eth_blockNumber", []), 16)
    indexed = int(page.locator("#indexed").inner_text())
    assert head - 1 <= indexed <= head
    rows = page.locator("#blocks tr[data-block]")
    assert rows.count() > 5
    assert set(rows.locator("td.sealed").all_inner_texts()) == {"sealed"}


def test_every_link_on_the_auditors_landing_page_leads_somewhere(demo: DemoRun):
    """The demo's open incidents may lie on street cameras' bays, which are no slots: they are
    named, not linked to a slot page that does not exist (the full demo's newest ten were)."""

    def get(path: str) -> requests.Response:
        return requests.get(demo.urls["explorer"].removesuffix("/explorer") + path, timeout=60)

    assert landing_links_answer(get) == []


def test_a_demo_transaction_reads_in_domain_language(page, demo: DemoRun):  # noqa: F811
    # The newest block that carries a transaction of the day.
    number = int(demo.rpc("eth_blockNumber", []), 16)
    while not (block := demo.rpc("eth_getBlockByNumber", [hex(number), False]))["transactions"]:
        number -= 1
    tx_hash = block["transactions"][0]
    visit(page, f"{demo.urls['explorer']}/tx/{tx_hash}?lang=en")
    assert page.locator("#tx-status").inner_text() in ("success", "reverted")
    sentences = page.locator("#logs .sentence").all_inner_texts()
    assert sentences and all(s.strip() for s in sentences)


def _kpis(demo: DemoRun, **params: Any) -> dict[str, Any]:
    api = demo.urls["docs"].removesuffix("/docs")
    return requests.get(api + "/v1/kpis", params=params, timeout=60).json()


def _won(text: str) -> int:
    return int(text.replace("₩", "").replace(",", ""))


def test_one_truth_the_summary_the_dashboard_and_the_kpis_agree(page, demo: DemoRun):  # noqa: F811
    """The terminal summary (read back from the chain's logs), /v1/kpis and the dashboard (both
    from the read model) give the same figures for the demo's day, each saying its block."""
    block = demo.summary_number(r"Figures read back from the chain, as of block (\d+)")
    day = re.search(r"Leases booked on (\d{4}-\d{2}-\d{2}) \(LeaseBooked", demo.output).group(1)
    api = demo.urls["docs"].removesuffix("/docs")
    wait_until(lambda: requests.get(api + "/health", timeout=10).json()["indexedBlock"] >= block)
    k = _kpis(demo, day=day, days=1)
    # Nothing moved on chain after the summary: the API's answer is as of the same state.
    assert k["asOf"]["block"] >= block and k["day"] == day == k["asOf"]["latestCompleteDay"]
    bookings = demo.summary_number(r"Leases booked on \S+ \(LeaseBooked[^)]*\): (\d+)")
    assert bookings > 0 and k["bookings"]["count"] == bookings
    hours = re.findall(r"^  (\d\d):00  █* +([\d.]+) +[\d.]+%$", demo.output, re.M)
    assert len(hours) == 24
    leased = [h["spacesLeased"] for h in k["utilisation"]["hours"]]
    assert leased == [float(value) for _, value in hours] and max(leased) > 0
    over_day = re.search(r"leased over the day: ([\d.]+) of (\d+) shared spaces", demo.output)
    assert k["utilisation"]["days"][-1]["spacesLeased"] == float(over_day.group(1))
    assert (
        k["sharedSpaces"] == int(over_day.group(2)) == demo.summary_number(r"shared spaces: (\d+)")
    )
    summary_revenue = {
        name.strip(): _won(amount)
        for name, amount in re.findall(r"^  (\S[^₩\n]*?) +(₩[\d,]+)  +[\d.]+%$", demo.output, re.M)
    }
    chain_revenue = {r["stakeholder"]: r["earned"] for r in k["revenue"]["byStakeholder"]}
    names = {
        "village enterprise": "Village enterprise (상살미사람들)", "city fund": "City fund",
        "platform": "Platform", "lot operators": "Lot operators (Technopark)",
        "space owners": "Space owners (residents sharing)",
        "mobility operators": "Mobility operators (fares)", "valet workers": "Valet workers (fees)",
    }  # fmt: skip
    assert {names.get(g, g): v for g, v in chain_revenue.items() if v} == {
        n: v for n, v in summary_revenue.items() if v
    }
    assert chain_revenue["village enterprise"] > 0

    # The dashboard draws the same figures, each with its block and definition.
    visit(page, f"{demo.urls['dashboard']}?lang=en&day={day}&days=1")
    assert page.locator("#kpi-bookings").inner_text() == str(bookings)
    assert page.locator("#kpi-shared").inner_text() == str(k["sharedSpaces"])
    revenue = page.locator("#chart-revenue .hvalue").all_text_contents()
    assert [_won(t) for t in revenue] == [r["earned"] for r in k["revenue"]["byStakeholder"]]
    as_of = page.locator(".asof").all_inner_texts()
    assert as_of and all(f"as of block {k['asOf']['block']}" in t for t in as_of)
    assert page.locator("svg.chart").count() == 5
    returned = demo.summary_number(r"cars returned: (\d+)")
    assert returned > 0 and page.locator("#kpi-valet").inner_text() == str(returned)
    assert _kpis(demo)["valet"]["requests"] == demo.summary_number(r"Valet requests: (\d+)")
    # The impact figures: the summary's, computed from contract calls and logs, are /v1/kpis'
    # (read model and dailyCounts), and the dashboard shows them beside the pilot's.
    impact = _kpis(demo)["impact"]
    assert impact["asOfBlock"] >= demo.summary_number(
        r"Impact, computed from the chain at block (\d+)"
    )
    for figure in impact["figures"]:
        printed = re.search(rf"\[{figure['key']} ([^\]]+)\]", demo.output)
        assert printed, (figure["key"], demo.output[-3000:])
        fields = dict(item.split("=") for item in printed.group(1).split())
        assert {name: None if v == "none" else float(v) for name, v in fields.items()} == {
            name: figure[name] for name in fields
        }, figure["key"]
        row = page.locator(f'#impact tr[data-figure="{figure["key"]}"]')
        assert row.locator(".ours").inner_text().strip() != "", figure["key"]


# ------------------------------------------------------- an operator's scripts against the demo


def _operator_environment(demo: DemoRun) -> dict[str, str]:
    """The shell the demo's printed instructions give: its `export` line, brownie's HOME."""
    exported = re.search(r"^\s+export (CITYPASS_KEYSTORE_DIR=.+)$", demo.output, re.M)
    assert exported, demo.output[-3000:]
    return {
        **os.environ,
        **dict(item.split("=", 1) for item in exported.group(1).split()),
        "HOME": str(demo.home),
        "PATH": f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONWARNINGS": "ignore",
    }


def operator_runs(demo: DemoRun, script: str, *argv: str) -> str:
    """`brownie run scripts/<script> main ARGV --network <the demo's>`; its output."""
    brownie = Path(sys.executable).parent / "brownie"
    command = [str(brownie), "run", f"scripts/{script}", "main", *argv]
    result = subprocess.run(
        [*command, "--network", OPERATOR_NETWORK], cwd=ROOT, env=_operator_environment(demo),
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in output, output[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def ledger(demo: DemoRun) -> dict[str, Any]:
    """The demo's contracts, read with web3.py from the record the demo wrote for operators."""
    record = Deployment.load(ROOT / "deployments" / f"{OPERATOR_NETWORK}.json")
    w3 = Web3(Web3.HTTPProvider(demo.urls["rpc"]))
    assert record.chain_id == w3.eth.chain_id and record.network == OPERATOR_NETWORK
    return {
        key: w3.eth.contract(address=address, abi=load_abi(CONTRACT_NAMES[key]))
        for key, address in record.addresses.items()
    }


def test_the_demo_hands_operators_encrypted_demo_only_keys(demo: DemoRun):
    environment = _operator_environment(demo)
    keys = Path(environment["CITYPASS_KEYSTORE_DIR"])
    password_file = Path(environment["CITYPASS_KEYSTORE_PASSWORD_FILE"])
    assert password_file.parent == keys and "DEMO-ONLY" in password_file.name
    password = password_file.read_text().strip()
    names = {path.stem for path in keys.glob("*.json")}
    assert {"admin", "treasury", "village-enterprise", "operator", "inspector"} <= names
    for path in keys.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path  # private to the demo's user
    for name in names:
        keystore = (keys / f"{name}.json").read_text()
        assert '"crypto"' in keystore and password not in keystore
    assert f"--network {OPERATOR_NETWORK}" in demo.output


def test_no_node_token_on_a_command_line_every_local_user_can_read(demo: DemoRun):
    """`ps` shows every process's arguments to every local user: the services' node tokens
    travel in their environment (CITYPASS_API_RPC_URL, CITYPASS_ORACLE_RPC_URL), never as a
    flag. The auditor's URL the demo prints is meant to be copied, so it is not checked here."""
    lines = []
    for child in psutil.Process(demo.process.pid).children(recursive=True):
        try:
            lines.append(" ".join(child.cmdline()))
        except psutil.Error:  # it ended between the listing and the read
            continue
    services = [line for line in lines if " -m api serve" in line or "oracles.cli run" in line]
    assert len(services) == 4, lines  # the API and the three organisations' oracle daemons
    assert [line for line in lines if "/t/" in line] == []


def test_operator_read_only_scripts_run_against_the_demo(demo: DemoRun, ledger):
    report = operator_runs(demo, "report.py")
    supply = ledger["credit"].functions.totalSupply().call()
    assert re.search(rf"credit total supply\s+{supply:,}\b", report), report[-2000:]
    pool = ledger["journeys"].functions.pool().call()
    assert re.search(rf"pool\s+{pool:,} KRW", operator_runs(demo, "subsidy_pool.py", "status"))
    logs = ledger["operators"].events.OperatorRegistered().get_logs(from_block=0)
    assert logs
    shown = operator_runs(demo, "mobility_operator.py", "show", logs[0].args.operator)
    assert logs[0].args.operator in shown


def test_operator_writes_against_the_demo_change_the_chain(demo: DemoRun, ledger):
    access, credit, slots = ledger["access"], ledger["credit"], ledger["slots"]
    resident = Account.create().address
    # the status printed is read after the transaction (brownie's call cache once hid it)
    onboarded = operator_runs(demo, "member.py", "onboard", resident)
    assert f"onboarded {resident}; status now active" in onboarded
    assert access.functions.isActiveMember(resident).call()

    operator_runs(demo, "mint_credits.py", resident, "5000", "receipt=PG-TEST-0001")
    assert credit.functions.balanceOf(resident).call() == 5000

    count = slots.functions.slotCount().call()
    registered = operator_runs(
        demo, "register_lot.py", "12", "public", "city-fund", "count=2", "lat=37.50312",
        "lon=126.78745",
    )  # fmt: skip
    assert slots.functions.slotCount().call() == count + 2, registered
    new_slot = count + 2
    operator_runs(demo, "slot_terms.py", str(new_slot), "price=650", "as=city-fund")
    terms = slots.functions.bookingTerms(new_slot).call()
    assert terms[5] == 650  # pricePerUnit

    # The simulated day was a month's last: its night ran into the next month, so that month
    # closes now, once.
    split = ledger["split"]
    before = len(split.events.MonthlyStatement().get_logs(from_block=0))
    month_end = operator_runs(demo, "month_end.py")
    closed = split.events.MonthlyStatement().get_logs(from_block=0)[before:]
    assert closed, month_end
    # the month that has just ended, and no other
    assert {log.args.epoch for log in closed} == {split.functions.currentEpoch().call() - 1}
    assert "no statements to close" in operator_runs(demo, "month_end.py")

    epoch = operator_runs(demo, "epoch_statements.py")
    day = int(re.search(r"KST day (\d+)", epoch).group(1))
    operator = ledger["operators"].events.OperatorRegistered().get_logs(from_block=0)[0]
    assert ledger["journeys"].functions.isClosed(operator.args.operator, day).call(), epoch


# ------------------------------------------------------------- three organisations' oracles


def test_occupancy_reports_carry_two_of_three_organisations_signatures(demo: DemoRun, ledger):
    """The demo runs three oracle daemons, one per organisation, at quorum 2 on chain: every
    report of the day was signed by at least two of their distinct keys (recovered from the
    reports' calldata), and each organisation's key signed some."""
    listed = {
        name: (url, signer)
        for name, url, signer in re.findall(
            r"^  (\S[^\n]*?) +(http://\S+)/health  signer (0x[0-9a-fA-F]{40})", demo.output, re.M
        )
    }
    assert list(listed) == ["village enterprise", "mobility operator", "city"], demo.output[-3000:]
    keys = set()
    for url, signer in listed.values():
        health = requests.get(url + "/health", timeout=10).json()
        assert health["signer"] == signer and health["ledger"] == "up", health
        assert health["filesIncidents"] == (url == listed["village enterprise"][0])
        keys.add(signer)
    occupancy = ledger["occupancy"]
    assert occupancy.functions.quorum().call() == 2
    assert set(occupancy.functions.signers().call()) == keys and len(keys) == 3
    reports = occupancy.events.OccupancyReported().get_logs(from_block=0)
    assert len(reports) >= 10, len(reports)
    signed = [set(signers_of(occupancy, occupancy.w3, log)) for log in reports]
    assert all(len(signers) >= 2 and signers <= keys for signers in signed), signed
    assert set().union(*signed) == keys


# ---------------------------------------------------------------- two witnesses co-signing


def _witnesses_listed(demo: DemoRun) -> dict[str, tuple[str, str]]:
    """The witnesses the demo printed: label → (URL, key)."""
    return {
        label: (url, key)
        for label, url, key in re.findall(
            r"^  ([a-z-]+) +(http://\S+)/health  \S+/v1/checkpoint  key (0x[0-9a-fA-F]{40})",
            demo.output, re.M,
        )
    }  # fmt: skip


def test_two_witnesses_cosigned_the_day_and_the_explorer_says_so(demo: DemoRun):
    """Both witnesses, in CityAccess's set with their names, had co-signed the day's last
    block (the summary's) before the demo served: the node says so, each witness serves its
    checkpoint, and the explorer reads the day's last block as witnessed 2 of 2."""
    listed = _witnesses_listed(demo)
    assert list(listed) == ["village-enterprise", "audit-office"], demo.output[-3000:]
    last = demo.summary_number(r"Figures read back from the chain, as of block (\d+)")
    status = demo.rpc("ledger_getWitnessStatus", [])
    cosigned = {m["witness"].lower(): (m["name"], m["latest"]) for m in status["witnesses"]}
    assert len(cosigned) == 2, status
    for label, (url, key) in listed.items():
        name, latest = cosigned[key.lower()]
        assert name == label and latest is not None and int(latest, 16) >= last, status
        own = requests.get(url + "/v1/checkpoint", timeout=10).json()
        assert [c["witness"].lower() for c in own["cosignatures"]] == [key.lower()], own
        health = requests.get(url + "/health", timeout=10).json()
        assert health["state"] in ("caught-up", "following"), health
    api = demo.urls["docs"].removesuffix("/docs")
    seen = requests.get(f"{api}/v1/explorer/witnesses", params={"block": last}, timeout=30)
    assert seen.status_code == 200 and seen.json()["block"]["witnessed"] == 2, seen.text
    assert seen.json()["block"]["of"] == 2
    page = requests.get(f"{demo.urls['explorer']}/block/{last}?lang=en", timeout=30).text
    assert 'data-witnessed="2" data-total="2"' in page and ", 2 of 2" in page


def test_a_backup_of_the_journal_verifies_against_the_witnesses_checkpoint(demo: DemoRun, tmp_path):
    """An auditor saves the witnesses' newest co-signed checkpoint, copies the running node's
    journal (ledger-node backup) and re-executes the copy against the checkpoint."""
    assert demo.workdir is not None
    saved = tmp_path / "checkpoint.json"
    checkpoint = demo.rpc("ledger_getCheckpoint", ["latest"])
    assert checkpoint["cosignatures"], checkpoint
    saved.write_text(json.dumps(checkpoint))
    node = [sys.executable, "-m", "ledger_node.cli"]
    copied = subprocess.run(
        [*node, "backup", "--data-dir", str(demo.workdir / "demo-node"), "--to", str(tmp_path / "copy")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    verified = subprocess.run(
        [*node, "verify", "--data-dir", str(tmp_path / "copy"), "--checkpoint", str(saved)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    number = int(checkpoint["checkpoint"]["number"], 16)
    assert f"checkpoint at block {number} " in verified.stdout, verified.stdout
    assert "matches; co-signed by" in verified.stdout


# ---------------------------------------------------------- a new resident through the API


def test_a_new_resident_joins_tops_up_books_and_cancels_on_the_demo(demo: DemoRun, ledger):
    """JOURNEYS.md's resident, from a fresh key, through the served API only (the /app test
    drives the same steps in Chromium on a world whose clock it can move)."""
    provider = re.search(r"^Payments:\s+(http://\S+)/checkout", demo.output, re.M).group(1)
    resident = Resident(demo.urls["docs"].removesuffix("/docs"))
    resident.sign_in()
    application = resident.apply()
    assert application["status"] == "APPROVED" and application["automatic"], application
    assert ledger["access"].functions.isActiveMember(resident.address).call()

    minted = resident.top_up(20_000, provider)
    credit = ledger["credit"].functions
    assert credit.balanceOf(resident.address).call() == 20_000, minted

    now = resident.call("GET", "/v1/clock")["ledgerTime"]
    start = -(-(now + 3600) // 1800) * 1800  # the next half-hour an hour from now
    end = start + 2 * 3600
    first, second = resident.search_tonight(start, end)[:2]
    quotes = [resident.quote(slot["slotId"], start, end) for slot in (first, second)]
    assert all(quote["bookable"] for quote in quotes), quotes
    booked = [
        resident.book(slot["slotId"], start, end, quote["price"])
        for slot, quote in zip((first, second), quotes, strict=True)
    ]
    lease_ids = [answer["leaseId"] for answer in booked]
    market = ledger["market"].functions
    for lease_id, quote in zip(lease_ids, quotes, strict=True):
        lessee, units, *_ = market.leaseOf(lease_id).call()
        assert (lessee, units) == (resident.address, quote["units"])
    cancelled = resident.lease_action("cancel", lease_ids[1])
    [event] = [e for e in cancelled["events"] if e["event"] == "LeaseCancelled"]
    refund = int(event["args"]["refund"])
    spent = quotes[0]["price"] + quotes[1]["price"] - refund
    assert credit.balanceOf(resident.address).call() == 20_000 - spent

    def listed() -> dict[int, str]:
        return {lease["leaseId"]: lease["status"] for lease in resident.leases()}

    wait_until(lambda: listed() == {lease_ids[0]: "BOOKED", lease_ids[1]: "CANCELLED"}, 30)


def test_the_demos_inspector_sees_an_incidents_evidence_and_holds_it(demo: DemoRun):
    """The inspector's journey on the served demo, with the demo's own inspector key: the open
    incidents with their evidence (the still, as anchored on chain), a hold and its release."""
    environment = _operator_environment(demo)
    keys = Path(environment["CITYPASS_KEYSTORE_DIR"])
    password = Path(environment["CITYPASS_KEYSTORE_PASSWORD_FILE"]).read_text().rstrip("\n")
    keystore = (keys / "inspector.json").read_text()
    inspector = Account.from_key(Account.decrypt(keystore, password))
    api = demo.urls["docs"].removesuffix("/docs")
    session = StaffApi.sign_in(api, inspector.address, sign_text(inspector))
    headers = {"Authorization": f"Bearer {session.token}"}
    queue = requests.get(f"{api}/v1/inspector/incidents", headers=headers, timeout=30).json()
    incident = next(i for i in queue["incidents"] if i["evidenceCid"])
    base = f"{api}/v1/inspector/incidents/{incident['incidentId']}"
    still = requests.get(f"{base}/evidence", headers=headers, timeout=30)
    assert still.status_code == 200, still.text
    assert "0x" + hashlib.sha256(still.content).hexdigest() == incident["contentHash"]
    held = requests.post(f"{base}/hold", json={"reasonCode": "COMPLAINT"}, headers=headers,
                         timeout=30)  # fmt: skip
    assert held.status_code == 200 and held.json()["held"] is True, held.text
    released = requests.post(f"{base}/release", json={"reasonCode": "COMPLAINT_RESOLVED"},
                             headers=headers, timeout=30)  # fmt: skip
    assert released.status_code == 200 and released.json()["held"] is False, released.text
    assert requests.get(f"{base}/evidence", timeout=30).status_code == 401  # no session


def test_no_plate_in_clear_after_the_demo_day(demo: DemoRun):
    """Issue 15: lessees registered vehicles and cameras read their plates (and an intruder's);
    no plate, as typed, normalised or hex-encoded, is in any transaction's input or log on the
    chain, in the daemons' logs, the read model or the API's database, the edge's or the
    oracle's data, or the demo's output. Only the cameras' own feed (the edge's input, what the
    devices emit) holds them, which also shows the check finds what is there."""
    assert demo.workdir is not None
    plates, intruder = demo_plates(DEMO_SEED)
    found = needles([*plates, intruder])
    sensors = demo.workdir / "demo-sensors"
    feed = sensors / "input"
    in_feed = {leak.rsplit(": ", 1)[1] for leak in file_leaks([feed], found)}
    # As the cameras read them (typed, or normalised as a camera's reader gives them): the
    # intruder's and the parked lessees' (a lessee whose stay fell outside a camera's bay, or
    # after the day's end, is not read; her tags are still looked for below).
    read = {p for p in (*plates, intruder) if {p, normalise_plate(p)} & in_feed}
    assert intruder in read and len(read & set(plates)) >= 3, in_feed
    # The plates did their work: tags registered, and each read settled by the oracle.
    with sqlite3.connect(
        f"file:{demo.workdir / 'demo-api' / 'readmodel.db'}?mode=ro", uri=True
    ) as db:
        assert db.execute("SELECT count(*) FROM vehicles").fetchone()[0] == len(plates)
    with sqlite3.connect(f"file:{sensors / 'oracle' / 'inbox.sqlite'}?mode=ro", uri=True) as db:
        outcomes = dict(db.execute("SELECT state, count(*) FROM plate_reads GROUP BY state"))
    assert outcomes.get("mismatch") == 1, outcomes
    assert outcomes.get("checked_in", 0) + outcomes.get("matched", 0) >= 3, outcomes
    assert file_leaks([demo.workdir], found, skip=[feed]) == []
    assert chain_leaks(demo.urls["rpc"], found) == []
    assert not [form for form in found if form in demo.output]


# ------------------------------------------------- a daemon killed while the demo serves


def test_a_killed_oracle_daemon_and_witness_come_back_and_the_demo_serves_on(demo: DemoRun, ledger):
    """kill -9 of the mobility operator's oracle daemon and of the audit office's witness (the
    pids the demo printed): the demo serves on, restarts each (a new pid, its /health answers,
    the demo says so), a new occupancy report lands with two signatures, and the restarted
    witness co-signs a block above the one it had."""
    assert demo.workdir is not None
    oracle_url, oracle_pid = printed_oracle(demo.output, "mobility operator")
    witness_url, witness_key, witness_pid = printed_witness(demo.output, "audit-office")

    def cosigned() -> int:
        status = demo.rpc("ledger_getWitnessStatus", [])
        [mine] = [m for m in status["witnesses"] if m["witness"].lower() == witness_key.lower()]
        return int(mine["latest"], 16) if mine["latest"] else -1

    had = cosigned()
    os.kill(oracle_pid, signal.SIGKILL)
    os.kill(witness_pid, signal.SIGKILL)
    names = {"oracle daemon (mobility operator)": oracle_pid, "witness (audit-office)": witness_pid}
    wait_until(lambda: all(back_pid(demo.output, name) for name in names), 60, 0.2)
    for name, old in names.items():
        assert f"the {name} stopped (exit -9); restarting it" in demo.output
        assert back_pid(demo.output, name) != old, name
    assert answers(oracle_url) and answers(witness_url)
    api = demo.urls["docs"].removesuffix("/docs")
    assert demo.process.poll() is None and requests.get(api + "/health", timeout=10).json()["ok"]

    occupancy = ledger["occupancy"]

    def occupied(slot: int) -> bool:
        return bool(occupancy.functions.occupancyWord(slot >> 8).call() >> (slot & 255) & 1)

    before = occupancy.w3.eth.block_number
    # The chain's time as the daemons judge it (the restarted one's may lag: the earliest).
    clocks = [
        requests.get(printed_oracle(demo.output, o)[0] + "/health", timeout=10).json()["clock"]
        for o in ("village enterprise", "mobility operator", "city")
    ]
    slot = park_on_a_free_space(demo.workdir / "demo-sensors", occupied, min(clocks))
    wait_until(lambda: occupied(slot), 30, 0.2)
    reports = occupancy.events.OccupancyReported().get_logs(from_block=before + 1)
    assert reports and all(len(signers_of(occupancy, occupancy.w3, r)) >= 2 for r in reports)
    wait_until(lambda: cosigned() >= reports[-1]["blockNumber"] > had, 30, 0.2)


def test_ctrl_c_stops_the_stack_and_the_journal_verifies(demo: DemoRun):
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=300) == 0, demo.output[-3000:]
    time.sleep(0.5)
    assert "Auditor's check (ledger-node verify): verified" in demo.output
    # against the witnesses' newest co-signed checkpoint, saved as the demo stopped
    assert re.search(
        r"^  checkpoint at block \d+ \(0x[0-9a-f]+\): matches; co-signed by", demo.output, re.M
    )
    with pytest.raises(requests.ConnectionError):
        requests.get(demo.urls["docs"], timeout=5)
