"""/docs (Swagger UI) and /redoc with their scripts and styles served by the API itself, so the
docs load with no internet: the assets come from the pinned `fastapi-offline` package
(requirements.lock), not from a CDN. FastAPI's own page builders write the HTML."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
    swagger_ui_default_parameters,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline").joinpath("static")))
# ReDoc's side menu shows a "by Redocly" logo fetched from its CDN, with no option to turn it off:
# its script is served with that one URL pointed at the local favicon instead.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
REDOC_JS_PATH = f"{ASSETS_PATH}/redoc-local.js"
# Swagger UI would otherwise ask validator.swagger.io to validate the schema (a badge).
SWAGGER_PARAMETERS = {**swagger_ui_default_parameters, "validatorUrl": None}


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve /docs, /docs/oauth2-redirect, /redoc and their assets (the app is built with
    docs_url=None and redoc_url=None so FastAPI's CDN pages are not registered)."""
    title = app.title
    redoc_js = (ASSETS_DIR / "redoc.standalone.js").read_text(encoding="utf-8")
    if REDOC_LOGO not in redoc_js:  # a new fastapi-offline: see that nothing else is fetched
        raise RuntimeError(f"{REDOC_LOGO} not found in fastapi-offline's ReDoc: check it")
    redoc_js = redoc_js.replace(REDOC_LOGO, f"{ASSETS_PATH}/favicon.png")

    @app.get(REDOC_JS_PATH, include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(
            redoc_js, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
        )

    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title}: Swagger UI",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title}: ReDoc",
            redoc_js_url=REDOC_JS_PATH,
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
