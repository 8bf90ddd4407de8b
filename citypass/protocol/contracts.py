"""The deployed contracts' names and the limits they are deployed with.

Shared by the deployment (which sets them) and the services that read or check against them;
a plain module, so the services need not import brownie.
"""

from __future__ import annotations

from pathlib import Path

# The compiled contracts (`brownie compile` writes them): ABIs for the services and the decoders.
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "build" / "contracts"

# Booking limits fixed at deployment (LeaseMarket immutables): 30 days ahead, 7 days long.
MAX_ADVANCE_SECONDS = 30 * 86400
MAX_LEASE_UNITS = 7 * 48

# deployment attribute -> contract name (the build artefact and the deployments file key)
CONTRACT_NAMES = {
    "access": "CityAccess",
    "forwarder": "CityForwarder",
    "credit": "CityCredit",
    "slots": "ParkingSlots",
    "split": "RevenueSplit",
    "market": "LeaseMarket",
    "devices": "DeviceRegistry",
    "occupancy": "OccupancyOracle",
    "incidents": "IncidentRegistry",
    "operators": "MobilityOperators",
    "trips": "TripSettlement",
    "journeys": "JourneyClearing",
    "valet": "ValetService",
}
