"""The operators' scripts (scripts/*.py), run for real.

In-process: every script runs through brownie's own `project.scripts.run` (what `brownie run`
calls) against the test chain, with citypass.chain.deployment.DEPLOYMENTS_DIR pointed at a temporary
directory. Subprocess: a few bad command lines go through the real `brownie run` executable,
which launches its own anvil on a free port (a temporary HOME holds a brownie network registry
with that port), and must fail with exactly one `error:` line on stderr.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import brownie
import pytest
import yaml

from citypass.chain import deployment
from citypass.chain.session import free_port
from citypass.core.timeunits import LOCAL_OFFSET_SECONDS, epoch_of, local_day
from citypass.protocol.roles import ROLES
from tests.contract_helpers import head_time, mine_at, next_month_start
from tests.scripts.helpers import brownie_home, fails, funded_member, project, script

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600
MAX_UINT = 2**256 - 1


# ------------------------------------------------------------------------------- helpers


def kst_date(timestamp: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=local_day(timestamp))


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def owner(accounts, system):
    system.access.onboard(accounts[7], {"from": accounts[5]})
    return accounts[7]


@pytest.fixture(scope="module")
def resident(accounts, system):
    return funded_member(accounts, system, accounts[8], system.market)


# ------------------------------------------------------------------------------- deploy


def test_deploy_writes_record_that_load_deployment_reads_back(
    addresses, deployments_dir, system, accounts
):
    record = json.loads((deployments_dir / "development.json").read_text())
    assert record["network"] == "development"
    assert record["chainId"] == brownie.web3.eth.chain_id
    assert record["contracts"] == addresses
    assert system.addresses() == addresses
    assert system.access.hasRole(ROLES["CITY_ADMIN"], accounts[0])
    assert system.access.hasRole(ROLES["OPERATOR"], accounts[5])
    assert system.split.cityFund() == accounts[3]


def test_deploy_refuses_to_overwrite_without_force(capsys, addresses, deployments_dir):
    before = (deployments_dir / "development.json").read_text()
    code, line = fails(capsys, "deploy")
    assert code == 1
    assert "already records a live deployment" in line and "force=yes" in line
    assert (deployments_dir / "development.json").read_text() == before


def test_deploy_force_replaces_the_record(addresses, deployments_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(deployment, "DEPLOYMENTS_DIR", tmp_path)
    (tmp_path / "development.json").write_text((deployments_dir / "development.json").read_text())
    replaced = script("deploy", "force=yes", "platform=9")
    record = json.loads((tmp_path / "development.json").read_text())
    assert record["contracts"] == replaced
    assert replaced["access"] != addresses["access"]
    split = project().RevenueSplit.at(replaced["split"])
    assert split.platform() == brownie.accounts[9]


def test_deploy_rejects_the_same_account_for_two_house_payees(
    capsys, tmp_path, monkeypatch, accounts
):
    monkeypatch.setattr(deployment, "DEPLOYMENTS_DIR", tmp_path)
    code, line = fails(capsys, "deploy", "city-fund=2")
    assert code == 2 and "three different accounts" in line
    assert not (tmp_path / "development.json").exists()


# ------------------------------------------------------------------------------- member


def test_member_onboards_then_suspends_with_a_reason_code(capsys, system, accounts):
    target = accounts[12]
    statuses = script("member", "onboard", target.address)
    assert statuses == {target.address: "active"}
    assert system.access.isActiveMember(target)

    script("member", "suspend", target.address, "reason=LOST-CARD")
    assert system.access.memberStatus(target) == 2
    logs = system.access.events.MemberSuspended.get_logs(from_block=0)
    assert logs[-1]["args"]["account"] == target.address
    assert logs[-1]["args"]["reason"] == b"LOST-CARD".ljust(32, b"\x00")
    assert logs[-1]["args"]["by"] == accounts[5].address  # the operator signs by default
    assert "suspended " + target.address in capsys.readouterr().out

    script("member", "reinstate", target.address, "--as", "admin")
    assert system.access.isActiveMember(target)


def test_member_onboards_a_batch_and_skips_existing_members(capsys, system, accounts, owner):
    statuses = script("member", "onboard", owner.address, accounts[13].address, "14")
    assert statuses == {a.address: "active" for a in (owner, accounts[13], accounts[14])}
    out = capsys.readouterr().out
    assert f"skipped {owner.address}: already active" in out
    assert f"onboarded {accounts[14].address}" in out


def test_member_status_is_read_only(capsys, system, accounts, owner):
    height = brownie.web3.eth.block_number
    assert script("member", "status", owner.address, "11") == {
        owner.address: "active",
        accounts[11].address: "none",
    }
    assert brownie.web3.eth.block_number == height


# ---------------------------------------------------------------------------- grant_role


def test_grant_role_grants_and_revokes(capsys, system, accounts):
    target = accounts[11]
    assert script("grant_role", "inspector", target.address) is True
    assert system.access.hasRole(ROLES["INSPECTOR"], target)
    assert "granted INSPECTOR" in capsys.readouterr().out
    assert script("grant_role", "INSPECTOR", target.address, "--revoke") is False
    assert not system.access.hasRole(ROLES["INSPECTOR"], target)


def test_grant_role_says_so_when_nothing_changes(capsys, system, accounts):
    height = brownie.web3.eth.block_number
    assert script("grant_role", "village-enterprise", accounts[2].address) is True
    assert "already holds VILLAGE_ENTERPRISE" in capsys.readouterr().out
    assert brownie.web3.eth.block_number == height


# -------------------------------------------------------------------------- register_lot


def test_register_lot_registers_n_slots_in_a_row(capsys, system, owner):
    first = system.slots.slotCount() + 1
    ids = script(
        "register_lot", 12, "public", owner.address, "count=4", "lat=37.50312",
        "lon=126.78745", "spacing=10",
    )  # fmt: skip
    assert ids == list(range(first, first + 4))
    assert system.slots.slotCount() == first + 3
    places = [system.slots.placeOf(slot) for slot in ids]
    assert all(place[0] == 12 and place[1] == 37_503_120 for place in places)
    assert places[0][2] == 126_787_450
    # 10 m east at 37.5°N is about 113 micro-degrees of longitude
    steps = [b[2] - a[2] for a, b in zip(places, places[1:], strict=False)]
    assert all(110 <= step <= 116 for step in steps)
    assert all(system.slots.ownerOf(slot) == owner for slot in ids)
    assert all(system.slots.bookingTerms(slot)["category"] == 0 for slot in ids)
    out = capsys.readouterr().out
    assert "slot ids: " + " ".join(str(i) for i in ids) in out


def test_register_lot_warns_when_the_owner_is_not_a_member(capsys, system, accounts):
    ids = script("register_lot", 3, "personal", "15", "lat=-33.8688", "lon=151.2093")
    assert len(ids) == 1
    # A personal space is placed on chain by its 0.001° cell only (-33.8688 → -33.869).
    assert tuple(system.slots.placeOf(ids[0]))[1:] == (-33_869_000, 151_209_000)
    assert "is not an active member" in capsys.readouterr().out


# ---------------------------------------------------------------------------- slot_terms


def test_slot_terms_sets_windows_prices_and_blackouts(capsys, system, owner):
    ids = script("register_lot", 5, "private", owner.address, "count=2", "lat=37.5", "lon=126.8")
    blackout = kst_date(head_time()) + dt.timedelta(days=60)
    summary = script(
        "slot_terms", f"{ids[0]}-{ids[1]}", "window=Mon-Fri 09:00-18:00",
        "--window", "Mon-Sun 19:00-08:00", "price=800", "overage=300",
        f"blackout={blackout.isoformat()}",
    )  # fmt: skip
    day = (blackout - dt.date(1970, 1, 1)).days
    for slot in ids:
        assert [tuple(w) for w in system.slots.windowsOf(slot)] == [(31, 18, 36), (127, 38, 16)]
        terms = system.slots.bookingTerms(slot)
        assert (terms["pricePerUnit"], terms["overagePer10Min"], terms["termsVersion"]) == (
            800,
            300,
            1,
        )
        assert system.slots.isBlackedOut(slot, day, day)
        assert not system.slots.isBlackedOut(slot, day + 1, day + 1)
        assert summary[slot]["windows"] == ["Mon-Fri 09:00-18:00", "daily 19:00-08:00"]
    out = capsys.readouterr().out
    assert "800 KRW/30 min" in out and f"blacked out: {blackout.isoformat()}" in out


def test_slot_terms_changes_only_what_is_given(system, owner):
    (slot,) = script("register_lot", 5, "personal", owner.address, "lat=37.5", "lon=126.8")
    script("slot_terms", slot, "overage=0")
    terms = system.slots.bookingTerms(slot)
    assert (terms["pricePerUnit"], terms["overagePer10Min"]) == (600, 0)
    assert list(system.slots.windowsOf(slot)) == []
    script("slot_terms", slot, "window=weekend 00:00-24:00", "--as", owner.address)
    assert [tuple(w) for w in system.slots.windowsOf(slot)] == [(96, 0, 48)]
    script("slot_terms", slot, "--clear-windows")
    assert list(system.slots.windowsOf(slot)) == []


# -------------------------------------------------------------------------- mint_credits


def test_mint_credits_mints_with_a_receipt(capsys, system, owner):
    before = system.credit.balanceOf(owner)
    (done,) = script("mint_credits", owner.address, "50,000", "receipt=PG-2025-000123")
    assert system.credit.balanceOf(owner) == before + 50_000
    assert done["amount"] == 50_000
    log = system.credit.events.TopUp.get_logs(from_block=0)[-1]
    assert log["args"]["receipt"] == b"PG-2025-000123".ljust(32, b"\x00")
    assert log["args"]["account"] == owner.address
    assert "total supply now" in capsys.readouterr().out


def test_mint_credits_from_a_csv_file(system, accounts, owner, tmp_path):
    script("member", "onboard", accounts[16].address)
    path = tmp_path / "topups.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account", "amount", "receipt"])
        writer.writerow([owner.address, "10000", "PG-1"])
        writer.writerow([accounts[16].address, "₩2,500", "PG-2"])
    supply = system.credit.totalSupply()
    done = script("mint_credits", f"csv={path}")
    assert [d["amount"] for d in done] == [10_000, 2_500]
    assert system.credit.totalSupply() == supply + 12_500


# ----------------------------------------------------------------------- month end, report


def settle_one_lease(system, owner, resident, accounts) -> tuple[int, dict]:
    """A ₩1,200 PERSONAL lease booked, used and settled; returns (lease start, allocation)."""
    (slot,) = script("register_lot", 9, "personal", owner.address, "lat=37.5", "lon=126.8")
    script("slot_terms", slot, "window=daily 00:00-24:00")
    start = (local_day(head_time()) + 2) * 86400 - LOCAL_OFFSET_SECONDS + 10 * HOUR
    tx = system.market.book(slot, start, start + HOUR, 10_000, {"from": resident})
    lease = tx.return_value
    mine_at(start)
    system.market.checkIn(lease, {"from": resident})
    mine_at(start + HOUR - 60)
    tx = system.market.checkOut(lease, {"from": resident})
    return start, dict(tx.events["RevenueAllocated"])


def test_month_end_emits_statements_after_a_month_passes(capsys, system, owner, resident, accounts):
    start, allocated = settle_one_lease(system, owner, resident, accounts)
    assert script("month_end") == []  # the month is still open
    assert "no statements to close" in capsys.readouterr().out

    mine_at(next_month_start(start) + HOUR)
    statements = script("month_end")
    month = epoch_of(start)
    by_kind = {s["kind"]: s for s in statements if s["epoch"] == month}
    assert by_kind["owner"]["payee"] == owner.address
    assert by_kind["owner"]["earned"] == allocated["ownerShare"] == 720
    assert by_kind["owner"]["closingBalance"] == 720
    assert by_kind["village enterprise"]["earned"] == allocated["villageShare"]
    assert by_kind["platform"]["earned"] == allocated["platformShare"]
    assert by_kind["city fund"]["payee"] == accounts[3].address
    out = capsys.readouterr().out
    assert f"{len(statements)} MonthlyStatement event(s) emitted" in out
    assert owner.address in out

    assert script("month_end") == []  # closing twice emits nothing new


def test_report_prints_the_numbers(capsys, system, owner, resident, accounts):
    settle_one_lease(system, owner, resident, accounts)
    # a second lease stays open: its price is escrow
    (slot,) = script("register_lot", 9, "resident", owner.address, "lat=37.5", "lon=126.8")
    script("slot_terms", slot, "window=daily 00:00-24:00")
    start = (local_day(head_time()) + 2) * 86400 - LOCAL_OFFSET_SECONDS
    system.market.book(slot, start, start + 2 * HOUR, 10_000, {"from": resident})
    script("member", "suspend", accounts[8].address, "reason=T-1")

    data = script("report", "json=yes")
    assert data["slots"]["PERSONAL"] == 1 and data["slots"]["RESIDENT_PRIORITY"] == 1
    assert data["slots"]["total"] == system.slots.slotCount()
    assert data["members"]["suspended"] == 1
    assert data["members"]["active"] == 3  # city fund, platform, owner
    assert data["roles"]["OPERATOR"] == [accounts[5].address]
    assert data["leases"]["SETTLED"] == 1 and data["leases"]["BOOKED"] == 1
    assert data["revenue"]["owners"] == 720
    assert data["revenue"]["total"] == 1200
    assert data["vault"]["escrow"] == 2400
    assert data["vault"]["balance"] == system.credit.balanceOf(system.split)
    assert data["credit"]["totalSupply"] == system.credit.totalSupply()
    out = capsys.readouterr().out
    assert json.loads(out[out.index("\n{") :])["leases"]["total"] == 2  # --json is valid JSON

    script("report")
    out = capsys.readouterr().out
    assert re.search(r"^RESIDENT_PRIORITY +1$", out, re.M)
    assert re.search(r"^SETTLED +1$", out, re.M)
    assert re.search(r"^owners +720$", out, re.M)
    assert re.search(r"^escrow \(open leases\) +2,400$", out, re.M)


# -------------------------------------------------------------------- help and bad input


@pytest.mark.parametrize("form", ["help", "--help", "-h", "--"])
def test_help_prints_usage_and_sends_nothing(capsys, addresses, form):
    height = brownie.web3.eth.block_number
    argv = ("--", "help") if form == "--" else (form,)
    assert script("member", *argv) is None
    out = capsys.readouterr().out
    assert "usage: brownie run scripts/member.py main" in out
    assert "examples:" in out
    assert brownie.web3.eth.block_number == height


BAD_ARGUMENTS = [
    # (script, argv, exit code, words the error line must contain)
    ("member", ("onboard", "0x12"), 2, "is not an address"),
    ("member", ("onboard", "--bogus", "0x" + "1" * 40), 2, "unrecognized arguments: --bogus"),
    ("member", ("evict", "0x" + "1" * 40), 2, "invalid choice: 'evict'"),
    ("member", ("onboard", "0x" + "0" * 40), 2, "zero address"),
    ("member", ("onboard", "25"), 2, "account 25: the development chain has accounts 0-19"),
    ("member", ("onboard", "12", "--as", "nobody-keystore"), 1, "no keystore 'nobody-keystore'"),
    (
        "member",
        ("onboard", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".replace("f", "F", 3)),
        2,
        "bad checksum",
    ),  # fmt: skip
    (
        "member",
        ("onboard", "0x" + "1" * 40, "--as", "treasury"),
        1,
        "CityAccessMissingRole",
    ),  # fmt: skip
    ("member", ("suspend", "0x" + "1" * 40, "reason=" + "x" * 40), 2, "at most 32 characters"),
    ("grant_role", ("superuser", "5"), 2, "unknown role 'superuser'"),
    ("grant_role", ("auditor", "5", "--as", "operator"), 1, "AccessControlUnauthorizedAccount"),
    ("register_lot", (1, "garage", "7", "lat=37", "lon=126"), 2, "unknown category 'garage'"),
    ("register_lot", (1, "public", "7", "count=-3", "lat=37", "lon=126"), 2, "above zero"),
    ("register_lot", (1, "public", "7", "lat=95", "lon=126"), 2, "outside -90..90"),
    ("register_lot", (1, "public", "7", "lon=126"), 2, "required: --lat"),
    ("slot_terms", ("999", "price=700"), 2, "unknown slot 999"),
    ("slot_terms", ("1", "window=Mon-Fri 25:00-18:00"), 2, "hour 25 is out of range"),
    ("slot_terms", ("1", "window=Mon-Fri 09:15-18:00"), 2, ":00 or :30"),
    ("slot_terms", ("1", "window=Funday 09:00-18:00"), 2, "unknown day"),
    ("slot_terms", ("1", "blackout=2020-01-01"), 2, "is in the past"),
    ("slot_terms", ("1", "blackout=05/05/2030"), 2, "YYYY-MM-DD"),
    ("slot_terms", ("1",), 2, "nothing to change"),
    ("mint_credits", ("7", "-5", "receipt=R"), 2, "negative"),
    ("mint_credits", ("7", "12.50", "receipt=R"), 2, "no decimals"),
    ("mint_credits", ("7", "1000"), 2, "--receipt REF is required"),
    ("mint_credits", ("11", "1000", "receipt=R"), 1, "onboard it with scripts/member.py"),
    ("month_end", ("batch=0",), 2, "above zero"),
    ("report", ("--from-block", "x"), 2, "not a whole number"),
    ("deploy", ("verbose=perhaps",), 2, "verbose=yes or verbose=no"),
]


@pytest.mark.parametrize(
    ("name", "argv", "code", "words"), BAD_ARGUMENTS, ids=[f"{c[0]}-{c[3]}" for c in BAD_ARGUMENTS]
)
def test_bad_arguments_fail_with_one_error_line(capsys, system, owner, name, argv, code, words):
    if name == "slot_terms" and system.slots.slotCount() == 0:
        script("register_lot", 1, "personal", owner.address, "lat=37.5", "lon=126.8")
    height = brownie.web3.eth.block_number
    got, line = fails(capsys, name, *argv)
    assert got == code, line
    assert words in line
    if code == 2:
        assert brownie.web3.eth.block_number == height  # nothing was sent


def test_revert_at_gas_estimation_is_decoded_as_on_a_live_network(capsys, addresses, monkeypatch):
    """Live networks do not broadcast a reverting transaction: brownie raises ValueError('Gas
    estimation failed: ...') instead of VirtualMachineError; it must read just as well."""
    from brownie._config import CONFIG

    settings = CONFIG.active_network["settings"]
    monkeypatch.setitem(settings, "gas_limit", "auto")  # estimate, as on a live network
    monkeypatch.setitem(settings, "reverting_tx_gas_limit", False)
    height = brownie.web3.eth.block_number
    code, line = fails(capsys, "member", "onboard", "12", "--as", "oracle")
    assert code == 1
    assert "onboarding" in line and "CityAccessMissingRole" in line and "OPERATOR" in line
    assert brownie.web3.eth.block_number == height


def test_missing_deployment_is_one_line(capsys, addresses, tmp_path, monkeypatch):
    monkeypatch.setattr(deployment, "DEPLOYMENTS_DIR", tmp_path)
    code, line = fails(capsys, "report")
    assert code == 1 and "no deployment for network 'development'" in line


def test_stale_deployment_is_one_line(capsys, addresses, tmp_path, monkeypatch):
    monkeypatch.setattr(deployment, "DEPLOYMENTS_DIR", tmp_path)
    record = {
        "network": "development",
        "chainId": brownie.web3.eth.chain_id,
        "contracts": {key: "0x" + f"{i + 1:040x}" for i, key in enumerate(addresses)},
    }
    (tmp_path / "development.json").write_text(json.dumps(record))
    code, line = fails(capsys, "member", "status", "5")
    assert code == 1 and "are not on the development chain" in line and "force=yes" in line


def test_keystore_signer_unlocks_with_the_password_from_the_environment(
    capsys, system, tmp_path, monkeypatch, accounts
):
    from eth_account import Account

    key = Account.create()
    path = tmp_path / "desk-clerk.json"
    path.write_text(json.dumps(Account.encrypt(key.key, "s3cret-pw", iterations=2)))
    monkeypatch.delenv("CITYPASS_KEYSTORE_PASSWORD", raising=False)
    monkeypatch.setenv("CITYPASS_KEYSTORE_PASSWORD_DESK_CLERK", "wrong-pw")
    _, line = fails(capsys, "member", "onboard", accounts[17].address, "--as", str(path))
    assert "wrong password for keystore" in line and "wrong-pw" not in line

    monkeypatch.setenv("CITYPASS_KEYSTORE_PASSWORD_DESK_CLERK", "s3cret-pw")
    script("grant_role", "operator", key.address)
    try:
        script("member", "onboard", accounts[17].address, "--as", str(path))
    finally:
        if key.address in [a.address for a in accounts]:
            accounts.remove(key.address)  # keep brownie's account list as other tests expect
    log = system.access.events.MemberOnboarded.get_logs(from_block=0)[-1]
    assert log["args"]["account"] == accounts[17].address
    assert log["args"]["by"] == key.address
    assert "s3cret-pw" not in capsys.readouterr().out


# --------------------------------------------------------------- the real `brownie run`


SUBPROCESS_CASES = [
    (("grant_role.py", "main", "superuser", "0x" + "1" * 40), "unknown role 'superuser'"),
    (("slot_terms.py", "main", "1", "window=Mon-Fri 25:00-18:00"), "hour 25 is out of range"),
    (("mint_credits.py", "main", "0x" + "1" * 40, "-5", "receipt=R"), "negative"),
    (
        ("address_book.py", "main", "set", "0x" + "1" * 40, "name=A@B", "kind=organisation"),
        "argument --name: 'A@B' has '@'",
    ),
]


def test_brownie_run_reports_bad_arguments_in_one_line(tmp_path):
    """`brownie run ... --network development` exits 2 with one `error:` line, no traceback.

    brownie 1.22 itself warns (FutureWarning, rpc.snapshot) on stderr when it starts a
    development chain; PYTHONWARNINGS hides that, as docs/operator-scripts.md recommends."""
    executable = Path(sys.executable).parent / "brownie"
    path = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    processes = []
    for index, (argv, _) in enumerate(SUBPROCESS_CASES):
        env = dict(
            os.environ,
            HOME=str(brownie_home(tmp_path / f"home{index}")),
            PATH=path,
            PYTHONWARNINGS="ignore::FutureWarning",
        )
        command = [str(executable), "run", f"scripts/{argv[0]}", *argv[1:]]
        command += ["--network", "development"]
        processes.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        )
    for process, (_, words) in zip(processes, SUBPROCESS_CASES, strict=True):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 2, (out, err)
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: ") and words in lines[0], lines[0]
        assert "Traceback" not in out + err
        assert "Terminating local RPC client" in out  # anvil was launched and shut down


