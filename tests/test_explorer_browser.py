"""Browser: Debian's Chromium, headless, driven by Playwright (which downloads no browser here),
loads the explorer home, a transaction page and the dashboard with no console errors and shows
the numbers of the read model and /v1/kpis. Swap `explorer_world` for a demo run's API to test
"after a demo run"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api.explorer.formatting import won
from citypass.deploy_mobility import VALET_FEE, VALET_WORKER_BPS
from tests.explorer_helpers import explorer_world  # noqa: F401

CHROMIUM = Path(os.environ.get("CITYPASS_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's Chromium (`apt-get install -y chromium`; "
            ".ci/run does) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM), args=ARGS, headless=True,
        )  # fmt: skip
        yield context
        context.close()


@pytest.fixture
def page(browser):
    """A fresh tab that records console errors and uncaught page errors."""
    tab = browser.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    yield tab
    tab.close()


def visit(page, url: str) -> None:
    reply = page.goto(url, wait_until="load")
    assert reply is not None and reply.status == 200, url
    page.wait_for_load_state("networkidle")
    assert page.problems == [], f"console errors on {url}: {page.problems}"


def test_explorer_home_loads_clean_with_sealed_blocks(page, explorer_world):
    visit(page, explorer_world.url + "/explorer")
    indexed = explorer_world.get("/health").json()["indexedBlock"]
    assert page.locator("#indexed").inner_text() == str(indexed)
    first = page.locator("#blocks tr[data-block]").first
    assert first.get_attribute("data-block") == str(indexed)
    assert first.locator("td.sealed").inner_text() == "sealed"


def test_transaction_page_loads_clean_with_domain_sentences(page, explorer_world):
    visit(page, f"{explorer_world.url}/explorer/tx/{explorer_world.txs['valet_return']}")
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
    visit(page, explorer_world.url + "/dashboard")
    assert page.locator("#kpi-shared").inner_text() == str(kpis["sharedSpaces"])
    assert page.locator("#kpi-valet").inner_text() == str(kpis["valet"]["completed"])
    supply = kpis["supply"]
    assert page.locator("#kpi-supply").inner_text() == (
        f"{supply['before'] * 100:.0f}% → {supply['after'] * 100:.0f}%"
    )
    assert page.locator("svg.chart").count() == 5
    # The charts carry their numbers: each revenue bar's label is the KPI's figure.
    revenue = page.locator("#chart-revenue .hvalue").all_text_contents()
    assert revenue == [won(r["earned"]) for r in kpis["revenue"]["byStakeholder"]]
    box = page.locator("#chart-utilisation svg").bounding_box()
    assert box is not None and box["width"] > 300  # drawn, not collapsed
