"""Shared fixtures: one deployment per test module, chain state rolled back after each test.

Accounts 0..6 are the stakeholders (admin, treasury, village enterprise, city fund, platform,
operator, oracle); 7 is a slot owner, 8 and 9 are residents, 10 is a stranger (never onboarded).
"""

from __future__ import annotations

import gc
import os

import brownie
import pytest

from citypass.chain import brownie_fixes
from citypass.chain.deployment import Stakeholders, deploy_system
from citypass.chain.session import use_private_engine_port
from citypass.core.keystore import LIGHT_KDF_ENV
from tests.contract_helpers import member, mine_at, next_day_start, part_fixture, shared_slot

# Every keystore the suite makes is a throwaway: the light scrypt cost (geth's --lightkdf) for
# them, and for every daemon and CLI the tests start (they inherit the environment). At the
# production cost the suite's few hundred keystores took minutes of CPU. Keystore tests that
# need the production cost set it themselves.
os.environ[LIGHT_KDF_ENV] = "1"

# Runs before brownie's plugin starts the engine: every test run gets its own anvil port, and
# brownie's false "dropped transaction" verdicts under anvil are re-checked.
use_private_engine_port()
brownie_fixes.apply()

STARTING_CREDIT = 1_000_000
HOUR = 3600


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


# The longest files start first: with two workers taking whole files (--dist loadfile), a long
# file handed out last leaves one worker idle while the other finishes it.
SLOWEST_FILES = (  # longest first, as measured in full runs (pytest --durations), so that
    # `--dist loadfile` starts them early and no long file runs alone at the end
    "test_demo_serving.py",
    "test_properties.py",
    "test_api_fuzz.py",
    "test_stateful_market.py",
    "test_stateful_mobility.py",
    "test_ledger_restart.py",
    "test_ledger_faults.py",
    "test_resident_app.py",
    "test_oracle_faults.py",
    "test_api_roles.py",
    "test_ledger_diskfull.py",
    "test_api_cashouts.py",
    "test_ledger_limits.py",
    "test_api.py",
    "test_api_replica.py",
    "test_indexer.py",
    "test_ledger_witnesses.py",
    "test_ledger_cli.py",
    "test_api_relay_batch.py",
    "test_api_retention.py",
    "test_ledger_wallets.py",
    "test_oracle_plates.py",
    "test_layout.py",
    "test_feeds.py",
    "test_oracle_quorum.py",
    "test_api_applications.py",
    "test_api_relay.py",
    "test_scripts.py",
    "test_api_topups.py",
    "test_demo_mobility.py",
    "test_api_prepare.py",
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


def _contract(name: str, key: str | None = None) -> object:
    return part_fixture(name, "system", key or name)


access, credit, slots, split = map(_contract, ("access", "credit", "slots", "split"))
market, forwarder, devices, incidents = map(
    _contract, ("market", "forwarder", "devices", "incidents")
)
oracle = _contract("oracle", "occupancy")
admin, operator = (part_fixture(name, "people", name) for name in ("admin", "operator"))


@pytest.fixture(scope="module")
def owner(accounts, system, people):
    return member(system, people, accounts[7])


@pytest.fixture(scope="module")
def residents(accounts, system, people):
    """Two onboarded residents with credits and a standing approval for the market."""
    return [member(system, people, a, STARTING_CREDIT, approve=True) for a in accounts[8:10]]


resident = part_fixture("resident", "residents", 0)


@pytest.fixture(scope="module")
def stranger(accounts):
    return accounts[10]


@pytest.fixture(scope="module")
def slot_id(system, people, owner):
    """A personal slot shared every day, all day, at the default ₩600 / ₩200."""
    return shared_slot(system, people, owner)


@pytest.fixture(scope="module")
def day(system):
    """00:00 KST of a fresh day; the chain is moved to 02:00 the day before."""
    start = next_day_start() + 86400
    mine_at(start - 22 * HOUR)
    return start
