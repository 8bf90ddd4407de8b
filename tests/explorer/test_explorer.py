"""The auditors' explorer, /v1/kpis and /dashboard over a real ledger node and read model
(tests/explorer_helpers.py): every page answers with the chain's numbers, bad input gets a 4xx
page saying what to fix, statements reconcile (open month, then closed by MonthlyStatement)."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import pytest
import requests

from api.explorer.formatting import kst_date, kst_window, won
from citypass.chain.deploy_mobility import VALET_FEE, VALET_WORKER_BPS
from citypass.core.timeunits import local_day, month_of
from tests.explorer_helpers import (  # noqa: F401
    ExplorerWorld,
    explorer_world,
    in_english,
    landing_links_answer,
)

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


def test_block_list_shows_latest_blocks_with_verified_seals(explorer_world):
    reply = explorer_world.get("/explorer/blocks")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    head = explorer_world.chain.w3.eth.get_block("latest")
    row = re.search(rf'<tr data-block="{head.number}">(.*?)</tr>', reply.text, re.S)
    assert row, "the head block is listed first"
    assert f">{len(head.transactions)}<" in row.group(1)
    assert 'class="sealed">sealed<' in row.group(1)
    assert reply.text.count('data-block="') == 20  # one page


def test_landing_page_gives_the_auditor_the_day_incidents_integrity_and_statements(
    explorer_world,
):
    reply = explorer_world.get("/explorer")
    assert reply.status_code == 200
    k = explorer_world.get("/v1/kpis").json()
    block = k["asOf"]["block"]
    assert f"as of block {block}" in text(reply)
    assert by_id(reply, "bookings-complete") == str(k["bookings"]["count"])
    # Open incidents: what the chain says is still OPEN, counted by the contract's own view.
    incidents = explorer_world.chain.contract("incidents")
    count = incidents.functions.incidentCount().call()
    still_open = sum(
        1 for i in range(1, count + 1) if incidents.functions.incidentOf(i).call()[1] == 1
    )
    assert by_id(reply, "open-incidents") == str(still_open) and still_open > 0
    head = explorer_world.chain.w3.eth.get_block(block)
    assert by_id(reply, "head-block") == str(head.number) and by_id(reply, "head-seal") == "sealed"
    assert by_id(reply, "seal-check").startswith(
        f"{block} blocks sealed by the authority, 0 invalid, 0 not yet checked"
    )
    status = explorer_world.chain.w3.provider.make_request("ledger_status", [])["result"]
    check = status["journalCheck"]
    assert check["result"] == "ok" and check["head"] >= 0
    assert '<dd id="journal-check"><span class="ok">ok</span>' in reply.text
    assert check["head"] == 0  # this world's node has not restarted: its journal was new
    assert "the journal was empty at the node's start" in text(reply)
    month = month_of(head.timestamp)
    assert f'href="/explorer/statements?month={month}"' in reply.text


def test_every_link_on_the_landing_page_leads_somewhere(explorer_world):
    assert landing_links_answer(explorer_world.get) == []


def test_the_search_box_suggests_only_what_exists(explorer_world):
    reply = explorer_world.get("/explorer")
    placeholder = re.search(r'id="search" placeholder="([^"]+)"', reply.text).group(1)
    suggested = re.findall(r"(slot|lease|block) (\d+)", placeholder)
    assert {kind for kind, _ in suggested} == {"slot", "lease", "block"}
    for kind, number in suggested:
        found = explorer_world.get(
            "/explorer/search", params={"q": f"{kind} {number}"}, allow_redirects=True
        )
        assert found.status_code == 200, (kind, number, found.text[:300])


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
    assert incidents.count("illegal parking") == 5 and "confirmed: verified on site" in incidents
    windows = by_id(reply, "windows")
    assert windows == "daily 00:00-24:00"
    c = explorer_world.get(f"/explorer/slot/{s.slots['C']}")
    assert f"{won(1000)} per half-hour" in text(c)


def test_address_page_shows_balance_roles_and_transactions(explorer_world):
    worker = explorer_world.valet["worker"]  # a person: her page is for an auditor's session
    reply = explorer_world.get(
        f"/explorer/address/{worker.lower()}", cookies=explorer_world.signed_in()
    )
    assert reply.status_code == 200
    credit = explorer_world.chain.contract("credit")
    assert by_id(reply, "balance") == won(credit.functions.balanceOf(worker).call())
    assert "valet" in by_id(reply, "roles") and by_id(reply, "member-status") == "active"
    claimable = explorer_world.chain.contract("split").functions.claimable(worker).call()
    assert by_id(reply, "claimable") == won(claimable) and claimable > 0
    assert explorer_world.txs["valet_return"] in reply.text


def _statement_csv(world: ExplorerWorld, month: str, **kwargs) -> list[dict]:
    reply = world.get("/explorer/statements.csv", params={"month": month}, **kwargs)
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
    """An auditor reads every payee's line; the public reads the organisations' lines and one
    line summing the persons' (docs/privacy.md), and both add up to the chain's figures."""
    month = month_of(explorer_world.scenario.at(0, 12))
    auditor = explorer_world.signed_in()
    page = explorer_world.get("/explorer/statements", params={"month": month}, cookies=auditor)
    assert page.status_code == 200 and by_id(page, "verdict") == "Every line reconciles."
    lines = _statement_csv(explorer_world, month, cookies=auditor)
    expected = _chain_earned(explorer_world)
    assert {row["payee"]: int(row["chain_earned"]) for row in lines} == expected
    assert all(row["read_model_earned"] == row["chain_earned"] for row in lines)
    assert all(row["agrees"] == "yes" for row in lines)
    assert sum(int(r["chain_earned"]) for r in lines) == sum(expected.values()) > 0
    # The public: the same total, the persons (the valet worker among them) folded into one.
    public = _statement_csv(explorer_world, month)
    persons = set(expected) - {row["payee"] for row in public}
    assert explorer_world.valet["worker"] in persons
    folded = [row for row in public if row["payee"] == ""]
    assert len(folded) == 1 and folded[0]["name"] == f"{len(persons)} persons together"
    assert int(folded[0]["chain_earned"]) == sum(expected[p] for p in persons)
    assert all(row["agrees"] == "yes" for row in public)
    assert sum(int(r["chain_earned"]) for r in public) == sum(expected.values())
    shown = explorer_world.get("/explorer/statements", params={"month": month})
    assert by_id(shown, "verdict") == "Every line reconciles."
    assert not any(person in shown.text for person in persons)


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
        f"Lease #{s.leases['cancelled']}": f"/explorer/slot/{s.slots['A']}#lease-{s.leases['cancelled']}",
        f"임대 {s.leases['cancelled']}": f"/explorer/slot/{s.slots['A']}#lease-{s.leases['cancelled']}",
        f"주차면 {s.slots['C']}번": f"/explorer/slot/{s.slots['C']}",
        "block 3": "/explorer/block/3",
        "블록 3": "/explorer/block/3",
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
        ("/explorer/blocks?limit=0", "limit: Input should be greater than or equal to 1"),
        ("/explorer/blocks?limit=ten", "limit: Input should be a valid integer"),
        ("/explorer/blocks?before=-1", "before: Input should be greater than or equal to 0"),
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
    monday, sunday = (kst_date(local_day(s.at(n, 0))) for n in (0, -1))
    k = explorer_world.get("/v1/kpis", params={"day": monday, "days": 7}).json()
    head = explorer_world.chain.w3.eth.get_block(k["asOf"]["block"])
    assert k["asOf"]["timestamp"] == head.timestamp and k["day"] == monday
    assert k["asOf"]["latestCompleteDay"] < kst_date(local_day(head.timestamp))
    shared = 4  # A, B, C, D have windows; E was withdrawn
    assert k["sharedSpaces"] == shared
    # No base spaces (slots without windows) in this world: the ratio before sharing is 0.
    supply = next(f for f in k["impact"]["figures"] if f["key"] == "supplyRatio")
    assert supply["counts"]["sharedSpaces"] == shared and supply["counts"]["baseSpaces"] == 0
    assert supply["before"] == 0.0
    assert supply["after"] == round(shared / supply["counts"]["vehicles"], 4)
    days = {d["day"]: d for d in k["illegalParkingPerDay"]["days"]}
    assert list(days)[-1] == monday and len(days) == 7
    assert (days[monday]["readModel"], days[monday]["chainReported"]) == (3, 3)
    assert (days[sunday]["readModel"], days[sunday]["chainConfirmed"]) == (2, 1)
    hours = {h["hour"]: h for h in k["utilisation"]["hours"]}
    # Leases: 08-09 (settled), 10-12 (booked), 13-14 (valet); the cancelled one does not count.
    assert [hours[h]["spacesLeased"] for h in (8, 9, 10, 11, 12, 13, 20)] == [1, 0, 1, 1, 0, 1, 0]
    assert hours[13]["utilisation"] == round(1 / shared, 4)
    per_day = {d["day"]: d for d in k["utilisation"]["days"]}
    assert per_day[monday]["spacesLeased"] == round(4 / 24, 2)
    assert per_day[monday]["utilisation"] == round(4 / (24 * shared), 4)
    assert per_day[sunday]["spacesLeased"] == 0
    assert k["bookings"]["day"] == monday and k["bookings"]["count"] == len(
        [b for b in chain_logs(explorer_world, "market", "LeaseBooked")
         if kst_date(local_day(_block_time(explorer_world, b.blockNumber))) == monday]
    )  # fmt: skip
    valet = k["valet"]
    assert (valet["requests"], valet["completed"]) == (1, 1)
    # A worker is a person: her jobs by rank, never her address (docs/privacy.md).
    assert valet["workers"] == [{"rank": 1, "accepted": 1, "completed": 1}]
    assert explorer_world.valet["worker"] not in json.dumps(k)
    earned = _chain_earned(explorer_world)
    stakeholders = {r["stakeholder"]: r["earned"] for r in k["revenue"]["byStakeholder"]}
    split = explorer_world.chain.contract("split")
    assert stakeholders["village enterprise"] == earned[split.functions.villageEnterprise().call()]
    assert sum(stakeholders.values()) == sum(earned.values())
    for figure in ("bookings", "utilisation", "illegalParkingPerDay", "revenue"):
        assert len(k[figure]["definition"]) > 20, figure


def _block_time(world: ExplorerWorld, number: int) -> int:
    return world.chain.w3.eth.get_block(number).timestamp


def test_kpis_default_to_the_latest_complete_day(explorer_world):
    k = explorer_world.get("/v1/kpis").json()
    assert k["day"] == k["asOf"]["latestCompleteDay"]
    assert k["illegalParkingPerDay"]["days"][-1]["day"] == k["day"]
    assert k["utilisation"]["days"][-1]["day"] == k["day"] == k["bookings"]["day"]


def test_kpis_reject_a_bad_day_count(explorer_world):
    reply = explorer_world.get("/v1/kpis", params={"days": 90})
    assert reply.status_code == 422 and "days" in reply.json()["error"]["message"]


@pytest.mark.parametrize("day", ["0", "1900-01-01", "2200-01-01", "yesterday"])
def test_kpis_and_the_dashboard_refuse_a_day_out_of_range(explorer_world, day):
    reply = explorer_world.get("/v1/kpis", params={"day": day})
    assert reply.status_code == 422 and "day" in reply.json()["error"]["message"], reply.text
    page = explorer_world.get("/dashboard", params={"day": day})
    assert page.status_code == 422 and "day" in by_id(page, "error-message")


def test_dashboard_draws_the_kpis_with_their_numbers(explorer_world):
    k = explorer_world.get("/v1/kpis").json()
    reply = explorer_world.get("/dashboard")
    assert reply.status_code == 200
    assert by_id(reply, "kpi-shared") == str(k["sharedSpaces"])
    assert by_id(reply, "kpi-valet") == str(k["valet"]["completed"])
    assert by_id(reply, "kpi-bookings") == str(k["bookings"]["count"])
    assert by_id(reply, "kpi-incidents") == str(k["illegalParkingPerDay"]["days"][-1]["readModel"])
    assert reply.text.count("<svg") == 5
    assert f"as of block {k['asOf']['block']}" in text(reply)
    assert text(reply).count(f"as of block {k['asOf']['block']}") >= 10  # every card and chart
    village = next(
        r for r in k["revenue"]["byStakeholder"] if r["stakeholder"] == "village enterprise"
    )
    assert won(village["earned"]) in reply.text
    # The impact table: each figure beside the pilot's.
    for figure in k["impact"]["figures"]:
        row = re.search(rf'<tr data-figure="{figure["key"]}">(.*?)</tr>', reply.text, re.S)
        assert row, figure["key"]
        pilot = figure["pilot"]
        shown = (
            f"{pilot['before'] * 100:.0f}% → {pilot['after'] * 100:.0f}%"
            if figure["key"] == "supplyRatio"
            else f"{pilot['before']} → {pilot['after']}"
            if "before" in pilot
            else f"{pilot['value']}"
        )
        assert shown in unescape(row.group(1)), (figure["key"], row.group(1))


def test_dashboard_shows_a_chosen_day_and_refuses_a_malformed_one(explorer_world):
    s = explorer_world.scenario
    monday = kst_date(local_day(s.at(0, 0)))
    reply = explorer_world.get("/dashboard", params={"day": monday})
    assert reply.status_code == 200 and f"Day figures are for {monday}" in text(reply)
    assert by_id(reply, "kpi-incidents") == "3"
    bad = explorer_world.get("/dashboard", params={"day": "12/31/2026"})
    assert bad.status_code == 422 and "day" in by_id(bad, "error-message")


def test_a_closed_month_reconciles_through_its_monthly_statements(explorer_world):
    """Runs last: moves the ledger into the next month and closes the statements."""
    world, s = explorer_world, explorer_world.scenario
    month = month_of(s.at(0, 12))
    auditor = world.signed_in()
    before = {
        r["payee"]: int(r["chain_earned"]) for r in _statement_csv(world, month, cookies=auditor)
    }
    chain = world.chain
    start = s.at(0, 0)
    while month_of(start) == month:
        start += 86400
    chain.set_clock(start + 3600)
    # Anyone may close the month: owners' accounts and the house word roll, emitting statements.
    chain.system.split.closeStatements(list(before), {"from": chain.people.admin})
    world.wait_indexed()
    lines = _statement_csv(world, month, cookies=auditor)
    closed = {r["payee"]: r for r in lines}
    assert {p: int(r["chain_earned"]) for p, r in closed.items()} == before
    assert all(r["chain_source"] == "MonthlyStatement event" for r in lines)
    assert all(r["agrees"] == "yes" for r in lines)
