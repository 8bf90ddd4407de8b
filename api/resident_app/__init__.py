"""The resident web app at /app: the CityPass app's web counterpart, plain HTML, JavaScript
modules and CSS with no build step (static/). Its one library, ethers v6, is served from the
project's own node_modules (package.json pins it) under /app/vendor/, so the app loads with no
internet: nothing comes from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.errors import NotFound
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

    app.mount(APP_PATH, StaticFiles(directory=STATIC_DIR, html=True), name="resident-app")
