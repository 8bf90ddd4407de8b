"""Where a PERSONAL (home) space is on chain: only its coarse cell (docs/privacy.md, "Where a
home space is").

ParkingSlots refuses a PERSONAL registration whose micro-degree coordinates are not multiples of
`GRID_E6` (ParkingSlotsLocationTooPrecise). The rounding happens here, off chain, before the
call, because the call data is as public as the event. Every caller that registers slots (the
operators' script, the demo, the tests) snaps through `on_chain_location`, and the API checks an
owner's exact spot against the cell with `cell_of`.

The cell: latitude and longitude each rounded to the nearest multiple of 0.001° (1000
micro-degrees), halves rounded up (towards +∞), so every point belongs to exactly one cell,
the half-open box [centre - 500, centre + 500) on each axis. At Bucheon's 37.5°N a cell is about
111 m north-south by 88 m east-west, and the registered centre is at most about 71 m from the
true spot, close enough for a distance search. Whole thousandths (rather than a geohash) keep
the contract's check one modulo per axis and the cell readable in any feed.
"""

from __future__ import annotations

# The compiled contract's PERSONAL_GRID_E6; tests/protocol check the two agree.
GRID_E6 = 1000
HALF_E6 = GRID_E6 // 2
# SlotCategory.PERSONAL: the one category placed by its cell (homes; not lots or street bays).
PERSONAL = 3


def snap_e6(value_e6: int) -> int:
    """The centre of the cell `value_e6` (micro-degrees) lies in, on one axis."""
    # Floor division rounds towards -∞ for negative values too: halves go up on both sides of 0.
    return (value_e6 + HALF_E6) // GRID_E6 * GRID_E6


def cell_of(lat_e6: int, lon_e6: int) -> tuple[int, int]:
    """The centre (micro-degrees) of the cell holding the point."""
    return snap_e6(lat_e6), snap_e6(lon_e6)


def on_grid(lat_e6: int, lon_e6: int) -> bool:
    """Whether ParkingSlots accepts the point for a PERSONAL space."""
    return lat_e6 % GRID_E6 == 0 and lon_e6 % GRID_E6 == 0


def on_chain_location(category: int, lat_e6: int, lon_e6: int) -> tuple[int, int]:
    """What to send to registerSlot: a PERSONAL space's cell, any other space's exact point."""
    return cell_of(lat_e6, lon_e6) if category == PERSONAL else (lat_e6, lon_e6)
