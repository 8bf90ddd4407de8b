"""The auditors' explorer, /v1/kpis and /dashboard over a real ledger node and read model
(tests/explorer_helpers.py): every page answers with the chain's numbers, bad input gets a 4xx
page saying what to fix, statements reconcile (open month, then closed by MonthlyStatement)."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
import requests

from api.explorer.formatting import kst_window, won
from citypass.chain.deploy_mobility import VALET_FEE, VALET_WORKER_BPS
from citypass.core.timeunits import month_of
from tests.explorer_helpers import ExplorerWorld, explorer_world  # noqa: F401

ZERO_HASH = "0x" + "ab" * 32


def text(reply) -> str:
    """The page as visible text (tags dropped, entities decoded)."""
    return unescape(re.sub(r"<[^>]+>", " ", reply.text))


def by_id(reply, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', reply.text, re.S)
    assert found, f"no #{element_id} in the page"
    return unescape(found.group(1)).strip()


def chain_logs(world: ExplorerWorld, key: str, event: str, **filters) -> list:
    contract = world.chain.contract(key)
    return getattr(contract.events, event)().get_logs(
        from_block=0, to_block="latest", argument_filters=filters or None
    )


def test_home_lists_latest_blocks_with_verified_seals(explorer_world):
    reply = explorer_world.get("/explorer")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    head = explorer_world.chain.w3.eth.get_block("latest")
    row = re.search(rf'<tr data-block="{head.number}">(.*?)</tr>', reply.text, re.S)
    assert row, "the head block is listed first"
    assert f">{len(head.transactions)}<" in row.group(1)
    assert 'class="sealed">sealed<' in row.group(1)
    assert reply.text.count('data-block="') == 20  # one page


def test_block_page_shows_seal_authority_and_transactions(explorer_world):
    receipt_hash = explorer_world.txs["valet_request"]
    receipt = explorer_world.chain.w3.eth.get_transaction_receipt(receipt_hash)
    reply = explorer_world.get(f"/explorer/block/{receipt.blockNumber}")
    assert reply.status_code == 200
    assert by_id(reply, "seal-status") == "sealed"
    # start_chain's node seals with the admin's key (its authority keystore).
    assert by_id(reply, "seal-authority") == explorer_world.chain.people.admin.address
    assert receipt_hash in reply.text and "ValetService" in reply.text


def test_tx_page_tells_a_booking_with_slot_window_and_price(explorer_world):
    s = explorer_world.scenario
    lease_id = s.leases["booked"]
    (log,) = chain_logs(explorer_world, "market", "LeaseBooked", leaseId=lease_id)
    reply = explorer_world.get(f"/explorer/tx/0x{log.transactionHash.hex().removeprefix('0x')}")
    assert reply.status_code == 200
    expected = (
        f"Lease #{lease_id} booked on slot {s.slots['A']}, {kst_window(s.at(0, 10), s.at(0, 12))}, "
        f"{won(4 * 600)}"
    )
    assert expected in text(reply)
    assert by_id(reply, "tx-to") == "LeaseMarket" and by_id(reply, "tx-status") == "success"
    gas = explorer_world.chain.w3.eth.get_transaction_receipt(log.transactionHash).gasUsed
    assert by_id(reply, "tx-gas").startswith(f"{gas:,} of")


def test_tx_page_tells_a_valet_return_and_its_fare_split(explorer_world):
    reply = explorer_world.get(f"/explorer/tx/{explorer_world.txs['valet_return']}")
    page = text(reply)
    worker_share = VALET_FEE * VALET_WORKER_BPS // 10_000
    request = explorer_world.valet["request"]
    assert (
        f"Valet request #{request}: car returned by" in page
        and f"worker {won(worker_share)}, village enterprise {won(VALET_FEE - worker_share)}"
        in page
    )
    assert f"{won(VALET_FEE)} fare split" in page
    assert "checked out and settled" in page


def test_slot_page_shows_leases_incidents_and_terms(explorer_world):
    s = explorer_world.scenario
    reply = explorer_world.get(f"/explorer/slot/{s.slots['A']}")
    assert reply.status_code == 200
    for name in ("booked", "cancelled", "settled"):
        assert f'id="lease-{s.leases[name]}"' in reply.text
    incidents = re.search(r'<table id="incidents">(.*?)</table>', reply.text, re.S).group(1)
    assert incidents.count("illegal parking") == 5 and "confirmed: towed" in incidents
    windows = by_id(reply, "windows")
    assert windows == "daily 00:00-24:00"
    c = explorer_world.get(f"/explorer/slot/{s.slots['C']}")
    assert f"{won(1000)} per half-hour" in text(c)


def test_address_page_shows_balance_roles_and_transactions(explorer_world):
    worker = explorer_world.valet["worker"]
    reply = explorer_world.get(f"/explorer/address/{worker.lower()}")
    assert reply.status_code == 200
    credit = explorer_world.chain.contract("credit")
    assert by_id(reply, "balance") == won(credit.functions.balanceOf(worker).call())
    assert "VALET" in by_id(reply, "roles") and by_id(reply, "member-status") == "active"
    claimable = explorer_world.chain.contract("split").functions.claimable(worker).call()
    assert by_id(reply, "claimable") == won(claimable) and claimable > 0
    assert explorer_world.txs["valet_return"] in reply.text


def _statement_csv(world: ExplorerWorld, month: str) -> list[dict]:
    reply = world.get("/explorer/statements.csv", params={"month": month})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(reply.text)))


def _chain_earned(world: ExplorerWorld) -> dict[str, int]:
    """Each payee's earnings straight from the split's allocation events on chain."""
    split = world.chain.contract("split")
    village, city, platform = (
        split.functions.villageEnterprise().call(), split.functions.cityFund().call(),
        split.functions.platform().call(),
    )  # fmt: skip
    earned: dict[str, int] = {village: 0, city: 0, platform: 0}
    for log in chain_logs(world, "split", "RevenueAllocated"):
        a = log.args
        earned[a.owner] = earned.get(a.owner, 0) + a.ownerShare
        earned[village] += a.villageShare
        earned[city] += a.cityShare
        earned[platform] += a.platformShare
    for log in chain_logs(world, "split", "FareAllocated"):
        a = log.args
        earned[a.payee] = earned.get(a.payee, 0) + a.payeeShare
        earned[village] += a.villageShare
        earned[platform] += a.platformShare
    return earned


def test_statements_reconcile_and_csv_sums_equal_the_chain(explorer_world):
    month = month_of(explorer_world.scenario.at(0, 12))
    page = explorer_world.get("/explorer/statements", params={"month": month})
    assert page.status_code == 200 and by_id(page, "verdict") == "Every line reconciles."
    lines = _statement_csv(explorer_world, month)
    expected = _chain_earned(explorer_world)
    assert {row["payee"]: int(row["chain_earned"]) for row in lines} == expected
    assert all(row["read_model_earned"] == row["chain_earned"] for row in lines)
    assert all(row["agrees"] == "yes" for row in lines)
    assert sum(int(r["chain_earned"]) for r in lines) == sum(expected.values()) > 0


def test_search_leads_to_the_right_page(explorer_world):
    s, get = explorer_world.scenario, explorer_world.get
    tx = explorer_world.txs["valet_request"]
    cases = {
        tx: f"/explorer/tx/{tx}",
        explorer_world.valet[
            "worker"
        ].lower(): f"/explorer/address/{explorer_world.valet['worker']}",
        f"slot {s.slots['C']}": f"/explorer/slot/{s.slots['C']}",
        str(s.slots["B"]): f"/explorer/slot/{s.slots['B']}",
        f"lease {s.leases['cancelled']}": f"/explorer/slot/{s.slots['A']}#lease-{s.leases['cancelled']}",
        "block 3": "/explorer/block/3",
    }
    for query, where in cases.items():
        reply = get("/explorer/search", params={"q": query}, allow_redirects=False)
        assert (reply.status_code, reply.headers.get("location")) == (303, where), query
    block_hash = explorer_world.chain.w3.eth.get_block(5).hash.hex()
    reply = get("/explorer/search", params={"q": "0x" + block_hash.removeprefix("0x")},
                allow_redirects=False)  # fmt: skip
    assert reply.headers["location"] == "/explorer/block/5"


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/explorer/search?q=slot+99999", 404, "slot 99999 is not registered"),
        ("/explorer/search?q=lease+77", 404, "lease 77 is not in the read model"),
        ("/explorer/search?q=where+is+my+car", 404, "nothing matches"),
        ("/explorer/search?q=0x1234", 422, "neither a hash"),
        ("/explorer/search?q=", 422, "type something"),
        ("/explorer/tx/0xzz", 422, "64 hex digits"),
        (f"/explorer/tx/{ZERO_HASH}", 404, "is not on this ledger"),
        ("/explorer/address/0x1234", 422, "40 hex digits"),
        ("/explorer/block/twelve", 422, "whole number"),
        ("/explorer/block/99999999", 404, "is not indexed"),
        ("/explorer/slot/-3", 422, "whole number"),
        ("/explorer/slot/424242", 404, "slot 424242 is not registered"),
        ("/explorer/statements?month=2026-13", 422, "YYYY-MM"),
        ("/explorer/statements.csv?month=March", 422, "YYYY-MM"),
    ],
)
def test_bad_input_gets_an_html_4xx_saying_what_to_fix(explorer_world, path, status, words):
    reply = explorer_world.get(path)
    assert reply.status_code == status, reply.text[:500]
    assert reply.headers["content-type"].startswith("text/html")
    assert words in by_id(reply, "error-message")


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/explorer?limit=0", "limit: Input should be greater than or equal to 1"),
        ("/explorer?limit=ten", "limit: Input should be a valid integer"),
        ("/explorer?before=-1", "before: Input should be greater than or equal to 0"),
        (f"/explorer/address/0x{'ab' * 20}?limit=500", "limit: Input should be less than or equal"),
        ("/explorer/slot/1?limit=", "limit: Input should be a valid integer"),
        ("/dashboard?days=0", "days: Input should be greater than or equal to 1"),
    ],
)
def test_bad_query_parameters_get_an_html_422_saying_what_to_fix(explorer_world, path, words):
    reply = explorer_world.get(path)
    assert reply.status_code == 422, reply.text[:500]
    assert reply.headers["content-type"].startswith("text/html")
    message = by_id(reply, "error-message")
    assert words in message and "load the page again" in message
    assert "HTTP 422 · validation" in text(reply)


def test_unknown_explorer_page_is_an_html_404_while_v1_errors_stay_json(explorer_world):
    missing = explorer_world.get("/explorer/nowhere/at/all")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "no explorer page at /explorer/nowhere/at/all" in by_id(missing, "error-message")
    wrong_method = requests.post(explorer_world.url + "/explorer", timeout=60)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("text/html")
    assert "GET" in wrong_method.headers["allow"]
    for path in ("/v1/kpis?days=0", "/v1/nowhere", "/explorerless"):
        reply = explorer_world.get(path)
        assert reply.status_code in (404, 422)
        assert reply.headers["content-type"] == "application/json"
        assert set(reply.json()["error"]) == {"code", "message"}


def test_kpis_are_the_read_model_and_chain_figures(explorer_world):
    s = explorer_world.scenario
    k = explorer_world.get("/v1/kpis").json()
    shared = 4  # A, B, C, D have windows; E was withdrawn
    assert k["sharedSpaces"] == k["supply"]["sharedSpaces"] == shared
    # No base spaces (slots without windows) in this world: the ratio before sharing is 0.
    supply = next(f for f in k["impact"]["figures"] if f["key"] == "supplyRatio")
    assert supply["counts"]["sharedSpaces"] == shared and supply["counts"]["baseSpaces"] == 0
    assert k["supply"]["before"] == supply["before"] == 0.0
    assert (
        k["supply"]["after"] == supply["after"] == round(shared / supply["counts"]["vehicles"], 4)
    )
    days = {d["day"]: d for d in k["illegalParkingPerDay"]["days"]}
    monday, sunday = (kst_window(s.at(n, 0), s.at(n, 1))[:10] for n in (0, -1))
    assert (days[monday]["readModel"], days[monday]["chainReported"]) == (3, 3)
    assert (days[sunday]["readModel"], days[sunday]["chainConfirmed"]) == (2, 1)
    assert k["illegalParkingPerDay"]["seed"]["beforePerDay"] == 266
    hours = {h["hour"]: h for h in k["utilisationByHour"]["hours"]}
    # Leases: 08-09 (settled), 10-12 (booked), 13-14 (valet); the cancelled one does not count.
    assert [hours[h]["slotHours"] for h in (8, 9, 10, 11, 12, 13, 20)] == [1, 0, 1, 1, 0, 1, 0]
    assert hours[13]["utilisation"] == round(1 / (shared * 7), 4)
    valet = k["valet"]
    assert (valet["requests"], valet["completed"]) == (1, 1)
    assert valet["workers"] == [
        {"worker": explorer_world.valet["worker"], "accepted": 1, "completed": 1}
    ]
    earned = _chain_earned(explorer_world)
    stakeholders = {r["stakeholder"]: r["earned"] for r in k["revenue"]["byStakeholder"]}
    split = explorer_world.chain.contract("split")
    assert stakeholders["village enterprise"] == earned[split.functions.villageEnterprise().call()]
    assert sum(stakeholders.values()) == sum(earned.values())


def test_kpis_reject_a_bad_day_count(explorer_world):
    reply = explorer_world.get("/v1/kpis", params={"days": 90})
    assert reply.status_code == 422 and "days" in reply.json()["error"]["message"]


def test_dashboard_draws_the_kpis_with_their_numbers(explorer_world):
    k = explorer_world.get("/v1/kpis").json()
    reply = explorer_world.get("/dashboard")
    assert reply.status_code == 200
    assert by_id(reply, "kpi-shared") == str(k["sharedSpaces"])
    assert by_id(reply, "kpi-valet") == str(k["valet"]["completed"])
    assert reply.text.count("<svg") == 5
    village = next(
        r for r in k["revenue"]["byStakeholder"] if r["stakeholder"] == "village enterprise"
    )
    assert won(village["earned"]) in reply.text
    assert "37%" in reply.text and "pilot before: 266" in reply.text


def test_a_closed_month_reconciles_through_its_monthly_statements(explorer_world):
    """Runs last: moves the ledger into the next month and closes the statements."""
    world, s = explorer_world, explorer_world.scenario
    month = month_of(s.at(0, 12))
    before = {r["payee"]: int(r["chain_earned"]) for r in _statement_csv(world, month)}
    chain = world.chain
    start = s.at(0, 0)
    while month_of(start) == month:
        start += 86400
    chain.set_clock(start + 3600)
    # Anyone may close the month: owners' accounts and the house word roll, emitting statements.
    chain.system.split.closeStatements(list(before), {"from": chain.people.admin})
    world.wait_indexed()
    lines = _statement_csv(world, month)
    closed = {r["payee"]: r for r in lines}
    assert {p: int(r["chain_earned"]) for p, r in closed.items()} == before
    assert all(r["chain_source"] == "MonthlyStatement event" for r in lines)
    assert all(r["agrees"] == "yes" for r in lines)
