"""The chain indexer against a REAL ledger node with the whole system deployed, on a real SQLite
file and a real PostgreSQL server (the tests of the read model run on both: the `db_url` fixture;
`sqlite_only` marks the two whose subject is not the database)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.event import listen
from sqlalchemy.orm import Session

from api.app import build_state
from api.routers.system import health
from api.settings import Settings
from api.state import AppState
from citypass.core.net import free_port
from citypass.protocol.abi import Registry
from citypass.protocol.deployment_record import CONTRACTS
from indexer import (
    ChainMismatchError,
    Deployment,
    Indexer,
    IndexerError,
    check_consistency,
    search_slots,
)
from indexer import models as m
from indexer.db import make_engine
from indexer.seals import verify_seal
from tests.indexer_helpers import (
    CENTER,
    DATABASES,
    Scenario,
    build_scenario,
    read_model_url,
    write_deployment,
)
from tests.oracle_helpers import ROOT, start_chain, wait_until

_FOLLOW_HOURS = itertools.count()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    chain = start_chain(tmp_path_factory.mktemp("chain"))
    try:
        yield build_scenario(chain)
    finally:
        chain.node.stop()


@pytest.fixture(scope="module")
def deployment_file(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_deployment(scenario.chain, tmp_path_factory.mktemp("deployment") / "ledger.json")


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return read_model_url(request.param, tmp_path, request.config)


# For tests whose subject is the same Python on either database (the follower process and its
# signals, the cursor's hash check): the read model's writes and queries they go through run on
# PostgreSQL in the backfill, restart, consistency and search tests.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def indexer(db_url: str, scenario: Scenario, deployment_file: Path) -> Indexer:
    built = Indexer(db_url, scenario.chain.node.url, deployment_file, chunk_size=16)
    yield built
    built.close()


def _count(indexer: Indexer, model: type) -> int:
    with Session(indexer.engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _chain_logs(scenario: Scenario, to_block: int) -> int:
    addresses = [getattr(scenario.chain.system, key).address for key in CONTRACTS]
    logs = scenario.chain.w3.eth.get_logs(
        {"fromBlock": 0, "toBlock": to_block, "address": addresses}
    )
    return len(logs)


def _cli(*args: str, db: str, scenario: Scenario, deployment: Path) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "indexer", *args, "--db", db,
        "--rpc-url", scenario.chain.node.url, "--deployment", str(deployment),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)


# ------------------------------------------------------------------------- decoded tables


def test_backfill_decodes_leases_revenue_members_and_slots(indexer: Indexer, scenario: Scenario):
    stats = indexer.backfill()
    head = scenario.chain.w3.eth.block_number
    assert stats.last_block >= head - 1
    with Session(indexer.engine) as s:
        booked = s.get(m.Lease, scenario.leases["booked"])
        assert (booked.slot_id, booked.lessee, booked.status) == (
            scenario.slots["A"], scenario.lessee.address, "BOOKED",
        )  # fmt: skip
        assert (booked.start, booked.end, booked.price) == (
            scenario.at(0, 10), scenario.at(0, 12), 4 * 600,
        )  # fmt: skip
        cancelled = s.get(m.Lease, scenario.leases["cancelled"])
        # Cancelled within the 10-minute grace period: everything back.
        assert (cancelled.status, cancelled.refund, cancelled.retained) == ("CANCELLED", 1200, 0)
        settled = s.get(m.Lease, scenario.leases["settled"])
        assert settled.status == "SETTLED"
        assert settled.checked_in_at is not None and settled.checked_in_at >= scenario.at(0, 8)
        assert settled.checked_out_at >= scenario.at(0, 9.25)
        # 15 minutes over: 2 started 10-minute steps × ₩200 + the ₩2,000 penalty.
        assert (settled.overstay_charge, settled.overstay_paid) == (2 * 200 + 2000, True)
        [allocation] = s.scalars(select(m.RevenueAllocation)).all()
        # Personal space 60/25/0/15 of the price (₩1,200) plus the overstay (₩2,400).
        assert (allocation.category, allocation.amount) == ("PERSONAL", 3600)
        assert (
            allocation.owner_share, allocation.village_share,
            allocation.city_share, allocation.platform_share,
        ) == (2160, 900, 0, 540)  # fmt: skip
        [claim] = s.scalars(select(m.RevenueClaim)).all()
        assert (claim.payee, claim.amount) == (scenario.owner.address, scenario.claimed) == (
            scenario.owner.address, 2160,
        )  # fmt: skip
        village = s.get(m.PayeeBalance, scenario.chain.people.village_enterprise.address)
        assert (village.earned, village.claimable) == (900, 900)
        assert s.get(m.Member, scenario.suspended.address).status == "SUSPENDED"
        assert s.get(m.Member, scenario.lessee.address).status == "ACTIVE"
        roles = s.scalars(
            select(m.MemberRole.role_name).where(
                m.MemberRole.address == scenario.chain.people.treasury.address
            )
        ).all()
        assert roles == ["TREASURY"]
        # The lessee topped up ₩100,000, paid three leases (₩2,400 + ₩1,200 + ₩1,200) and the
        # ₩2,400 overstay, and got the cancelled ₩1,200 back.
        expected = 100_000 - 2400 - 1200 - 1200 - 2400 + 1200
        assert s.get(m.CreditBalance, scenario.lessee.address).balance == expected == 94_000
        slot_c = s.get(m.Slot, scenario.slots["C"])
        assert (slot_c.category, slot_c.price_per_unit, slot_c.overage_per_10min) == (
            "PRIVATE_LOT", 1000, 300,
        )  # fmt: skip
        assert (slot_c.lat_e6, slot_c.lon_e6, slot_c.terms_version) == (37_503_000, 126_789_000, 1)
        windows = s.scalars(
            select(m.SlotWindow).where(m.SlotWindow.slot_id == slot_c.slot_id)
        ).all()
        assert [(w.days_mask, w.start_unit, w.end_unit) for w in windows] == [(0b0011111, 18, 36)]
        assert s.get(m.Slot, scenario.slots["E"]).active is False
        blackouts = s.scalars(select(m.SlotBlackout.local_day)).all()
        assert blackouts == [(scenario.monday + 9 * 3600) // 86400]
        assert s.get(m.Block, 0).tx_count == 0
    assert _count(indexer, m.RawLog) == _chain_logs(scenario, stats.last_block)
    assert _count(indexer, m.Block) == stats.last_block + 1
    with Session(indexer.engine) as s:
        statuses = dict(s.execute(select(m.Block.number, m.Block.seal_status)).all())
    # Every block the authority sealed was verified when it was indexed.
    assert {statuses[n] for n in statuses if n > 0} == {"sealed"}


@sqlite_only
def test_a_block_range_reads_its_balance_rows_in_one_query_per_table(
    db_url: str, scenario: Scenario, deployment_file: Path
):
    """A block range reads the balance rows its events touch in one SELECT per table, not one
    per account (a block of 500 bookings read 1,000 rows one by one): prepaid balances through
    prefetch_for, credit balances through write_tallies; and every credit balance still comes
    out as the chain has it."""
    # One range for the whole chain: every account's row is read in the same range.
    indexer = Indexer(db_url, scenario.chain.node.url, deployment_file, chunk_size=100_000)
    statements: list[str] = []
    listen(
        indexer.engine, "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )  # fmt: skip
    try:
        stats = indexer.backfill()
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        with Session(indexer.engine) as s:
            balances = dict(
                s.execute(select(m.CreditBalance.account, m.CreditBalance.balance)).tuples().all()
            )
            prepaid = s.scalar(select(func.count()).select_from(m.PrepaidBalance))
    finally:
        indexer.close()
    assert stats.blocks == stats.last_block + 1  # the genesis and every block, in one range
    assert len(balances) >= 3 and prepaid >= 1
    assert len([s for s in reads if "FROM credit_balances" in s]) == 1
    assert len([s for s in reads if "FROM prepaid_balances" in s]) == 1
    credit = scenario.chain.contract("credit").functions
    on_chain = {
        account: credit.balanceOf(account).call(block_identifier=stats.last_block)
        for account in balances
    }
    assert balances == on_chain


def test_seal_verification_refuses_other_blocks_keys_and_garbage(scenario: Scenario):
    w3 = scenario.chain.w3
    block = w3.eth.get_block(1)
    seal = w3.provider.make_request("ledger_getSeal", [1])["result"]
    chain_id, block_hash, parent = (
        scenario.chain.chain_id,
        block["hash"].to_0x_hex(),
        block["parentHash"].to_0x_hex(),
    )
    assert verify_seal(chain_id, 1, block_hash, parent, seal).status == "sealed"
    other = w3.eth.get_block(2)["hash"].to_0x_hex()
    assert verify_seal(chain_id, 2, other, block_hash, seal).status == "invalid"
    assert verify_seal(chain_id + 1, 1, block_hash, parent, seal).status == "invalid"
    impostor = {**seal, "authority": scenario.chain.people.treasury.address}
    assert verify_seal(chain_id, 1, block_hash, parent, impostor).status == "invalid"
    garbage = {**seal, "signature": "0x" + "ab" * 65}
    assert verify_seal(chain_id, 1, block_hash, parent, garbage).status == "invalid"
    assert verify_seal(chain_id, 1, block_hash, parent, {**seal, "signature": "zz"}).status == (
        "invalid"
    )
    assert verify_seal(chain_id, 1, block_hash, parent, None).status == "unsealed"


def test_fast_log_decoder_agrees_with_web3_on_every_log(scenario: Scenario, deployment_file: Path):
    """decode_raw (eth_abi by topic0, on JSON-RPC hex) gives what web3's event ABI processing
    gives, for every log of the deployed system; logs of unknown contracts decode to None."""
    w3 = scenario.chain.w3
    registry = Registry(w3, Deployment.load(deployment_file).addresses)
    head = w3.eth.block_number
    raw_logs = w3.provider.make_request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(head)}])
    by_address = {c.address: c for c in registry.contracts.values()}
    decoded_kinds = set()
    for raw, log in zip(
        raw_logs["result"], w3.eth.get_logs({"fromBlock": 0, "toBlock": head}), strict=True
    ):
        fast = registry.decode_raw(raw)
        contract = by_address.get(log["address"])
        if contract is None:
            assert fast is None
            continue
        expected = contract.events[fast.event]().process_log(log)
        assert (fast.contract, fast.event) == (registry.names[log["address"]], expected["event"])
        assert fast.args == dict(expected["args"]), fast.event
        assert registry.decode(log) == fast
        decoded_kinds.add(fast.event)
    assert {
        "LeaseBooked",
        "Transfer",
        "RevenueAllocated",
        "RoleGranted",
        "PolicySet",
    } <= decoded_kinds


# ---------------------------------------------------------------- restart and idempotency


def test_restart_continues_without_duplicates(
    indexer: Indexer, db_url: str, scenario: Scenario, deployment_file: Path
):
    middle = scenario.chain.w3.eth.block_number // 2
    assert indexer.backfill(to_block=middle).last_block == middle
    logs_before = _count(indexer, m.RawLog)
    # Re-indexing blocks already in the read model applies nothing twice.
    again = indexer.index_range(0, middle)
    assert again.blocks == 0 and _count(indexer, m.RawLog) == logs_before
    indexer.close()
    # A new process continues from the cursor, to the head.
    result = _cli("backfill", db=db_url, scenario=scenario, deployment=deployment_file)
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    assert stats["blocks"] == stats["last_block"] - middle
    fresh = Indexer(db_url, scenario.chain.node.url, deployment_file)
    try:
        assert fresh.cursor()[0] == stats["last_block"]
        assert _count(fresh, m.RawLog) == _chain_logs(scenario, stats["last_block"])
        assert _count(fresh, m.Lease) == len(
            fresh.registry.contracts["market"]
            .events.LeaseBooked()
            .get_logs(from_block=0, to_block=stats["last_block"])
        )
        assert fresh.backfill(to_block=stats["last_block"]).blocks == 0
    finally:
        fresh.close()


@sqlite_only
def test_follow_indexes_new_blocks_and_stops_on_sigterm(
    db_url: str, scenario: Scenario, deployment_file: Path
):
    command = [
        sys.executable, "-m", "indexer", "run", "--db", db_url,
        "--rpc-url", scenario.chain.node.url, "--deployment", str(deployment_file),
        "--poll-interval", "0.1",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watcher = Indexer(db_url, scenario.chain.node.url, deployment_file)
    try:
        head = scenario.chain.w3.eth.block_number
        wait_until(lambda: watcher.cursor()[0] >= head, timeout=60)
        # Each database's run books its own hour (Wednesday) on D, far from the search windows.
        hour = 10 + next(_FOLLOW_HOURS)
        lease = scenario.chain.book(
            scenario.lessee, scenario.slots["D"], scenario.at(2, hour), scenario.at(2, hour + 1)
        )
        sent = time.monotonic()
        with Session(watcher.engine) as s:
            wait_until(lambda: s.get(m.Lease, lease) is not None, timeout=30, interval=0.02)
            lag = time.monotonic() - sent
            assert s.get(m.Lease, lease).price == 2 * 600
        assert lag < 5, f"follow lag {lag:.2f} s"
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
        watcher.close()
    assert process.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and lines[-1]["msg"] == "stopped"
    assert any(line["msg"] == "indexed" for line in lines)


@contextmanager
def _following(indexer: Indexer) -> Iterator[None]:
    """`indexer` follows the chain on a thread until the block ends; then it stops and closes,
    and the thread must have ended."""
    thread = threading.Thread(target=indexer.follow, name="test-follower", daemon=True)
    thread.start()
    try:
        yield
    finally:
        indexer.stop()
        thread.join(timeout=30)
        indexer.close()
    assert not thread.is_alive()


def _book_wednesday(scenario: Scenario) -> int:
    hour = 10 + next(_FOLLOW_HOURS)
    return scenario.chain.book(
        scenario.lessee, scenario.slots["D"], scenario.at(2, hour), scenario.at(2, hour + 1)
    )


def test_new_heads_wake_the_follower_long_before_its_next_poll(
    scenario: Scenario, deployment_file: Path, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'readmodel.db'}"
    # A 60 s poll: only the newHeads subscription can index the new block within the wait.
    indexer = Indexer(url, scenario.chain.node.url, deployment_file, poll_interval=60)
    with _following(indexer):
        wait_until(lambda: indexer.heads is not None and indexer.heads.connected, timeout=30)
        wait_until(lambda: indexer.cursor()[0] >= scenario.chain.w3.eth.block_number, timeout=60)
        lease = _book_wednesday(scenario)
        with Session(indexer.engine) as s:
            wait_until(lambda: s.get(m.Lease, lease) is not None, timeout=10, interval=0.02)
        assert indexer.heads.heads >= 1


def test_announced_blocks_are_read_in_the_checks_batch_with_their_seals(
    scenario: Scenario, deployment_file: Path, tmp_path: Path
):
    """A newHeads notification names the block: the follower reads it in the same batch as the
    chain checks (one round trip), with its seal, and indexes it exactly once."""
    url = f"sqlite:///{tmp_path / 'readmodel.db'}"
    indexer = Indexer(url, scenario.chain.node.url, deployment_file, poll_interval=60)
    with _following(indexer):
        wait_until(lambda: indexer.heads is not None and indexer.heads.connected, timeout=30)
        wait_until(lambda: indexer.cursor()[0] >= scenario.chain.w3.eth.block_number, timeout=60)
        before = indexer.read_ahead
        lease = _book_wednesday(scenario)
        booked = scenario.chain.w3.eth.block_number
        with Session(indexer.engine) as s:
            wait_until(lambda: s.get(m.Lease, lease) is not None, timeout=10, interval=0.02)
            assert indexer.heads.latest >= booked
            assert indexer.read_ahead > before
            block = s.get(m.Block, booked)
            assert block is not None and block.seal_status == "sealed"
            assert s.scalar(select(func.count()).select_from(m.Lease).where(
                m.Lease.lease_id == lease)) == 1  # fmt: skip


def test_follower_polls_when_the_new_heads_socket_is_down(
    scenario: Scenario, deployment_file: Path, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'readmodel.db'}"
    nobody = f"ws://127.0.0.1:{free_port()}"  # nothing listens: every connect is refused
    indexer = Indexer(
        url, scenario.chain.node.url, deployment_file, poll_interval=0.1, ws_url=nobody
    )
    with _following(indexer):
        wait_until(lambda: indexer.cursor()[0] >= scenario.chain.w3.eth.block_number, timeout=60)
        lease = _book_wednesday(scenario)
        with Session(indexer.engine) as s:
            wait_until(lambda: s.get(m.Lease, lease) is not None, timeout=10, interval=0.02)
        assert indexer.heads is not None and not indexer.heads.connected
        assert indexer.heads.heads == 0


def _api_state(scenario: Scenario, deployment_file: Path, tmp_path: Path) -> AppState:
    settings = Settings(
        rpc_url=scenario.chain.node.url, db=f"sqlite:///{tmp_path / 'readmodel.db'}",
        deployment=deployment_file, data_dir=tmp_path / "api", poll_interval=0.1,
        follow_mode="process",
    )  # fmt: skip
    return build_state(settings, with_relayer=False)


def _health(state: AppState) -> tuple[int, dict]:
    reply = health(state)
    return reply.status_code, json.loads(reply.body)


def test_process_follower_indexes_and_stops_with_the_api(
    scenario: Scenario, deployment_file: Path, tmp_path: Path
):
    state = _api_state(scenario, deployment_file, tmp_path)
    state.start_follower()
    child = state._process
    try:
        assert child is not None and child.pid != os.getpid()
        head = scenario.chain.w3.eth.block_number
        wait_until(lambda: state.indexer.cursor()[0] >= head, timeout=60)
        lease = _book_wednesday(scenario)
        with Session(state.engine) as s:
            wait_until(lambda: s.get(m.Lease, lease) is not None, timeout=10, interval=0.02)
        status, body = _health(state)
        assert (status, body["ok"], body["follower"], body["followMode"]) == (
            200,
            True,
            "running",
            "process",
        )
    finally:
        state.stop()
    # SIGTERM from the API's shutdown: the child finished its range and exited cleanly.
    assert child.returncode == 0
    assert state.follower_error is None


def test_process_follower_crash_is_reported_on_health(
    scenario: Scenario, deployment_file: Path, tmp_path: Path
):
    state = _api_state(scenario, deployment_file, tmp_path)
    state.start_follower()
    try:
        wait_until(lambda: state.indexer.cursor()[0] >= 0, timeout=60)
        state._process.kill()
        wait_until(lambda: state.follower_error is not None, timeout=10)
        status, body = _health(state)
        assert (status, body["ok"]) == (503, False)
        assert body["follower"].startswith("stopped: the indexer process exited with code -9")
    finally:
        state.stop()


# ----------------------------------------------------------------------------- safety


@sqlite_only
def test_cursor_hash_mismatch_stops_the_indexer(
    indexer: Indexer, db_url: str, scenario: Scenario, deployment_file: Path
):
    indexer.backfill()
    block, real_hash = indexer.cursor()
    forged = "0x" + "ab" * 32
    with Session(indexer.engine) as s, s.begin():
        s.execute(update(m.Cursor).values(block_hash=forged))
    with pytest.raises(ChainMismatchError, match=f"block {block} is {real_hash}.*re-index"):
        indexer.backfill()
    indexer.close()
    result = _cli("backfill", db=db_url, scenario=scenario, deployment=deployment_file)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: block ")
    assert "Traceback" not in result.stderr


def test_wrong_chain_id_is_refused(
    db_url: str, scenario: Scenario, deployment_file: Path, tmp_path
):
    record = json.loads(deployment_file.read_text())
    record["chainId"] += 1
    other = tmp_path / "other.json"
    other.write_text(json.dumps(record))
    built = Indexer(db_url, scenario.chain.node.url, other)
    try:
        with pytest.raises(ChainMismatchError, match="deployment record is for chain"):
            built.backfill()
        assert built.cursor() == (-1, "")
    finally:
        built.close()


# ------------------------------------------------------------------------ consistency


def test_consistency_check_passes_then_finds_corrupted_rows(
    indexer: Indexer, db_url: str, scenario: Scenario, deployment_file: Path
):
    indexer.backfill()
    report = check_consistency(indexer)
    assert report.ok, report.mismatches
    assert report.checked["lease_status"] >= 3 and report.checked["member_status"] >= 5
    assert set(report.checked) == {
        "member_status", "slot_owner", "lease_status", "claimable", "credit_balance",
    }  # fmt: skip
    with Session(indexer.engine) as s, s.begin():
        s.execute(
            update(m.Lease)
            .where(m.Lease.lease_id == scenario.leases["booked"])
            .values(status="CANCELLED")
        )
        s.execute(
            update(m.CreditBalance)
            .where(m.CreditBalance.account == scenario.lessee.address)
            .values(balance=m.CreditBalance.balance + 1)
        )
    report = check_consistency(indexer)
    found = {(x.kind, x.key, x.read_model, x.chain) for x in report.mismatches}
    lessee_balance = scenario.chain.contract("credit").functions.balanceOf(scenario.lessee.address)
    assert ("lease_status", str(scenario.leases["booked"]), "CANCELLED", "BOOKED") in found
    assert (
        "credit_balance", scenario.lessee.address,
        lessee_balance.call(block_identifier=report.block) + 1,
        lessee_balance.call(block_identifier=report.block),
    ) in found  # fmt: skip
    assert len(found) == 2
    sampled = check_consistency(indexer, sample=1, seed=7)
    assert all(count == 1 for count in sampled.checked.values())
    indexer.close()
    result = _cli("check", db=db_url, scenario=scenario, deployment=deployment_file)
    assert result.returncode == 1
    assert json.loads(result.stdout)["ok"] is False
    assert result.stderr.strip().endswith("2 mismatches between the read model and the chain")


# ----------------------------------------------------------------------------- search


def test_search_slots_by_radius_window_blackout_and_leases(indexer: Indexer, scenario: Scenario):
    indexer.backfill()
    lat, lon = CENTER
    slots = scenario.slots
    # 0.001° of latitude = 6371008.8 m × π/180 / 1000 = 111.195 m;
    # 0.002° of longitude at 37.503° N = 222.390 m × cos(37.503°) = 176.43 m.
    with Session(indexer.engine) as s:
        # Monday 10:00–12:00: A is leased, B blacked out, C open on weekdays 09–18 at ₩1,000,
        # D is 1.1 km away, E withdrawn.
        monday = search_slots(s, lat, lon, 500, scenario.at(0, 10), scenario.at(0, 12))
        assert [o.slot_id for o in monday] == [slots["C"]]
        assert monday[0].distance_m == pytest.approx(176.43, abs=0.01)
        assert (monday[0].units, monday[0].price, monday[0].category) == (4, 4000, "PRIVATE_LOT")
        # Tuesday 20:00–21:00: the cancelled lease frees A, B has no blackout, C is closed.
        tuesday = search_slots(s, lat, lon, 500, scenario.at(1, 20), scenario.at(1, 21))
        assert [(o.slot_id, o.price) for o in tuesday] == [(slots["A"], 1200), (slots["B"], 1200)]
        assert tuesday[0].distance_m == pytest.approx(0, abs=1e-6)
        assert tuesday[1].distance_m == pytest.approx(111.195, abs=0.01)
        wide = search_slots(s, lat, lon, 2000, scenario.at(1, 20), scenario.at(1, 21))
        assert [o.slot_id for o in wide] == [slots["A"], slots["B"], slots["D"]]
        assert wide[2].distance_m == pytest.approx(1111.95, abs=0.1)
        # Monday 08:00–09:00 on A is still held by the settled lease.
        assert slots["A"] not in [
            o.slot_id for o in search_slots(s, lat, lon, 500, scenario.at(0, 8), scenario.at(0, 9))
        ]
        with pytest.raises(IndexerError, match="half-hour"):
            search_slots(s, lat, lon, 500, scenario.at(0, 10) + 60, scenario.at(0, 12))
    # Every offer is one the contract itself quotes the same price for.
    market = scenario.chain.contract("market").functions
    for offer in monday:
        assert (
            market.quote(offer.slot_id, scenario.at(0, 10), scenario.at(0, 12)).call()
            == offer.price
        )
    for offer in wide:
        assert (
            market.quote(offer.slot_id, scenario.at(1, 20), scenario.at(1, 21)).call()
            == offer.price
        )


def test_bad_database_url_and_missing_deployment_say_what_to_do(scenario: Scenario, tmp_path):
    with pytest.raises(IndexerError, match="not found: pass the deployments"):
        Indexer("sqlite://", scenario.chain.node.url, tmp_path / "missing.json")
    result = subprocess.run(
        [sys.executable, "-m", "indexer", "check", "--db", "nosuchdb://x",
         "--rpc-url", scenario.chain.node.url, "--deployment", str(tmp_path / "missing.json")],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: deployment record")


def test_a_read_model_from_another_version_is_refused_with_the_cure(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    make_engine(url).dispose()  # today's tables
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("ALTER TABLE blocks ADD COLUMN retired_field INTEGER")
    with pytest.raises(IndexerError, match="blocks has unknown retired_field.*re-index"):
        make_engine(url)
    # A table an older release made without a column this release needs.
    older = tmp_path / "older.db"
    with sqlite3.connect(older) as db:
        db.execute("CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash TEXT)")
    with pytest.raises(IndexerError, match="blocks lacks .*parent_hash.*move that database aside"):
        make_engine(f"sqlite:///{older}")


def test_prepaid_balances_follow_deposits_bookings_and_withdrawals(
    scenario: Scenario, deployment_file: Path, tmp_path: Path
):
    """The read model replays the market's rule (a booking the balance covers is paid from it,
    else from the wallet) and lands on the balance the chain holds. Last in the module: it
    books on the shared chain."""
    chain = scenario.chain
    market = chain.system.market
    payer = chain.resident(credit=50_000)
    market.deposit(3_000, {"from": payer})
    slot = scenario.slots["D"]
    from_balance = chain.book(payer, slot, scenario.at(3, 10), scenario.at(3, 11))
    from_wallet = chain.book(payer, slot, scenario.at(3, 12), scenario.at(3, 16))
    market.withdraw(800, {"from": payer})
    indexer = Indexer(f"sqlite:///{tmp_path / 'prepaid.db'}", chain.node.url, deployment_file)
    try:
        indexer.backfill()
        with Session(indexer.engine) as s:
            row = s.get(m.PrepaidBalance, payer.address)
            prices = [s.get(m.Lease, lease).price for lease in (from_balance, from_wallet)]
        assert row is not None
        assert prices[0] <= 3_000 < prices[0] + prices[1]  # the second one the balance can't cover
        assert row.balance == market.prepaidBalanceOf(payer.address) == 3_000 - prices[0] - 800
        assert (row.deposited, row.withdrawn, row.spent) == (3_000, 800, prices[0])
    finally:
        indexer.close()
