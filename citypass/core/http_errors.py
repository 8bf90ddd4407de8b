"""aiohttp's own error pages are plain text: a daemon's HTTP server answers every error as JSON
through this middleware, in the body its clients read (a JSON-RPC error, an `{"error": ...}`
object). Internal errors are logged with the request line, never shown."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware


def json_errors(
    on_http_error: Callable[[web.Request, web.HTTPException], web.StreamResponse],
    on_internal_error: Callable[[web.Request], web.StreamResponse],
    log: logging.Logger,
) -> Middleware:
    """A middleware answering an HTTP error (status 400 and up: unknown path, wrong method,
    body too large) with `on_http_error`, and any other exception, logged to `log`, with
    `on_internal_error`. Redirects and other HTTP exceptions below 400 pass through."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return on_http_error(request, exc)
        except Exception:
            log.exception("internal error on %s %s", request.method, request.path)
            return on_internal_error(request)

    return middleware
