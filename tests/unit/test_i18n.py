"""The pages' languages: Accept-Language negotiation, the `?lang=` switch, and catalogues that hold a
checked translation of every string the code and templates mark (extracted here afresh, as `make i18n`
extracts them, so a string added without its translations fails this test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from api.chain.product_terms import MarketTerms, ProductTerms
from api.http.pages import i18n
from api.http.pages.consumer_page import NATIVE, build_page, format_amount, format_time, lower_first
from api.http.pages.policy_page import build_policy_page
from api.http.pages.return_flow_text import FLOW_TEXT
from returntrace import policies as presets
from tests.support import GTIN
from tests.views import returned_view

ZERO = "0x" + "00" * 20

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in i18n.LANGUAGES.values() if lang.code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
BRACED = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("en;q=0.5, es;q=0.9", "es"),  # weights, not order, decide
        ("zh-CN,zh;q=0.9", "zh"),
        ("zh-Hans-CN", "zh"),
        ("ja, ko;q=0.9, es;q=0.3", "es"),  # the best language the pages speak
        ("de;q=0, fr;q=0.1", "fr"),  # q=0: not acceptable
        ("ja", "en"),
        ("*", "en"),
        ("de;q=abc, es", "es"),  # a malformed weight drops that range
        ("", "en"),
        (None, "en"),
    ],
)
def test_language_from_accept_language(header, expected):
    assert i18n.negotiate(None, header).code == expected


def test_the_switch_wins_over_accept_language_and_ignores_unknown_codes():
    assert i18n.negotiate("zh", "de").code == "zh"
    assert i18n.negotiate("FR", None).code == "fr"
    assert i18n.negotiate("xx", "es").code == "es"


def test_accept_language_ranges_best_first():
    assert i18n.parse_accept_language("en;q=0.5, es;q=0.9 ,de") == [("de", 1.0), ("es", 0.9), ("en", 0.5)]


def _marked() -> set[str]:
    """Every msgid the code and templates mark, extracted with the project's babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"_": None, "N_": None, "ngettext": (1, 2), "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", TRANSLATED, ids=lambda lang: lang.code)
def test_every_marked_string_is_translated(lang):
    marked = _marked()
    assert len(marked) > 300  # the extraction found the pages' text (a broken babel.cfg finds none)
    with (i18n.LOCALE_DIR / lang.locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang.locale)
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert sorted(marked - set(entries)) == [], f"{lang.code}: not in the catalogue; run make i18n and translate"
    for key in sorted(marked):
        m = entries[key]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings) and not m.fuzzy, f"{lang.code}: {key!r} is untranslated or fuzzy"
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        allowed = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for s in strings:  # a translation names no value the code does not pass (a KeyError on the page)
            assert set(PLACEHOLDER.findall(s)) <= allowed, (lang.code, key, s)
            if not isinstance(m.id, tuple):
                assert set(PLACEHOLDER.findall(s)) == allowed, (lang.code, key, s)
    assert list(catalog.check()) == []  # Babel's own checks (python-format, plural forms)


@pytest.mark.parametrize("lang", TRANSLATED, ids=lambda lang: lang.code)
def test_a_page_speaks_its_language(lang):
    english = build_page(returned_view(), party=True)
    with i18n.use(lang):
        page = build_page(returned_view(), party=True)
        when = format_time(1_778_231_000)[0]
    assert page.banner != english.banner and page.steps[0].label != english.steps[0].label
    assert [r.term for r in page.return_rows] != [r.term for r in english.return_rows]
    assert when != format_time(1_778_231_000)[0]  # month names in the language too
    assert i18n.current().code == "en"  # the language ends with its context


def test_amounts_and_phrases_follow_the_language():
    amount = 1_234_500_000_000_000_000_000  # 1,234.5 ETH
    assert format_amount(amount, NATIVE) == "1,234.50 ETH"
    with i18n.use(i18n.LANGUAGES["de"]):
        assert format_amount(amount, NATIVE) == "1.234,50 ETH"
        assert lower_first("Eine örtliche gemeinnützige Organisation") == "Eine örtliche gemeinnützige Organisation"
    with i18n.use(i18n.LANGUAGES["es"]):
        assert format_amount(10**17, NATIVE) == "0,10 ETH"
        assert lower_first("Una organización benéfica local") == "una organización benéfica local"


def _policy_terms() -> ProductTerms:
    """A hygiene-sealed product sold in the three preset markets, as the chain would state it."""
    markets = [
        MarketTerms(
            m, presets.LAWS[m], 1, presets.PRESETS[m], [(ZERO, presets.NATIVE)], [(9506000000039, 9506000000039)]
        )
        for m in (presets.MARKET_EU, presets.MARKET_US, presets.MARKET_CN)
    ]
    return ProductTerms(GTIN, "0x" + "aa" * 20, 1, 0b111, 120, "0x" + "00" * 32, 1_778_231_000, markets)


# What stays Latin on a Chinese page: codes, units, addresses and the legal references' own names.
KEPT = {"GTIN", "ETH", "UTC", "ECC", "Net", "ADR", "HTSUS", "ReportFraud", "ftc", "gov", "EU", "US", "CN"}


def test_nothing_on_a_chinese_page_is_left_in_english():
    """Chinese shares no letters with English: any Latin word is text no catalogue entry covered
    (a string never marked for translation)."""
    with i18n.use(i18n.LANGUAGES["zh"]):
        unit = build_page(returned_view(), party=True)
        product = build_policy_page(_policy_terms(), lambda _address: "ETH", "http://x/01/" + GTIN)
    texts = [unit.title.replace(unit.serial, ""), unit.banner, unit.banner_detail, product.stated]
    for s in unit.steps:
        texts += [s.label, *s.lines, s.grade_meaning or "", s.by_role or ""]
    for r in (
        unit.return_rows + unit.fate + unit.return_options + [r for m in product.markets for r in m.rows + m.grades]
    ):
        texts += [r.term, r.value]
    english = {w for t in texts for w in re.findall(r"[A-Za-z]{2,}", re.sub(r"0x[0-9a-f…]+", "", t))} - KEPT
    assert english == set(), english


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda lang: lang.code)
def test_the_return_flow_scripts_words_keep_their_placeholders(language):
    """The script fills `{name}` itself (api/http/pages/return_flow_text.py): a translation must keep each one."""
    with i18n.use(language):
        for text in FLOW_TEXT.values():
            assert set(BRACED.findall(i18n._(text))) == set(BRACED.findall(text)), (language.code, text)
