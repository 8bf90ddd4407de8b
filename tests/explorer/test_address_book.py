"""The address book over an explorer world of its own (a real ledger node, the real API over HTTP,
its SQLite read model): staff (SIWE) name organisations, everyone reads the names, the explorer,
the statements and /v1/kpis show them, residents and workers stay pseudonymous (409), and every
bad input answers its 4xx naming the field or the reason."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from typing import Any

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from api.address_book.store import AddressBookStore, load_book
from api.address_book.tables import create_tables
from api.explorer.formatting import short
from citypass.core.timeunits import month_of
from citypass.protocol.roles import ROLES
from indexer.db import make_engine
from indexer.models import Base
from scripts._cli.api_client import StaffApi, sign_text
from tests.api_helpers import error_of
from tests.explorer_helpers import ExplorerWorld, start_explorer_world

BOOK = "/v1/staff/address-book"
LOT_OPERATOR_CATEGORY = 1  # PRIVATE_LOT
CAR_SHARE = 1


class Book:
    """The module's world and its staff sessions (OPERATOR, VILLAGE_ENTERPRISE, CITY_ADMIN)."""

    def __init__(self, world: ExplorerWorld) -> None:
        self.world = world
        people = world.chain.people
        self.operator = _auth(world, people.operator)
        self.village = _auth(world, people.village_enterprise)
        self.admin = _auth(world, people.admin)

    def put(self, address: str, headers: dict[str, str] | None = None, **body: Any):
        return _request(self.world, "PUT", f"{BOOK}/{address}", json=body,
                        headers=self.operator if headers is None else headers)  # fmt: skip


def _request(world: ExplorerWorld, method: str, path: str, **kwargs: Any):
    import requests

    return requests.request(method, world.url + path, timeout=60, **kwargs)


def _auth(world: ExplorerWorld, account: Any) -> dict[str, str]:
    api = StaffApi.sign_in(world.url, account.address, sign_text(account))
    return {"Authorization": f"Bearer {api.token}"}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A world of the module's own: it registers slots and operators, which would change the
    figures the shared world's tests check."""
    world = start_explorer_world(tmp_path_factory.mktemp("address-book-world"))
    yield Book(world)
    world.stop()


def _split_payees(world: ExplorerWorld) -> tuple[str, str, str]:
    split = world.chain.contract("split")
    return (split.functions.villageEnterprise().call(), split.functions.cityFund().call(),
            split.functions.platform().call())  # fmt: skip


def _statement_rows(world: ExplorerWorld) -> dict[str, dict]:
    month = month_of(world.scenario.at(0, 12))
    # An auditor's view: the public's folds the persons' lines into one (docs/privacy.md).
    reply = world.get(
        "/explorer/statements.csv", params={"month": month}, cookies=world.signed_in()
    )
    return {row["payee"]: row for row in csv.DictReader(io.StringIO(reply.text))}


# ------------------------------------------------------------------------ naming and reading


def test_staff_name_an_organisation_and_everyone_reads_it(book):
    village, city, _platform = _split_payees(book.world)
    created = book.put(city.lower(), name="Bucheon City parking fund", nameKo="부천시 주차기금",
                       kind="stakeholder")  # fmt: skip
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["address"] == city  # stored checksummed
    assert entry["updatedBy"] == book.world.chain.people.operator.address
    # Replaced by another editor role: 200, the new name and who wrote it.
    replaced = book.put(city, book.village, name="Bucheon City parking fund (city)",
                        nameKo="부천시 주차기금", kind="stakeholder")  # fmt: skip
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["updatedBy"] == book.world.chain.people.village_enterprise.address
    assert book.put(village, book.admin, name="Sangsalmi village enterprise",
                    nameKo="상살미사람들", kind="stakeholder").status_code == 201  # fmt: skip
    listed = book.world.get("/v1/address-book").json()["entries"]  # public: no session
    mine = {e["address"]: e for e in listed}
    assert mine[city]["name"] == "Bucheon City parking fund (city)"
    assert mine[village]["nameKo"] == "상살미사람들"
    only = book.world.get("/v1/address-book", params={"kind": "mobility_operator"}).json()
    assert city not in {e["address"] for e in only["entries"]}


