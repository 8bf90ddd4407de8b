"""The resident web app at /app: the CityPass app's web counterpart, plain HTML, JavaScript
modules and CSS with no build step (static/). Its one library, ethers v6, is served from the
project's own node_modules (package.json pins it) under /app/vendor/, so the app loads with no
internet: nothing comes from a CDN. Its texts are in the shared gettext catalog (texts.py),
served to the JavaScript as JSON by /app/i18n/<lang>.json."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.errors import NotFound
from api.i18n.locale import LOCALES
from api.resident_app.texts import texts
from api.state import ROOT

APP_PATH = "/app"
STATIC_DIR = Path(__file__).resolve().parent / "static"
ETHERS_UMD = ROOT / "node_modules" / "ethers" / "dist" / "ethers.umd.min.js"


def install_resident_app(app: FastAPI) -> None:
    """/app (redirected to /app/), the app's files, and /app/vendor/ethers.umd.min.js."""

    @app.get(APP_PATH, include_in_schema=False)
    async def app_root() -> RedirectResponse:
        return RedirectResponse(APP_PATH + "/")

    # Registered before the mount so it is matched first.
    @app.get(f"{APP_PATH}/vendor/ethers.umd.min.js", include_in_schema=False)
    async def ethers_script() -> FileResponse:
        if not ETHERS_UMD.is_file():
            raise NotFound(
                f"{ETHERS_UMD} is missing: install the project's npm packages (`npm ci` at "
                f"{ROOT}) so the resident app can load ethers",
                code="ethers_missing",
            )
        return FileResponse(
            ETHERS_UMD, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
        )

    @app.get(f"{APP_PATH}/i18n/{{name}}", include_in_schema=False)
    async def catalog(name: str) -> JSONResponse:
        """The app's texts in one language, from the gettext catalog: /app/i18n/ko.json."""
        locale = name.removesuffix(".json")
        if not name.endswith(".json") or locale not in LOCALES:
            raise NotFound(
                f"no catalog {name[:40]!r}: the app's languages are "
                + ", ".join(f"{code}.json" for code in LOCALES),
                code="no_catalog",
            )
        return JSONResponse(texts(locale), headers={"Cache-Control": "no-cache"})

    app.mount(APP_PATH, StaticFiles(directory=STATIC_DIR, html=True), name="resident-app")
