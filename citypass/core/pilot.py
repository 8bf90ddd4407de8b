"""The Sangsalmi pilot's measured figures (DESIGN §1): the village the demo seeds, and what the
pilot reported, which the impact KPIs are shown beside (never computed from)."""

# DESIGN §1: demand of about 389 vehicles, about 144 spaces before sharing, 280 shared spaces.
# The demo seeds a village of this size; the KPIs count what is on chain instead.
VILLAGE_VEHICLES = 389
SPACES_BEFORE_SHARING = 144
PILOT_SHARED_SPACES = 280

# What the pilot reported (DESIGN §1, June–December 2019), by impact figure key.
PILOT_REPORTED: dict[str, dict[str, float]] = {
    "supplyRatio": {"before": 0.37, "after": 1.09},
    "extraSpacesPerDay": {"value": 19.46},
    "illegalParkingPerDay": {"before": 266, "after": 156},
    "jobs": {"value": 21},
}
PILOT_SOURCE = "DESIGN §1 (the Sangsalmi pilot, June–December 2019)"
