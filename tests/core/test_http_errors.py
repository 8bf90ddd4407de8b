"""citypass/core/http_errors.py: HTTP errors and internal errors leave as the daemon's JSON."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from citypass.core.http_errors import json_errors


def _app() -> web.Application:
    middleware = json_errors(
        lambda request, exc: web.json_response({"http": exc.status}, status=exc.status),
        lambda request: web.json_response({"internal": request.path}, status=503),
        logging.getLogger("test.http_errors"),
    )
    app = web.Application(middlewares=[middleware])

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    app.router.add_get("/broken", broken)
    app.router.add_get("/moved", moved)
    return app


def test_errors_are_answered_by_the_daemons_bodies_and_redirects_pass(caplog):
    async def scenario() -> None:
        async with TestClient(TestServer(_app())) as client:
            missing = await client.get("/nope")
            assert (missing.status, await missing.json()) == (404, {"http": 404})
            wrong = await client.post("/broken")
            assert (wrong.status, await wrong.json()) == (405, {"http": 405})
            broken = await client.get("/broken")
            assert (broken.status, await broken.json()) == (503, {"internal": "/broken"})
            moved = await client.get("/moved", allow_redirects=False)
            assert moved.status == 302

    asyncio.run(scenario())
    assert "internal error on GET /broken" in caplog.text
