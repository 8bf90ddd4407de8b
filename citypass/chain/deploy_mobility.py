"""Deploy and wire the mobility contracts (issue 5): operators, trips, journeys, valet.

Called at the end of `citypass.chain.deployment.deploy_system`; kept in its own file so the parking
deployment stays as it was. The parameters are DESIGN §4-style defaults (constructor immutables).
"""

from __future__ import annotations

from typing import Any

# TripSettlement
DISPUTE_WINDOW_SECONDS = 2 * 3600  # the rider may dispute a fare for 2 hours after the end
TRIP_TIMEOUT_SECONDS = 12 * 3600  # an open trip may be force-closed at the cap fare after 12 h
PLATFORM_FEE_BPS = 1000  # 10% of every fare to the platform
VILLAGE_SHARE_BPS = 500  # 5% of fares of trips starting in the village zone to the village
# JourneyClearing
TRANSFER_WINDOW_SECONDS = 30 * 60  # a leg within 30 min of the previous one is a transfer
TRANSFER_DISCOUNT_BPS = 5000  # half the transfer leg's fare
RIDER_DAILY_DISCOUNT_CAP = 3000  # ₩ per rider per KST day
# ValetService
VALET_FEE = 5000  # ₩ per valet job, on top of the parking lease
VALET_WORKER_BPS = 7000  # the worker's share; the village enterprise takes the rest

MOBILITY_CONTRACT_NAMES = {
    "operators": "MobilityOperators",
    "trips": "TripSettlement",
    "journeys": "JourneyClearing",
    "valet": "ValetService",
}


def deploy_mobility(containers: Any, base: Any, people: Any) -> dict[str, Any]:
    """Deploy the four mobility contracts on top of `base` (the parking system) and wire them:
    TripSettlement and ValetService become revenue-split sources, JourneyClearing (which holds
    the subsidy pool) a CityCredit platform contract, and ValetService an active member (it
    books leases in its own name). Returns them keyed like `System`'s fields."""
    tx = {"from": people.admin}
    access, forwarder, credit, split = base.access, base.forwarder, base.credit, base.split
    operators = containers.MobilityOperators.deploy(access, forwarder, tx)
    trips = containers.TripSettlement.deploy(
        access,
        credit,
        split,
        operators,
        forwarder,
        DISPUTE_WINDOW_SECONDS,
        TRIP_TIMEOUT_SECONDS,
        PLATFORM_FEE_BPS,
        VILLAGE_SHARE_BPS,
        tx,
    )
    journeys = containers.JourneyClearing.deploy(
        access,
        credit,
        trips,
        operators,
        forwarder,
        TRANSFER_WINDOW_SECONDS,
        TRANSFER_DISCOUNT_BPS,
        RIDER_DAILY_DISCOUNT_CAP,
        tx,
    )
    valet = containers.ValetService.deploy(
        access, credit, base.market, split, forwarder, VALET_FEE, VALET_WORKER_BPS, tx
    )
    split.setSource(trips, True, tx)
    split.setSource(valet, True, tx)
    credit.setPlatformContract(journeys, True, tx)
    access.onboard(valet, tx)
    return {"operators": operators, "trips": trips, "journeys": journeys, "valet": valet}
