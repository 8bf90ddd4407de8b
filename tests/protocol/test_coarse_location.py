"""The coarse cell a PERSONAL (home) space is placed by on chain (citypass/protocol/
coarse_location.py): nearest multiple of 0.001° per axis, halves up (towards +∞), so every
point lies in exactly one half-open cell, on either side of the equator and the meridian."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citypass.protocol.coarse_location import (
    GRID_E6,
    PERSONAL,
    cell_of,
    on_chain_location,
    on_grid,
    snap_e6,
)
from indexer.handlers import CATEGORIES


@pytest.mark.parametrize(
    "value, cell",
    [
        (37_517_900, 37_518_000),  # up to the nearer line
        (37_517_499, 37_517_000),  # down to the nearer line
        (37_517_500, 37_518_000),  # a half goes up
        (37_518_000, 37_518_000),  # exactly on a line stays
        (0, 0),
        (499, 0),
        (500, 1000),
        (-499, 0),  # just south of the equator: still the equator's cell
        (-500, 0),  # a half goes up (towards +∞), not away from zero
        (-501, -1000),
        (-33_868_800, -33_869_000),  # Sydney: negative latitude
        (-126_787_450, -126_787_000),  # a western longitude
        (-126_787_500, -126_787_000),
        (-126_787_501, -126_788_000),
        (179_999_600, 180_000_000),  # the edges stay within ±180 / ±90
        (-179_999_500, -179_999_000),
        (-179_999_501, -180_000_000),
    ],
)
def test_snap_rounds_to_the_nearest_thousandth_halves_up(value: int, cell: int):
    assert snap_e6(value) == cell


@given(st.integers(-180_000_000, 180_000_000))
def test_every_point_lies_in_the_half_open_cell_around_its_snap(value: int):
    cell = snap_e6(value)
    assert cell % GRID_E6 == 0
    assert cell - GRID_E6 // 2 <= value < cell + GRID_E6 // 2
    assert snap_e6(cell) == cell  # a cell's centre is its own cell
    assert -180_000_000 <= cell <= 180_000_000


def test_cell_of_snaps_both_axes_and_lands_on_the_grid():
    cell = cell_of(37_503_120, 126_787_450)
    assert cell == (37_503_000, 126_787_000) and on_grid(*cell)
    assert not on_grid(37_503_120, 126_787_000) and not on_grid(37_503_000, -126_787_001)


def test_only_personal_spaces_are_snapped():
    assert on_chain_location(PERSONAL, 37_503_120, 126_787_450) == (37_503_000, 126_787_000)
    for category in (0, 1, 2):  # public lot, private lot, resident-priority street bay
        assert on_chain_location(category, 37_503_120, 126_787_450) == (37_503_120, 126_787_450)


def test_personal_is_the_contracts_slot_category():
    """SlotCategory's names in the order the indexer decodes them (checked against the chain's
    events in tests/indexer): PERSONAL is the one the contract places by its cell."""
    assert CATEGORIES[PERSONAL] == "PERSONAL"
