"""The product page in a real browser in each language: chosen from the browser's Accept-Language,
then by following the page's own language switch (a plain link: the page runs no script), at phone
width without sideways scrolling. Screenshots go to reports/ (gitignored): product-page-<lang>.png.
Needs Chromium, like tests/api/test_consumer_page_browser.py, whose live gateway it uses."""

from __future__ import annotations

from tests.api.browser import Chromium, find_chromium
from tests.api.test_consumer_page_browser import PHONE_WIDTH, REPORTS, live_gateway  # noqa: F401 (a fixture)
from tests.support import GTIN

ACCEPT = {
    "en": "en-US,en;q=0.9",
    "de": "de-DE,de;q=0.9,en;q=0.8",
    "fr": "fr-FR,fr;q=0.9",
    "es": "es-ES,es;q=0.9,en;q=0.5",
    "zh": "zh-CN,zh;q=0.9",
}
TAGS = {"en": "en", "de": "de", "fr": "fr", "es": "es", "zh": "zh-Hans"}
HEADINGS = {
    "en": "Return policy",
    "de": "Rückgaberegelung",
    "fr": "Politique de retour",
    "es": "Política de devoluciones",
    "zh": "退货政策",
}


def test_product_page_in_each_language_and_by_the_switch(live_gateway):  # noqa: F811
    find_chromium()
    _, url = live_gateway
    with Chromium() as browser:
        agent = browser.send("Browser.getVersion")["userAgent"]
        for code, accept in ACCEPT.items():
            browser.send("Emulation.setUserAgentOverride", userAgent=agent, acceptLanguage=accept)
            assert browser.open(f"{url}/01/{GTIN}", width=PHONE_WIDTH) == 200
            assert browser.evaluate("document.documentElement.lang") == TAGS[code]
            assert browser.evaluate("document.querySelector('h1').innerText") == HEADINGS[code]
            assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, code
            assert browser.evaluate("document.scripts.length") == 0
            browser.screenshot(REPORTS / f"product-page-{code}.png")
            browser.screenshot(REPORTS / f"product-page-{code}-first-screen.png", full_page=False)

        # The browser asks for German; the reader taps 简体中文, then Español.
        browser.send("Emulation.setUserAgentOverride", userAgent=agent, acceptLanguage=ACCEPT["de"])
        for code in ("zh", "es"):
            href = browser.evaluate(f"document.querySelector('#languages a[hreflang=\"{TAGS[code]}\"]').href")
            assert browser.open(href, width=PHONE_WIDTH) == 200
            assert browser.evaluate("document.documentElement.lang") == TAGS[code]
            assert browser.evaluate("document.querySelector('h1').innerText") == HEADINGS[code]
            current = browser.evaluate("document.querySelector('#languages a[aria-current]').getAttribute('hreflang')")
            assert current == TAGS[code]
