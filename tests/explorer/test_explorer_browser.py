"""Browser: Debian's Chromium, headless, driven by Playwright (which downloads no browser here),
loads the explorer home, a transaction page and the dashboard with no console errors and shows
the numbers of the read model and /v1/kpis, over the explorer tests' world (quick, exact
figures); tests/demo/test_demo_serving.py does the same after a real demo run."""

from __future__ import annotations

from api.explorer.formatting import won
from citypass.chain.deploy_mobility import VALET_FEE, VALET_WORKER_BPS
from tests.browser_helpers import browser, page, visit  # noqa: F401
from tests.explorer_helpers import in_english, sqlite_explorer_world  # noqa: F401

explorer_world = sqlite_explorer_world


def test_explorer_block_list_loads_clean_with_sealed_blocks(page, explorer_world):
    visit(page, explorer_world.url + "/explorer/blocks?lang=en")
    indexed = explorer_world.get("/health").json()["indexedBlock"]
    assert page.locator("#indexed").inner_text() == str(indexed)
    first = page.locator("#blocks tr[data-block]").first
    assert first.get_attribute("data-block") == str(indexed)
    assert first.locator("td.sealed").inner_text() == "sealed"


def test_transaction_page_loads_clean_with_domain_sentences(page, explorer_world):
    visit(page, f"{explorer_world.url}/explorer/tx/{explorer_world.txs['valet_return']}?lang=en")
    sentences = page.locator("#logs .sentence").all_inner_texts()
    share = VALET_FEE * VALET_WORKER_BPS // 10_000
    assert any(f"worker {won(share)}" in s for s in sentences), sentences
    assert page.locator("#tx-status").inner_text() == "success"
    # Following a link works in the browser too: the block of this transaction.
    page.locator("dl a[href^='/explorer/block/']").first.click()
    page.wait_for_load_state("load")
    assert page.locator("#seal-status").inner_text() == "sealed" and page.problems == []


def test_dashboard_loads_clean_and_shows_the_kpis(page, explorer_world):
    kpis = explorer_world.get("/v1/kpis").json()
    visit(page, explorer_world.url + "/dashboard?lang=en")
    assert page.locator("#kpi-shared").inner_text() == str(kpis["sharedSpaces"])
    assert page.locator("#kpi-valet").inner_text() == str(kpis["valet"]["completed"])
    supply = next(f for f in kpis["impact"]["figures"] if f["key"] == "supplyRatio")
    assert page.locator("#kpi-supply").inner_text() == (
        f"{supply['before'] * 100:.0f}% → {supply['after'] * 100:.0f}%"
    )
    ours = page.locator("#impact tr[data-figure] .ours").all_inner_texts()
    assert len(ours) == 4 and ours[0] == page.locator("#kpi-supply").inner_text()
    assert page.locator("svg.chart").count() == 5
    # The charts carry their numbers: each revenue bar's label is the KPI's figure.
    revenue = page.locator("#chart-revenue .hvalue").all_text_contents()
    assert revenue == [won(r["earned"]) for r in kpis["revenue"]["byStakeholder"]]
    box = page.locator("#chart-utilisation-hours svg").bounding_box()
    assert box is not None and box["width"] > 300  # drawn, not collapsed
