"""Which language a request is served in: `?lang=` (the page header's switch, remembered in a
cookie), then the cookie, then Accept-Language with its q-values, and Korean, the village's
language, when none of them names a language we have. Anything malformed is ignored, never an
error: a visitor always gets a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from babel.core import negotiate_locale

LOCALES = ("ko", "en")
DEFAULT = "ko"
COOKIE = "citypass_lang"
# The Babel locale each language's numbers and dates follow: Korean as in Korea; English as in
# Britain (day month year, a 24-hour clock), which reads KST wall-clock times without am/pm.
FORMAT_LOCALES = {"ko": "ko_KR", "en": "en_GB"}

_TAG = re.compile(r"^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$")
_Q = re.compile(r"^[qQ]=(0(\.\d{0,3})?|1(\.0{0,3})?)$")
_MAX_HEADER = 1000  # a longer Accept-Language is not a browser's: ignore the rest

# Shared by every request: each request (and each thread it runs in) sees its own value.
_current: ContextVar[str] = ContextVar("citypass_locale", default=DEFAULT)


def current() -> str:
    """The locale of the request being served ('ko' outside any request)."""
    return _current.get()


@contextmanager
def use(locale: str) -> Iterator[str]:
    """Serve what runs inside in `locale` (a supported one, else the default)."""
    token = _current.set(supported(locale) or DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def supported(value: str | None) -> str | None:
    """'ko' / 'en' when `value` is exactly one of them (any case), else None."""
    if not value:
        return None
    value = value.strip().lower()
    return value if value in LOCALES else None


def accepted(header: str | None) -> list[str]:
    """The language tags of an Accept-Language header, most preferred first (q=0 and malformed
    entries dropped; equal q-values keep the header's order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "")[:_MAX_HEADER].split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        if not _TAG.match(tag):
            continue
        quality = 1.0
        for param in params:
            if not _Q.match(param):
                quality = -1.0
                break
            quality = float(param[2:])
        if quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str | None) -> str | None:
    """The best of our locales for an Accept-Language header ('en-GB' → 'en'), or None."""
    tags = [tag for tag in accepted(header) if tag != "*"]
    return negotiate_locale(tags, list(LOCALES), sep="-") if tags else None


def choose(asked: str | None, cookie: str | None, header: str | None) -> str:
    """The request's locale: ?lang=, then the cookie, then Accept-Language, then Korean."""
    return supported(asked) or supported(cookie) or negotiate(header) or DEFAULT
