"""Readable on a desktop and on a phone: in Debian's Chromium at 1280 px and at 375 px wide,
no chart or table text of the explorer's and the dashboard's pages overlaps another or runs out
of its chart or cell, and no page is wider than the window (tables and charts scroll inside
their own box instead), in Korean at both widths and in English on the phone. Measured from the DOM's bounding boxes (tests/browser_helpers.py);
each page's screenshot is kept under reports/screenshots/layout/."""

from __future__ import annotations

import pytest

from tests.browser_helpers import browser, page, text_layout_problems, visit  # noqa: F401
from tests.explorer_helpers import sqlite_explorer_world
from tests.oracle_helpers import ROOT

explorer_world = sqlite_explorer_world

SHOTS = ROOT / "reports" / "screenshots" / "layout"
WIDTHS = (1280, 375)
LANGUAGES = ("ko", "en")


def pages(world) -> dict[str, str]:
    s = world.scenario
    return {
        "landing": "/explorer",
        "dashboard": "/dashboard",
        "dashboard-day": f"/dashboard?day={world.get('/v1/kpis').json()['day']}&days=14",
        "blocks": "/explorer/blocks",
        "statements": "/explorer/statements",
        "tx": f"/explorer/tx/{world.txs['valet_return']}",
        "slot": f"/explorer/slot/{s.slots['A']}",
        "address": f"/explorer/address/{world.valet['worker']}",
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_no_chart_or_table_text_overlaps(page, explorer_world, width):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    found: dict[str, list[str]] = {}
    # Korean at both widths (the default, and the longer labels); English on the phone, where
    # a longer English word could break the layout too.
    for language in LANGUAGES if width == 375 else ("ko",):
        for name, path in pages(explorer_world).items():
            joiner = "&" if "?" in path else "?"
            visit(page, f"{explorer_world.url}{path}{joiner}lang={language}")
            assert page.locator("html").get_attribute("lang") == language
            shot = SHOTS / f"{name}-{language}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000, shot  # drawn, not blank
            problems = text_layout_problems(page)
            if problems:
                found[f"{name} ({language})"] = problems
    assert found == {}, found


def test_the_layout_check_sees_overlapping_and_clipped_texts(page):  # noqa: F811
    """The check itself: texts drawn on top of each other, out of their chart, or out of their
    cell, are reported."""
    page.set_viewport_size({"width": 375, "height": 600})
    page.set_content(
        '<svg class="chart" viewBox="0 0 200 100" width="200" height="100">'
        '<text x="10" y="20">first label</text><text x="14" y="22">second label</text>'
        '<text x="190" y="50">cut off at the edge</text></svg>'
        '<table style="width:120px;table-layout:fixed"><tr><td style="white-space:nowrap">'
        "a cell whose text runs far beyond it</td><td>next</td></tr></table>"
    )
    problems = text_layout_problems(page)
    assert any("overlap" in p and "first label" in p for p in problems), problems
    assert any("cut off at the edge" in p and "outside" in p for p in problems), problems
    assert any("overflows its cell" in p for p in problems), problems
