"""Rendering shared by the explorer and dashboard routes: the Jinja2 environment and its
filters, and HTML error pages (4xx with what to fix, never a 500 for bad input)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.errors import ApiError
from api.explorer.formatting import kst, kst_window, short, won

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
TEMPLATES.env.filters.update(kst=kst, won=won, short=short, window=kst_window)


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


def html_errors(route: Callable[..., Any]) -> Callable[..., Any]:
    """Domain errors of a page route become an HTML error page with their status and message."""

    @functools.wraps(route)
    def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        try:
            return route(request, *args, **kwargs)
        except ApiError as exc:
            return render(
                request, "error.html", exc.status, http_status=exc.status, message=exc.message,
                code=exc.code,
            )  # fmt: skip

    return wrapper
