"""The kick-scooter fleet as the chain has it: MobilityOperators' assets, their operators and
current fare plans, and TripSettlement's open trip per asset (views, batched).

The read model does not index mobility yet, so the GBFS feeds read the chain directly; the
answers are cached per feed TTL (api/feeds/service.py) so polling never hammers the node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from api.errors import NotFound
from api.feeds.chain_reads import call_many
from citypass.protocol.abi import load_abi

KICK_SCOOTER = 2  # OperatorKind.KICK_SCOOTER


@dataclass(frozen=True)
class FarePlan:
    plan_id: int
    operator: str
    unlock_fee: int
    per_minute: int
    per_100m: int
    daily_cap: int


@dataclass(frozen=True)
class ScooterOperator:
    address: str
    active: bool
    plan: FarePlan | None  # None until the operator publishes a plan (no trip can start)


@dataclass(frozen=True)
class Scooter:
    asset_id: int
    operator: str
    active: bool
    village_zone: bool
    open_trip: int  # 0 when no trip is open on it


@dataclass(frozen=True)
class Fleet:
    operators: dict[str, ScooterOperator]
    scooters: list[Scooter]

    def available(self) -> list[Scooter]:
        """Rentable now: in service, of an active operator with a plan, not on an open trip."""
        result = []
        for scooter in self.scooters:
            operator = self.operators[scooter.operator]
            if scooter.active and operator.active and operator.plan and not scooter.open_trip:
                result.append(scooter)
        return result


def mobility_addresses(deployment_path: Path) -> dict[str, str] | None:
    """MobilityOperators and TripSettlement addresses from the deployment record, or None when
    the deployment has no mobility contracts."""
    try:
        contracts = json.loads(Path(deployment_path).read_text())["contracts"]
        return {
            "operators": to_checksum_address(contracts["operators"]),
            "trips": to_checksum_address(contracts["trips"]),
        }
    except (OSError, KeyError, ValueError, TypeError):
        return None


class FleetReader:
    def __init__(self, w3: Web3, addresses: dict[str, str] | None) -> None:
        self.w3 = w3
        self._operators: Any = None
        self._trips: Any = None
        if addresses is not None:
            self._operators = w3.eth.contract(
                to_checksum_address(addresses["operators"]), abi=load_abi("MobilityOperators")
            )
            self._trips = w3.eth.contract(
                to_checksum_address(addresses["trips"]), abi=load_abi("TripSettlement")
            )

    def read(self) -> Fleet:
        if self._operators is None:
            raise NotFound(
                "this deployment has no mobility contracts (operators, trips in the deployment "
                "record): the GBFS feeds need MobilityOperators and TripSettlement",
                code="no_mobility",
            )
        views = self._operators.functions
        count = int(call_many(self.w3, [views.assetCount()], what="asset count")[0])
        assets = call_many(
            self.w3, [views.assetOf(i) for i in range(1, count + 1)], what="mobility assets"
        )
        scooters = [(i + 1, a) for i, a in enumerate(assets) if int(a[1]) == KICK_SCOOTER]
        open_trips = call_many(
            self.w3,
            [self._trips.functions.openTripOf(asset_id) for asset_id, _ in scooters],
            what="open trips",
        )
        addresses = sorted({to_checksum_address(a[0]) for _, a in scooters})
        records = call_many(self.w3, [views.operatorOf(a) for a in addresses], what="operators")
        plan_ids = [int(r[2]) for r in records]
        plans = call_many(self.w3, [views.planOf(p) for p in plan_ids if p], what="fare plans")
        plan_iter = iter(plans)
        operators: dict[str, ScooterOperator] = {}
        for address, record, plan_id in zip(addresses, records, plan_ids, strict=True):
            plan = None
            if plan_id:
                _plan_operator, terms = next(plan_iter)
                plan = FarePlan(plan_id, address, *(int(t) for t in terms))
            operators[address] = ScooterOperator(address, bool(record[1]), plan)
        return Fleet(
            operators,
            [
                Scooter(asset_id, to_checksum_address(a[0]), bool(a[2]), bool(a[3]), int(trip))
                for (asset_id, a), trip in zip(scooters, open_trips, strict=True)
            ],
        )
