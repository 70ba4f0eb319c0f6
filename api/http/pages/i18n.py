"""The pages' languages: gettext catalogues (Babel) chosen per request from `?lang=` or `Accept-Language`.

    with use(negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))):
        page = build_page(view)          # `_()` in Python code and `{{ _() }}` in templates speak the language

The catalogues are `locale/<locale>/LC_MESSAGES/messages.po`, extracted from the code and templates
with `make i18n` (babel.cfg). They are compiled in memory when first used, with Babel's own compiler
(the one `pybabel compile` runs), so the .po files are the only copy: nothing compiled is committed
or can go stale, and a clean clone serves every language without a build step.

Python code marks text with `_()` where it is shown, and with `N_()` in tables read at import time
(translated where it is shown: `_(TABLE[key])`). English is the source language and the fallback
for anything a catalogue lacks (a test holds every catalogue complete).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from returntrace.i18n import N_

from ..qvalues import quality_values

__all__ = ["LANGUAGES", "N_", "Language", "current", "negotiate", "ngettext", "use", "_"]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    code: str  # what `?lang=` takes
    tag: str  # BCP 47, for <html lang> and Content-Language
    locale: str  # Babel locale and catalogue folder
    name: str  # the switch shows each language in its own name


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "en", "en", "English"),
        Language("de", "de", "de", "Deutsch"),
        Language("fr", "fr", "fr", "Français"),
        Language("es", "es", "es", "Español"),
        Language("zh", "zh-Hans", "zh_Hans", "简体中文"),
    )
}
DEFAULT = LANGUAGES["en"]


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The language ranges of an Accept-Language header (RFC 9110 12.5.4) with their weights, best
    first (stable among equals: the client's order); ranges with q=0 ("not acceptable") and
    malformed weights are left out."""
    ranges = [(tag, q) for tag, q in quality_values(header) if 0 < q <= 1]
    return sorted(ranges, key=lambda r: -r[1])


def _match(language_range: str) -> Language | None:
    """The page language for one range (RFC 4647 lookup: `de-AT` → de; `zh-CN`, `zh-Hans`, `zh-TW` → zh,
    the only Chinese catalogue)."""
    if language_range == "*":
        return DEFAULT
    return LANGUAGES.get(language_range.split("-")[0])


def negotiate(requested: str | None, accept_language: str | None) -> Language:
    """`?lang=` when it names a language the pages speak, else the best acceptable one, else English."""
    if requested and requested.lower() in LANGUAGES:
        return LANGUAGES[requested.lower()]
    for language_range, _q in parse_accept_language(accept_language):
        found = _match(language_range)
        if found is not None:
            return found
    return DEFAULT


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of a locale (English: the source text itself)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale == DEFAULT.locale or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog)  # fuzzy entries are left out, as `pybabel compile` leaves them
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


_active: ContextVar[Language] = ContextVar("page_language", default=DEFAULT)


def current() -> Language:
    return _active.get()


@contextmanager
def use(language: Language) -> Iterator[Language]:
    """Speak `language` in this context (a request's page, its error page)."""
    token = _active.set(language)
    try:
        yield language
    finally:
        _active.reset(token)


def _(message: str) -> str:
    """`message` in the current language."""
    return translations(current().locale).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current().locale).ngettext(singular, plural, n)
