"""/docs (Swagger UI) and /redoc load with no internet: every script and style they reference
is served by the API itself (from the pinned fastapi-offline package), and Swagger UI renders
the operations list in Chromium with every request off the loopback blocked."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from tests.api_helpers import World, sqlite_world  # noqa: F401
from tests.browser_helpers import browser, page  # noqa: F401

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl:\s*["']([^"']+)["']""")


def _referenced(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_reference_only_assets_the_api_serves(sqlite_world: World, path: str):  # noqa: F811
    api = sqlite_world.api
    reply = api.get(path)
    assert reply.status_code == 200 and "text/html" in reply.headers["content-type"]
    assert "cdn.jsdelivr.net" not in reply.text and "fonts.googleapis" not in reply.text
    urls = _referenced(reply.text)
    # The page's script(s), style (Swagger UI) and the OpenAPI document it loads.
    assert any(u.endswith(".js") for u in urls), urls
    assert "/openapi.json" in reply.text
    for url in urls:
        absolute = urljoin(api.url + path, url)
        assert urlparse(absolute).netloc == urlparse(api.url).netloc, f"{url} is not local"
        asset = api.get(absolute.removeprefix(api.url))
        assert asset.status_code == 200, (url, asset.status_code)
        assert len(asset.content) > 1000 or url.endswith("openapi.json"), url


def test_docs_asset_paths_outside_the_package_are_404(sqlite_world: World):  # noqa: F811
    assert sqlite_world.api.get("/docs-assets/../api/settings.py").status_code == 404
    assert sqlite_world.api.get("/docs-assets/nothing.js").status_code == 404


def test_swagger_ui_renders_the_operations_offline(sqlite_world: World, page):  # noqa: F811
    api_host = urlparse(sqlite_world.api.url).netloc
    blocked: list[str] = []

    def only_loopback(route) -> None:
        if urlparse(route.request.url).netloc == api_host:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    reply = page.goto(sqlite_world.api.url + "/docs", wait_until="load")
    assert reply is not None and reply.status == 200
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/prepare/book" in p for p in paths), paths[:10]
    assert any("/v1/clock" in p for p in paths)
    page.goto(sqlite_world.api.url + "/redoc", wait_until="load")
    # ReDoc lists each operation by its summary in its side menu.
    page.wait_for_selector(".redoc-wrap", timeout=30_000)
    page.wait_for_selector("text=Price, bookability, overage", state="attached", timeout=30_000)
    assert blocked == [], f"the docs reached off the loopback: {blocked}"
    assert page.problems == [], page.problems
