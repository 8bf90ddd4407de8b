"""The demo fills the address book as an operator would: signed in to the served API with the
operator's key, over HTTP (scripts/_cli/address_book.py, the code path of
scripts/address_book.py). It names the organisations only; residents and valet workers stay
pseudonymous (the API would refuse them anyway)."""

from __future__ import annotations

import time
from typing import Any

import click
import requests

from demo.mobility_day import Mobility
from demo.world import World
from scripts._cli.address_book import put_name
from scripts._cli.api_client import StaffApi, sign_text
from scripts._cli.errors import CliError

# The mobility operators' Korean names, by their names in demo/mobility_day.py's OPERATORS.
OPERATORS_KO = {
    "Sangsalmi kick-scooters": "상살미 킥보드",
    "Bucheon car share": "부천 카셰어링",
    "Bus (Technopark stop)": "버스 (테크노파크 정류장)",
}
INDEXED_WAIT_S = 120.0


def fill_address_book(api_url: str, world: World, mobility: Mobility, technopark: Any) -> int:
    """Name the stakeholders, the other organisations' keys, the mobility operators and the
    Technopark lot's operator (the city fund runs the public lots); answers how many."""
    people = world.people
    entries: list[tuple[Any, str, str | None, str]] = [
        (people.village_enterprise, "Sangsalmi village enterprise", "상살미사람들", "stakeholder"),
        (people.city_fund, "Bucheon City parking fund", "부천시 주차기금", "stakeholder"),
        (people.platform, "CityPass platform", "시티패스 플랫폼", "stakeholder"),
        (people.treasury, "CityPass treasury", "시티패스 정산 계정", "stakeholder"),
        (
            people.admin,
            "Bucheon City (ledger administrator)",
            "부천시 (원장 관리자)",
            "organisation",
        ),
        (people.operator, "CityPass operations", "시티패스 운영", "organisation"),
        (people.oracle, "Sensor oracle", "센서 오라클", "organisation"),
        (technopark, "Bucheon Technopark", "부천테크노파크", "lot_operator"),
    ]
    for operator in mobility.operators:
        name = operator.spec.name
        entries.append((operator.account, name, OPERATORS_KO.get(name), "mobility_operator"))
    # The API checks each address against its read model (a resident is refused): let it catch
    # up with what was registered on chain (Technopark's spaces, the mobility operators) first.
    wait_indexed(api_url, chain_head())
    try:
        api = StaffApi.sign_in(api_url, people.operator.address, sign_text(people.operator))
        for account, name, name_ko, kind in entries:
            put_name(api, account.address, name, name_ko, kind)
    except CliError as exc:
        raise click.ClickException(f"filling the address book: {exc}") from exc
    return len(entries)


def chain_head() -> int:
    from brownie import web3

    return int(web3.eth.block_number)


def wait_indexed(api_url: str, block: int) -> None:
    """Wait until the API's read model holds `block` (what it checks requests against)."""
    deadline = time.monotonic() + INDEXED_WAIT_S
    while time.monotonic() < deadline:
        try:
            health = requests.get(f"{api_url}/health", timeout=5).json()
        except (requests.RequestException, ValueError):
            health = {}
        if isinstance(health.get("indexedBlock"), int) and health["indexedBlock"] >= block:
            return
        time.sleep(0.5)
    raise TimeoutError(
        f"the API at {api_url} did not index block {block} within {INDEXED_WAIT_S} s"
    )