def test_the_explorer_statements_and_kpis_show_names_and_roles(book):
    world = book.world
    village, city, platform = _split_payees(world)
    book.put(village, name="Sangsalmi village enterprise", nameKo="상살미사람들",
             kind="stakeholder")  # fmt: skip
    rows = _statement_rows(world)
    assert rows[village]["name"] == "Sangsalmi village enterprise"
    assert rows[village]["role"] == "village enterprise"
    assert rows[platform]["name"] == "platform" and rows[platform]["role"] == "platform"
    owner, worker = world.scenario.owner.address, world.valet["worker"]
    # Unnamed payees show a short address, and what they are on chain (the scenario's owner has
    # a private lot's space besides its personal ones).
    assert rows[owner]["name"] == short(owner)
    assert rows[owner]["role"] == "lot operator, space owner"
    assert rows[worker]["name"] == short(worker) and "valet worker" in rows[worker]["role"]
    assert all("slot owner / worker" not in row["role"] for row in rows.values())
    month = month_of(world.scenario.at(0, 12))
    page = unescape(world.get("/explorer/statements", params={"month": month}).text)
    line = re.search(rf'<tr data-payee="{village}">(.*?)</tr>', page, re.S).group(1)
    assert "Sangsalmi village enterprise" in line and "village enterprise</td>" in line
    # The KPIs: names and roles per payee, groups by what payees are.
    k = world.get("/v1/kpis").json()
    payees = {p["payee"]: p for p in k["revenue"]["byPayee"]}
    assert payees[village]["name"] == "Sangsalmi village enterprise"
    assert payees[owner]["name"] == short(owner)
    assert payees[owner]["role"] == "lot operator, space owner"
    groups = {g["stakeholder"]: g["earned"] for g in k["revenue"]["byStakeholder"]}
    assert (
        groups["lot operators"]
        == sum(p["earned"] for p in k["revenue"]["byPayee"] if p["role"].startswith("lot operator"))
        > 0
    )
    # The worker is a person: counted in her group and in the persons' sum, never listed.
    assert worker not in payees and worker not in json.dumps(k)
    assert groups["valet workers"] == int(rows[worker]["chain_earned"]) > 0
    assert k["revenue"]["persons"]["earned"] >= groups["valet workers"]
    assert k["valet"]["workers"][0]["rank"] == 1
    # A block page labels its transactions' senders by the book too; a person (the rider) is
    # masked to the public (docs/privacy.md).
    receipt = world.chain.w3.eth.get_transaction_receipt(world.txs["valet_request"])
    block = world.get(f"/explorer/block/{receipt.blockNumber}").text
    assert "ValetService" in block and "a person" in block
    assert short(world.valet["rider"]) not in block


def test_names_in_korean_for_a_korean_page(book):
    village = _split_payees(book.world)[0]
    book.put(village, name="Sangsalmi village enterprise", nameKo="상살미사람들",
             kind="stakeholder")  # fmt: skip
    engine = book.world.server.config.app.state.citypass.engine
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        names = load_book(session)
    assert names.name_for(village, "ko-KR") == "상살미사람들"
    assert names.name_for(village, "en") == "Sangsalmi village enterprise"
    assert names.name_for("0x" + "0" * 40, "ko") is None


def test_a_mobility_operator_and_a_lot_operator_may_be_named(book):
    world = book.world
    chain, system, admin = world.chain, world.chain.system, {"from": world.chain.people.admin}
    operator = Account.create()
    system.access.grantRole(ROLES["OPERATOR"], operator.address, admin)
    system.operators.registerOperator(operator.address, CAR_SHARE, admin)
    # A lot operator is a member (it transacts) that owns a private lot's spaces.
    lot_operator = chain.new_member()
    system.slots.registerSlot(lot_operator.address, LOT_OPERATOR_CATEGORY, 9, 37_503_000,
                              126_787_000, {"from": chain.people.operator})  # fmt: skip
    world.wait_indexed()
    assert book.put(operator.address, name="Bucheon car share",
                    kind="mobility_operator").status_code == 201  # fmt: skip
    assert book.put(lot_operator.address, name="Technopark", nameKo="테크노파크",
                    kind="lot_operator").status_code == 201  # fmt: skip
    page = world.get(f"/explorer/address/{lot_operator.address}").text
    assert re.search(r'id="book-name">Technopark', page) and 'id="what">lot operator<' in page
    page = world.get(f"/explorer/address/{operator.address}").text
    assert 'id="what">mobility operator<' in page


# ------------------------------------------------------------------------------ privacy


def test_residents_and_workers_stay_pseudonymous(book):
    world = book.world
    sharer = world.chain.new_member()
    world.chain.shared_slot(sharer)  # a resident sharing a personal space
    world.wait_indexed()
    for who, words in (
        (world.scenario.lessee.address, "is a member resident on CityAccess"),
        (world.scenario.suspended.address, "is a member resident on CityAccess"),
        (sharer.address, "is a member resident on CityAccess"),
        (world.valet["worker"], "(roles: VALET)"),
    ):
        error = error_of(book.put(who, name="Kim Minji", kind="organisation"), 409)
        assert error["code"] == "resident_stays_pseudonymous"
        assert words in error["message"] and "stay pseudonymous" in error["message"]
    listed = {e["address"] for e in world.get("/v1/address-book").json()["entries"]}
    assert world.scenario.lessee.address not in listed and sharer.address not in listed


def test_removing_a_name_brings_back_the_short_address(book):
    someone = Account.create().address  # not a member: an organisation's new key
    assert book.put(someone, name="Samjeong school", kind="organisation").status_code == 201
    removed = _request(book.world, "DELETE", f"{BOOK}/{someone}", headers=book.operator)
    assert removed.status_code == 200 and removed.json()["name"] == "Samjeong school"
    error = error_of(
        _request(book.world, "DELETE", f"{BOOK}/{someone}", headers=book.operator), 404
    )
    assert error["code"] == "unknown_address_book_entry" and someone in error["message"]
    listed = {e["address"] for e in book.world.get("/v1/address-book").json()["entries"]}
    assert someone not in listed


