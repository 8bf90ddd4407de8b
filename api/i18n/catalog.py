"""The gettext catalogs: `locales/<lang>/LC_MESSAGES/messages.po`, whose msgids are the English
texts (so English needs no catalog) and whose msgstrs are the Korean ones. Each .po is compiled
in memory at first use (Babel's read_po + write_mo into a Translations), so there is no .mo to
build or to commit and a translation edited in the .po shows at the next start.

`make i18n` re-extracts the msgids (babel.cfg: the explorer's templates and the Python sources
of api/) and merges them into the .po files; tests/explorer/test_i18n.py fails while a msgid
has no Korean text."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from api.i18n.locale import FORMAT_LOCALES, LOCALES, current

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as po:
        return read_po(po, locale=FORMAT_LOCALES[locale], domain=DOMAIN)


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale`; English (the msgids) and a missing .po translate to
    themselves. Fuzzy entries are left out, as msgfmt does."""
    if locale not in LOCALES or not po_path(locale).is_file():
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(locale), use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    """`message` (an English msgid) in the current request's language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a marker)
    """Marks a msgid for extraction where it is defined (a table); translate it where shown."""
    return message


_ = gettext
