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


# Every piece of chart or table text on the page, as boxes: SVG <text> by its bounding box,
# table cells' text by the rectangles of its text nodes (what is actually drawn). Returns the
# pairs that overlap, and the texts drawn outside their chart or cell, described for a message.
TEXT_LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const visible = (r) => r.width > 0 && r.height > 0;
  const overlap = (a, b, slack) =>
    a.left < b.right - slack && b.left < a.right - slack &&
    a.top < b.bottom - slack && b.top < a.bottom - slack;
  const inside = (r, box, slack) =>
    r.left >= box.left - slack && r.right <= box.right + slack &&
    r.top >= box.top - slack && r.bottom <= box.bottom + slack;
  const say = (el) => (el.textContent || "").trim().slice(0, 40);
  for (const svg of document.querySelectorAll("svg.chart")) {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")]
      .filter((t) => t.textContent.trim())
      .map((t) => ({ t, r: t.getBoundingClientRect() }))
      .filter(({ r }) => visible(r));
    for (let i = 0; i < texts.length; i++) {
      if (!inside(texts[i].r, box, 1))
        problems.push(`chart text "${say(texts[i].t)}" is drawn outside its chart`);
      for (let j = i + 1; j < texts.length; j++)
        if (overlap(texts[i].r, texts[j].r, 0.5))
          problems.push(`chart texts "${say(texts[i].t)}" and "${say(texts[j].t)}" overlap`);
    }
  }
  const cells = [];
  for (const cell of document.querySelectorAll("table td, table th")) {
    const box = cell.getBoundingClientRect();
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (!visible(r)) continue;
        if (!inside(r, box, 1)) problems.push(`table text "${say(cell)}" overflows its cell`);
        cells.push({ cell, r });
      }
    }
  }
  for (let i = 0; i < cells.length; i++)
    for (let j = i + 1; j < cells.length; j++)
      if (cells[i].cell !== cells[j].cell && overlap(cells[i].r, cells[j].r, 0.5))
        problems.push(`table texts "${say(cells[i].cell)}" and "${say(cells[j].cell)}" overlap`);
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1)
    problems.push(`the page is ${page.scrollWidth} px wide in a ${page.clientWidth} px window`);
  return [...new Set(problems)];
}
"""


def text_layout_problems(page) -> list[str]:
    """Overlapping or clipped chart and table texts on the page (see TEXT_LAYOUT_PROBLEMS)."""
    return page.evaluate(TEXT_LAYOUT_PROBLEMS)
