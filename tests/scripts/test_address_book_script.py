"""scripts/address_book.py (set, remove, list), run in-process as `brownie run` runs it, against a
real citypass-api serving the development chain the scripts deployed to (the API fixture of
test_member_applications.py): the operator (accounts[5], OPERATOR) signs in with its key, names
organisations, and every bad argument or refusal is one `error:` line."""

from __future__ import annotations

import brownie
import pytest
import requests
from eth_account import Account

from citypass.protocol.roles import ROLES
from tests.oracle_helpers import wait_until
from tests.scripts.helpers import fails, script
from tests.scripts.test_member_applications import api, isolation  # noqa: F401

CITY_FUND = 3  # the development stakeholder accounts' indices (scripts/_cli/accounts.py)


def _book(api) -> dict[str, dict]:
    reply = requests.get(api.url + "/v1/address-book", timeout=30)
    return {entry["address"]: entry for entry in reply.json()["entries"]}


def _indexed(api) -> None:
    head = brownie.web3.eth.block_number

    def caught_up() -> bool:
        return requests.get(api.url + "/health", timeout=5).json().get("indexedBlock", -1) >= head

    wait_until(caught_up, timeout=60, interval=0.1)


def test_set_replace_list_and_remove_a_name(capsys, api):
    city = brownie.accounts[CITY_FUND].address
    entry = script(
        "address_book", "set", "city-fund", "name=Bucheon City parking fund",
        "name_ko=부천시 주차기금", "kind=stakeholder", f"api={api.url}",
    )  # fmt: skip
    assert entry["address"] == city and entry["updatedBy"] == brownie.accounts[5].address
    assert f"named {city} Bucheon City parking fund / 부천시 주차기금 (stakeholder)" in (
        capsys.readouterr().out
    )
    assert _book(api)[city]["nameKo"] == "부천시 주차기금"
    # Replaced, by the village enterprise's key this time, without a Korean name.
    script("address_book", "set", city.lower(), "name=City fund", "kind=stakeholder",
           "as=village-enterprise", f"api={api.url}")  # fmt: skip
    assert _book(api)[city]["name"] == "City fund" and _book(api)[city]["nameKo"] is None
    listed = script("address_book", "list", f"api={api.url}")
    out = capsys.readouterr().out
    assert city in [e["address"] for e in listed] and "City fund" in out and city in out
    removed = script("address_book", "remove", city, f"api={api.url}")
    assert removed["name"] == "City fund" and city not in _book(api)
    assert f"removed the name of {city} (City fund)" in capsys.readouterr().out
    code, line = fails(capsys, "address_book", "remove", city, f"api={api.url}")
    assert code == 1 and "404" in line and "is not in the address book" in line


def test_a_resident_is_not_named(capsys, system, api):
    resident = Account.create().address
    system.access.onboard(resident, {"from": brownie.accounts[5]})
    _indexed(api)
    code, line = fails(capsys, "address_book", "set", resident, "name=Kim Minji",
                       "kind=organisation", f"api={api.url}")  # fmt: skip
    assert code == 1 and "409" in line and "stay pseudonymous" in line
    assert resident not in _book(api)


def test_a_signer_that_may_not_write_the_book_is_refused(capsys, system, api):
    auditor = brownie.accounts[11]
    system.access.grantRole(ROLES["AUDITOR"], auditor, {"from": brownie.accounts[0]})
    code, line = fails(capsys, "address_book", "set", "0x" + "12" * 20, "name=Samjeong school",
                       "kind=organisation", "as=11", f"api={api.url}")  # fmt: skip
    assert code == 1 and "403" in line and "OPERATOR or VILLAGE_ENTERPRISE or CITY_ADMIN" in line
    # No staff role at all: the sign-in itself is refused.
    code, line = fails(capsys, "address_book", "remove", "0x" + "12" * 20, "as=12",
                       f"api={api.url}")  # fmt: skip
    assert code == 1 and "403" in line and "holds none of the staff roles" in line


GOOD = ("name=Samjeong school", "kind=organisation")
ADDRESS = "0x" + "12" * 20


@pytest.mark.parametrize(
    "argv, code, words",
    [
        (("set",), 2, "set needs the ADDRESS to name"),
        (("set", ADDRESS, "kind=organisation"), 2, "set needs name="),
        (("set", ADDRESS, "name=Samjeong school"), 2, "set needs kind= (kind is one of"),
        (("set", "0x1234", *GOOD), 2, "address '0x1234' is not an address"),
        (("set", "0x" + "aB" * 20, *GOOD), 2, "has a bad checksum"),
        (("set", ADDRESS, "name=Sam@jeong", "kind=organisation"), 2,
         "argument --name: 'Sam@jeong' has '@' (U+0040) at position 4"),
        (("set", ADDRESS, "name=" + "x" * 65, "kind=organisation"), 2,
         "argument --name: '" + "x" * 65 + "' String should have at most 64 characters"),
        (("set", ADDRESS, "name= Samjeong", "kind=organisation"), 2,
         "argument --name: ' Samjeong' starts or ends with a space"),
        (("set", ADDRESS, "name=1234", "kind=organisation"), 2, "argument --name: '1234' has no"),
        (("set", ADDRESS, *GOOD, "name_ko=삼정\t학교"), 2, "argument --name-ko: '삼정\\t학교' has a"),
        (("set", ADDRESS, "name=Samjeong school", "kind=resident"), 2,
         "argument --kind: invalid choice: 'resident'"),
        (("remove", ADDRESS, "name=Samjeong school"), 2, "go with set, not remove"),
        (("list", ADDRESS), 2, "list takes no ADDRESS"),
        (("rename", ADDRESS), 2, "argument ACTION: invalid choice: 'rename'"),
        (("list", "api=ftp://example"), 2, "is not the API's base URL"),
        (("list", "api=http://127.0.0.1:1"), 1, "did not answer"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_error_line(capsys, api, argv, code, words):
    if not any(str(a).startswith("api=") for a in argv):
        argv += (f"api={api.url}",)
    got, line = fails(capsys, "address_book", *argv)
    assert got == code and words in line, line


def test_help_names_the_actions_and_the_kinds(capsys):
    assert script("address_book", "help") is None
    out = capsys.readouterr().out
    assert "usage: brownie run scripts/address_book.py main" in out
    assert "name_ko=상살미사람들 kind=stakeholder" in out and "lot_operator" in out