# ---------------------------------------------------------------------------- bad input

GOOD = {"name": "Samjeong school", "kind": "organisation"}
ADDRESS = "0x" + "ab" * 20


@pytest.mark.parametrize(
    "address, body, words",
    [
        ("0x1234", GOOD, "address: Value error, must be a 0x-prefixed address of 40 hex"),
        ("ab" * 21, GOOD, "address: Value error, must be a 0x-prefixed address"),
        ("0x" + "g" * 40, GOOD, "address: Value error, must be a 0x-prefixed address"),
        ("0x" + "aB" * 20, GOOD, "address: Value error, 0x" + "aB" * 20 + " mixes cases"),
        (ADDRESS, {**GOOD, "name": ""}, "name: String should have at least 1 character"),
        (ADDRESS, {**GOOD, "name": "x" * 65}, "name: String should have at most 64"),
        (ADDRESS, {**GOOD, "name": "Sam\x07jeong"}, "name: Value error, has a control or invis"),
        (ADDRESS, {**GOOD, "name": " Samjeong"}, "name: Value error, starts or ends with a space"),
        (ADDRESS, {**GOOD, "name": "Samjeong "}, "name: Value error, starts or ends with a space"),
        (ADDRESS, {**GOOD, "name": "Sam@jeong"}, "name: Value error, has '@' (U+0040) at position"),
        (ADDRESS, {**GOOD, "name": "1234"}, "name: Value error, has no letter"),
        (ADDRESS, {**GOOD, "nameKo": "삼정\n학교"}, "nameKo: Value error, has a control"),
        (ADDRESS, {**GOOD, "nameKo": "가" * 65}, "nameKo: String should have at most 64"),
        (ADDRESS, {**GOOD, "kind": "resident"}, "kind: Input should be 'stakeholder'"),
        (ADDRESS, {"name": "Samjeong school"}, "kind: Field required"),
        (ADDRESS, {"kind": "organisation"}, "name: Field required"),
        (ADDRESS, {**GOOD, "phone": "010"}, "phone: Extra inputs are not permitted"),
    ],
)
def test_bad_input_answers_422_naming_the_field(book, address, body, words):
    error = error_of(book.put(address, **body), 422)
    assert error["code"] == "validation" and words in error["message"], error


def test_staff_session_and_role_are_required(book):
    world = book.world
    put = {"json": GOOD}
    assert error_of(_request(world, "PUT", f"{BOOK}/{ADDRESS}", **put), 401)["code"] == (
        "session_missing"
    )
    bad = {"Authorization": "Bearer not-a-token"}
    assert error_of(_request(world, "DELETE", f"{BOOK}/{ADDRESS}", headers=bad), 401)["code"] == (
        "session_unknown"
    )
    # An auditor signs in as staff but may not write the book.
    auditor = Account.create()
    world.chain.system.access.grantRole(ROLES["AUDITOR"], auditor.address,
                                        {"from": world.chain.people.admin})  # fmt: skip
    headers = _auth(world, auditor)
    error = error_of(book.put(ADDRESS, headers, **GOOD), 403)
    assert (
        error["code"] == "missing_role"
        and "OPERATOR or VILLAGE_ENTERPRISE or CITY_ADMIN" in (error["message"])
    )
    error = error_of(_request(world, "DELETE", f"{BOOK}/{ADDRESS}", headers=headers), 403)
    assert error["code"] == "missing_role"
    assert error_of(world.get("/v1/address-book", params={"kind": "x"}), 422)["message"].startswith(
        "kind:"
    )


# ------------------------------------------------------------------------------ storage


def test_the_book_survives_the_indexers_schema_being_rebuilt(tmp_path):
    """Off chain, in a MetaData of its own: dropping and re-creating the read model (a re-index
    from block 0) keeps the names."""
    url = f"sqlite:///{tmp_path / 'readmodel.db'}"
    engine = make_engine(url)
    create_tables(engine)
    address = to_checksum_address("0x" + "12" * 20)
    entry, created = AddressBookStore(engine).put(address, "Samjeong school", "삼정학교",
                                                  "organisation", by=address)  # fmt: skip
    assert created and entry.name_ko == "삼정학교"
    Base.metadata.drop_all(engine)
    engine.dispose()
    rebuilt = make_engine(url)
    create_tables(rebuilt)
    [kept] = AddressBookStore(rebuilt).entries()
    assert (kept.address, kept.name, kept.kind) == (address, "Samjeong school", "organisation")
    again, created = AddressBookStore(rebuilt).put(address, "Samjeong school B", None,
                                                   "organisation", by=address)  # fmt: skip
    assert not created and again.name == "Samjeong school B" and again.name_ko is None