def _brownie_run(command: list[str], home: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        HOME=str(home),
        PATH=f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONWARNINGS="ignore",
    )
    executable = Path(sys.executable).parent / "brownie"
    return subprocess.run(
        [str(executable), "run", *command], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_main_help_works_without_a_network_and_with_no_node_running(tmp_path):
    """`main help` prints the usage whatever the network: without --network (brownie launches
    its development anvil), and with --network naming a live network whose node is down."""
    home = brownie_home(tmp_path)
    registry_path = home / ".brownie" / "network-config.yaml"
    registry = yaml.safe_load(registry_path.read_text())
    for group in registry["live"]:
        for network in group["networks"]:
            if network["id"] == "citypass-local":
                network["host"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    registry_path.write_text(yaml.safe_dump(registry))
    for extra in ([], ["--network", "citypass-local"]):
        result = _brownie_run(["scripts/slot_terms.py", "main", "help", *extra], home)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "usage: brownie run scripts/slot_terms.py main" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
        assert "error" not in result.stderr.lower()


def test_the_development_engine_never_listens_where_the_ledger_node_does():
    """brownie attaches to whatever listens on the development port: had it been the ledger
    node's (8545), `brownie run` without --network would attach to a running node and fail on
    `evm_snapshot`."""
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())["networks"]
    development_port = config["development"]["engine_settings"]["port"]
    node_port = int(config["citypass-local"]["host"].rsplit(":", 1)[1])
    from ledger_node.cli import start

    rpc_port = next(p for p in start.params if p.name == "rpc_port")
    assert node_port == rpc_port.default == 8545
    assert development_port != node_port
