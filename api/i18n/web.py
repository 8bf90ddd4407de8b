"""The request's language on the web side: an ASGI middleware that picks it for the explorer,
the dashboard and the resident app (api.i18n.locale.choose), serves the request in it, keeps a
?lang= choice in a cookie and says the page varies by language; and the Jinja2 wiring (the i18n
extension with gettext callables that read the request's locale at render time, since the
Environment is shared by every request, and the header's language switch)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.i18n import catalog, formats
from api.i18n.locale import COOKIE, LOCALES, choose, current, supported, use

# The paths served in the reader's language; the JSON API (/v1, /health, ...) stays English.
LOCALISED = ("/explorer", "/dashboard", "/app")
COOKIE_MAX_AGE = 365 * 24 * 3600
# The switch in every page header: each language named in itself.
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}


def localised(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in LOCALISED)


class LocaleMiddleware:
    """Serves each localised request in its chosen language (a context variable, so concurrent
    requests and the threads their routes run in never see another's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not localised(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        asked = supported(request.query_params.get("lang"))
        cookie = request.cookies.get(COOKIE)
        chosen = choose(asked, cookie, request.headers.get("accept-language"))

        async def send_varied(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Accept-Language")
                headers.add_vary_header("Cookie")
                if asked and asked != cookie:
                    headers.append(
                        "set-cookie",
                        f"{COOKIE}={asked}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax",
                    )
            await send(message)

        with use(chosen):
            await self.app(scope, receive, send_varied)


def switch_url(request: Request, locale: str) -> str:
    """This page in `locale`: its path and query with lang= set (relative, so no host is echoed)."""
    url = request.url.include_query_params(lang=locale)
    return url.path + ("?" + url.query if url.query else "")


def install_jinja(env: Environment) -> None:
    """gettext for templates ({% trans %}, _()) in the request's language, the language
    switch and the language-aware filters."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=catalog.gettext, ngettext=catalog.ngettext, newstyle=True
    )
    globals_: dict[str, Any] = {
        "current_locale": current,
        "locales": LOCALES,
        "language_names": LANGUAGE_NAMES,
        "switch_url": switch_url,
    }
    env.globals.update(globals_)
    env.filters.update(
        kst=formats.moment, window=formats.window, won=formats.won, number=formats.number,
        kst_day=formats.day_number, names=formats.names, duration=formats.duration,
    )  # fmt: skip
