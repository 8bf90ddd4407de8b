"""Shared fixtures: one deployment per test module, chain state rolled back after each test.

Accounts 0..6 are the stakeholders (admin, treasury, village enterprise, city fund, platform,
operator, oracle); 7 is a slot owner, 8 and 9 are residents, 10 is a stranger (never onboarded).
"""

from __future__ import annotations

import gc

import brownie
import pytest

from citypass.chain import brownie_fixes
from citypass.chain.deployment import Stakeholders, deploy_system
from citypass.chain.session import use_private_engine_port
from citypass.core.windows import EVERY_DAY, Window
from tests.contract_helpers import mine_at, next_day_start

# Runs before brownie's plugin starts the engine: every test run gets its own anvil port, and
# brownie's false "dropped transaction" verdicts under anvil are re-checked.
use_private_engine_port()
brownie_fixes.apply()

PERSONAL = 3
STARTING_CREDIT = 1_000_000
MAX_UINT = 2**256 - 1
HOUR = 3600


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


# The longest files start first: with two workers taking whole files (--dist loadfile), a long
# file handed out last leaves one worker idle while the other finishes it.
SLOWEST_FILES = (
    "test_demo_browser.py",
    "test_stateful_market.py",
    "test_stateful_mobility.py",
    "test_api_fuzz.py",
    "test_demo_mobility.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=rank)  # stable: the order within and between the other files is kept


_unfrozen_module: object = None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """brownie runs a full gc.collect() on every chain revert (each test's isolation, each
    Hypothesis example, each stateful run): 0.1-0.2 s over the suite's heap, most of the time of
    a small test. Objects alive when a test starts are frozen out of collection (gc.freeze), so
    those collections see only what the test made; once per module everything is unfrozen and
    collected, so garbage of earlier tests does not pile up."""
    global _unfrozen_module
    if item.module is not _unfrozen_module:
        _unfrozen_module = item.module
        gc.unfreeze()
        gc.collect()
    gc.freeze()


@pytest.fixture(scope="module")
def people(accounts):
    return Stakeholders(*accounts[:7])


@pytest.fixture(scope="module")
def system(people):
    # The project object, not the `brownie` namespace: brownie.project.run (used by the script
    # tests) removes the project's containers from that namespace when a script ends.
    return deploy_system(brownie.project.get_loaded_projects()[0], people)


@pytest.fixture(scope="module")
def access(system):
    return system.access


@pytest.fixture(scope="module")
def credit(system):
    return system.credit


@pytest.fixture(scope="module")
def slots(system):
    return system.slots


@pytest.fixture(scope="module")
def split(system):
    return system.split


@pytest.fixture(scope="module")
def market(system):
    return system.market


@pytest.fixture(scope="module")
def forwarder(system):
    return system.forwarder


@pytest.fixture(scope="module")
def admin(people):
    return people.admin


@pytest.fixture(scope="module")
def owner(accounts, system, people):
    account = accounts[7]
    system.access.onboard(account, {"from": people.admin})
    return account


@pytest.fixture(scope="module")
def residents(accounts, system, people):
    """Two onboarded residents with credits and a standing approval for the market."""
    chosen = [accounts[8], accounts[9]]
    for resident in chosen:
        system.access.onboard(resident, {"from": people.admin})
        system.credit.mint(resident, STARTING_CREDIT, b"\x00" * 32, {"from": people.treasury})
        system.credit.approve(system.market, MAX_UINT, {"from": resident})
    return chosen


@pytest.fixture(scope="module")
def resident(residents):
    return residents[0]


@pytest.fixture(scope="module")
def stranger(accounts):
    return accounts[10]


@pytest.fixture(scope="module")
def slot_id(system, people, owner):
    """A personal slot shared every day, all day, at the default ₩600 / ₩200."""
    tx = system.slots.registerSlot(
        owner, PERSONAL, 1, 37_503_000, 126_787_000, {"from": people.operator}
    )
    slot = tx.return_value
    system.slots.setWindows(slot, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
    return slot


@pytest.fixture(scope="module")
def day(system):
    """00:00 KST of a fresh day; the chain is moved to 02:00 the day before."""
    start = next_day_start() + 86400
    mine_at(start - 22 * HOUR)
    return start
