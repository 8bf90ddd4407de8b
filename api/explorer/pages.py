"""Rendering shared by the explorer and dashboard routes: the Jinja2 environment and its
filters, and HTML error pages (4xx with what to fix, never a 500 for bad input): the page
routes' own errors (html_errors) and, through the app's handlers, FastAPI's validation and HTTP
errors on page paths (is_page)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.explorer.formatting import short
from api.explorer.terms import term, witness_name
from api.explorer.viewer import SESSION_PATH, viewer_context
from api.i18n.catalog import gettext
from api.i18n.web import install_jinja
from indexer import models as m


def search_examples(request: Request) -> dict[str, Any]:
    """What the search box's placeholder suggests on every page: ids that exist in the read
    model, so each example leads somewhere (None: nothing of that kind indexed yet)."""
    state = getattr(request.app.state, "citypass", None)
    if state is None:
        return {"examples": {}}
    with Session(state.engine) as session:
        found = {
            "slot": session.scalar(select(func.min(m.Slot.slot_id))),
            "lease": session.scalar(select(func.max(m.Lease.lease_id))),
            "block": session.scalar(select(func.max(m.Block.number))),
        }
    return {"examples": {kind: n for kind, n in found.items() if n is not None}}


TEMPLATES = Jinja2Templates(
    directory=str(Path(__file__).resolve().parent / "templates"),
    context_processors=[search_examples, viewer_context],
)
install_jinja(TEMPLATES.env)
TEMPLATES.env.filters.update(short=short, term=term, translate=gettext, witness_name=witness_name)


class PageError(ApiError):
    """A page that cannot be shown as asked; `status` is the HTTP status of the error page."""

    def __init__(self, status: int, message: str, code: str = "explorer") -> None:
        super().__init__(message, code=code)
        self.status = status


class BadInput(PageError):
    def __init__(self, message: str) -> None:
        super().__init__(422, message, "validation")


class NotFoundPage(PageError):
    def __init__(self, message: str) -> None:
        super().__init__(404, message, "not_found")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def error_page(
    request: Request, status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    context = {"http_status": status, "message": message, "code": code}
    return TEMPLATES.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )


def html_errors(route: Callable[..., Any]) -> Callable[..., Any]:
    """Domain errors of a page route become an HTML error page with their status and message."""

    @functools.wraps(route)
    def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        try:
            return route(request, *args, **kwargs)
        except ApiError as exc:
            return error_page(request, exc.status, exc.message, exc.code)

    return wrapper


def is_page(path: str) -> bool:
    """Whether `path` is one of the explorer's HTML pages (a browser reads the error), not JSON."""
    if path == SESSION_PATH:
        return False
    return path in ("/explorer", "/dashboard") or path.startswith("/explorer/")


def invalid_page_request(request: Request, problems: str) -> HTMLResponse:
    """A page's query or path parameters failed FastAPI's validation (e.g. limit=0): the same
    HTML 422 as the explorer's own input errors, not the API's JSON."""
    message = gettext("{problems}. Fix it in the address and load the page again.")
    return error_page(request, 422, message.format(problems=problems), "validation")


def page_http_error(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """An HTTP error (no such page, wrong method) under the explorer, as an HTML page."""
    if status == 404 and detail == "Not Found":
        detail = gettext("there is no explorer page at {path}: start from /explorer").format(
            path=request.url.path
        )
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http")
    return error_page(request, status, detail, code, headers)
