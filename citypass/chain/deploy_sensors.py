"""Deploy and wire the sensor contracts: DeviceRegistry, IncidentRegistry and OccupancyOracle.

Called at the end of `citypass.chain.deployment.deploy_system`, so every deployment (tests, demo,
benchmarks, operators' script) has them. The OccupancyOracle gets the ORACLE role so it may
check leases in and out and file incidents; `people.oracle` is the first report signer
(quorum 1), and the same account submits reports (it holds ORACLE from deploy_system).
"""

from __future__ import annotations

from typing import Any

from citypass.protocol.roles import ROLES

# DESIGN §4: magnetometers send a heartbeat every 3 h; a slot silent for longer plus the margin
# reads UNKNOWN. The margin is also the width of the contract's freshness buckets.
HEARTBEAT_SECONDS = 3 * 3600
MARGIN_SECONDS = 30 * 60
# A report observed longer ago than this is refused (a daemon back from an outage re-reads the
# sensors rather than replaying day-old state).
MAX_REPORT_AGE_SECONDS = 24 * 3600
# Device and daemon clocks may run this far ahead of the block time.
MAX_CLOCK_SKEW_SECONDS = 5 * 60


def deploy_sensors(containers: Any, base_system: Any, people: Any) -> dict[str, Any]:
    """Deploy the three sensor contracts against `base_system` (its access, slots and market).

    Returns {"devices": ..., "incidents": ..., "occupancy": ...}."""
    tx = {"from": people.admin}
    access = base_system.access
    devices = containers.DeviceRegistry.deploy(access, tx)
    incidents = containers.IncidentRegistry.deploy(access, MAX_CLOCK_SKEW_SECONDS, tx)
    occupancy = containers.OccupancyOracle.deploy(
        access,
        incidents,
        base_system.market,
        base_system.slots,
        people.oracle,
        HEARTBEAT_SECONDS,
        MARGIN_SECONDS,
        MAX_REPORT_AGE_SECONDS,
        MAX_CLOCK_SKEW_SECONDS,
        tx,
    )
    incidents.setOccupancyOracle(occupancy, tx)
    access.grantRole(ROLES["ORACLE"], occupancy, tx)
    return {"devices": devices, "incidents": incidents, "occupancy": occupancy}
