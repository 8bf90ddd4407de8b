"""Deploy and wire the CityPass contracts, and keep their addresses in deployments/<network>.json.

Used by the operators' deploy script, the tests, the benchmarks and the demo, so every one of
them runs the same wiring. `containers` is anything with the brownie contract containers as
attributes: the `brownie` module inside a brownie project, or a loaded `Project`. The admin is
a brownie account (or anything with its `address` and `nonce`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from web3.utils import get_create_address

from citypass.chain.deploy_mobility import deploy_mobility
from citypass.chain.deploy_sensors import deploy_sensors
from citypass.protocol.contracts import CONTRACT_NAMES, MAX_ADVANCE_SECONDS, MAX_LEASE_UNITS
from citypass.protocol.deployment_record import Deployment
from citypass.protocol.roles import ROLES

DEPLOYMENTS_DIR = Path(__file__).resolve().parents[2] / "deployments"


class DeploymentError(Exception):
    """Root of deployment errors; the message says what to do."""


@dataclass
class Stakeholders:
    """The accounts of the organisations that run and are paid by the platform."""

    admin: Any
    treasury: Any
    village_enterprise: Any
    city_fund: Any
    platform: Any
    operator: Any
    oracle: Any


@dataclass
class System:
    access: Any
    forwarder: Any
    credit: Any
    slots: Any
    split: Any
    market: Any
    devices: Any = None
    occupancy: Any = None
    incidents: Any = None
    operators: Any = None
    trips: Any = None
    journeys: Any = None
    valet: Any = None

    def addresses(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).address for f in fields(self)}


def deploy_system(containers: Any, people: Stakeholders) -> System:
    """Deploy every contract, wire them to each other and grant the stakeholders their roles."""
    tx = {"from": people.admin}
    access = containers.CityAccess.deploy(people.admin, tx)
    forwarder = containers.CityForwarder.deploy(tx)
    # The credit token and the vault fix each other's address as an immutable: the token is
    # deployed first with the address the vault will get from the admin's next nonce.
    vault_address = get_create_address(people.admin.address, people.admin.nonce + 1)
    credit = containers.CityCredit.deploy(access, vault_address, tx)
    split = containers.RevenueSplit.deploy(
        access, credit, forwarder, people.village_enterprise, people.city_fund, people.platform, tx
    )
    if split.address != vault_address:
        raise DeploymentError(
            f"the revenue split landed at {split.address}, not at {vault_address} where the "
            "credit token expects it (another transaction from the admin came in between): "
            "deploy again"
        )
    slots = containers.ParkingSlots.deploy(access, forwarder, tx)
    market = containers.LeaseMarket.deploy(
        access, credit, slots, split, forwarder, MAX_ADVANCE_SECONDS, MAX_LEASE_UNITS, tx
    )
    slots.setLeaseMarket(market, tx)
    # Before anyone can prepay: the market's prepaid balances carry CityAccess's suspensions.
    access.setMembershipListener(market, tx)
    split.setSource(market, True, tx)
    credit.setPlatformContract(market, True, tx)
    for role, account in (
        ("TREASURY", people.treasury),
        ("VILLAGE_ENTERPRISE", people.village_enterprise),
        ("OPERATOR", people.operator),
        ("ORACLE", people.oracle),
    ):
        access.grantRole(ROLES[role], account, tx)
    # The city fund and the platform receive credits (claims), so they must be allowed parties.
    for account in (people.city_fund, people.platform):
        if access.memberStatus(account) == 0:
            access.onboard(account, tx)
    system = System(access, forwarder, credit, slots, split, market)
    system = replace(system, **deploy_sensors(containers, system, people))
    return replace(system, **deploy_mobility(containers, system, people))


def deployment_file(network: str) -> Path:
    return DEPLOYMENTS_DIR / f"{network}.json"


def save_deployment(network: str, system: System, chain_id: int) -> Path:
    """Write the record of `network` (atomically: temporary file, fsync, rename)."""
    path = deployment_file(network)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Deployment(chain_id, system.addresses(), network=network).write(path)


def load_deployment(containers: Any, network: str) -> System:
    """Attach to the contracts recorded for `network`."""
    path = deployment_file(network)
    if not path.exists():
        raise DeploymentError(
            f"no deployment for network {network!r} ({path} missing): run "
            f"`brownie run scripts/deploy.py main --network {network}` first"
        )
    try:
        recorded = json.loads(path.read_text())["contracts"]
        handles = {
            key: getattr(containers, CONTRACT_NAMES[key]).at(recorded[key])
            for key in CONTRACT_NAMES
        }
    except (KeyError, ValueError) as exc:
        raise DeploymentError(f"{path} is not a valid deployment record ({exc}); redeploy") from exc
    return System(**handles)
