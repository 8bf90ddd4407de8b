"""Headless Debian Chromium driven by Playwright (which downloads no browser here): a browser
context per test module and a tab that records console errors and uncaught page errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
