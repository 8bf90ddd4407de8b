"""Numbers, won, KST times, lists and durations in the request's language, through Babel's
CLDR data: '1,234', '₩1,234' (KRW has no decimals), '2026년 12월 8일 오후 3:00' in Korean and
'8 Dec 2026, 15:00' in English, '마을기업 및 감사실' / 'a, b and c', '12분' / '12 minutes'. Times are always Asia/Seoul wall-clock, the village's and the ledger's clock."""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_interval, format_skeleton, format_time, format_timedelta
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

from api.i18n.locale import FORMAT_LOCALES, current
from citypass.core import timeunits


def _locale() -> Locale:
    return Locale.parse(FORMAT_LOCALES[current()])


def number(value: float) -> str:
    """'1,234,567' (grouped as the locale groups)."""
    return format_decimal(value, locale=_locale())


def won(amount: int) -> str:
    """Credits are whole KRW: '₩4,800', '-₩5'."""
    return format_currency(int(amount), "KRW", locale=_locale())


def _moment(timestamp: int) -> datetime:
    return timeunits.kst(int(timestamp))


def _clock(moment: datetime, locale: Locale) -> str:
    """'오후 3:00' / '15:00', with seconds only when they are not zero."""
    return format_time(moment, "short" if moment.second == 0 else "medium", locale=locale)


def _join(date_text: str, time_text: str, locale: Locale) -> str:
    # CLDR's date-and-time glue: '{1} {0}' in Korean, '{1}, {0}' in British English.
    return (
        str(locale.datetime_formats["medium"]).replace("{1}", date_text).replace("{0}", time_text)
    )


def day(timestamp: int) -> str:
    """The KST date of a Unix time: '2026년 12월 8일' / '8 Dec 2026'."""
    return format_skeleton("yMMMd", _moment(timestamp), locale=_locale())


def day_number(local_day: int) -> str:
    """A KST day number (days since 1970-01-01 in KST, FareMath.localDay), written as a date."""
    return day(timeunits.day_start(int(local_day)))


def month(timestamp: int) -> str:
    """'2026년 12월' / 'Dec 2026'."""
    return format_skeleton("yMMM", _moment(timestamp), locale=_locale())


def moment(timestamp: int) -> str:
    """'2026년 12월 8일 오후 3:00' / '8 Dec 2026, 15:00' (KST)."""
    locale, at = _locale(), _moment(timestamp)
    return _join(day(timestamp), _clock(at, locale), locale)


def window(start: int, end: int) -> str:
    """'2026년 3월 2일 오후 6:00~10:00' / '2 Mar 2026, 18:00–22:00' within one KST day, else
    both ends in full."""
    locale, a, b = _locale(), _moment(start), _moment(end)
    if a.date() != b.date():
        return f"{moment(start)} – {moment(end)}"
    skeleton = "Hm" if "H" in str(locale.time_formats["short"].pattern) else "hm"
    hours = format_interval(a.time(), b.time(), skeleton, locale=locale)
    return _join(day(start), hours, locale)


def names(items: list[str]) -> str:
    """'a, b and c' / 'a, b 및 c': a list in a sentence."""
    return format_list([str(item) for item in items], locale=_locale())


def duration(seconds: int) -> str:
    """'12 minutes' / '12분' (rounded to the largest unit, as a person says it)."""
    return format_timedelta(seconds, locale=_locale())
