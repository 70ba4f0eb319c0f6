"""Screenshots of the buyer's return flow in each page language, of the inspection station and of a brand's
analytics dashboard, for the docs (`make screenshots`).

Not a test (no `test_` file name: the suite does not collect it); pytest runs it for the chain and the
gateway fixtures the flow's browser test uses: a served gateway with its relayer and indexer, an order
bought by one of anvil's accounts, the assistant double (it reads every text as size_fit: the pages are
shown here, not the model) and the injected wallet. Each language opens the flow with `?lang=`, signs in,
asks for the options in that language and chooses the exchange, then writes
docs/screenshots/return-flow-<code>.png (1000 px wide, down to the confirmation). Chinese needs a CJK font
in Chromium (Debian: fonts-noto-cjk); without one this says so. The station (docs/screenshots/station.png)
is taken as its browser test leaves it: the unit found, an unopened unit's facts ticked, a photo stored,
the inspection signed and the order settled.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from brownie import accounts

from api.http.pages.i18n import LANGUAGES
from returntrace.escrow import Grade, ReturnReason
from tests.api.browser import Chromium, find_chromium
from tests.api.test_analytics_browser import indexed, sell, sign_in_on_the_dashboard
from tests.api.test_consumer_page_browser import live_gateway  # noqa: F401 (fixture)
from tests.api.test_return_flow_browser import PROVIDER, Wallet, _bought, _until, flow_gateway  # noqa: F401
from tests.api.test_station_browser import inspect_in_browser, returned_for_station
from tests.support import GTIN

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# What the buyer writes, in each language the pages speak.
WORDS = {
    "en": "The body is too small for my baby.",
    "de": "Der Body ist zu klein für mein Baby.",
    "fr": "Le body est trop petit pour mon bébé.",
    "es": "El body es demasiado pequeño para mi bebé.",
    "zh": "这件连体衣对我的宝宝来说太小了。",
}


def cjk_font_missing() -> bool:
    """True when fontconfig knows no font with Chinese glyphs (the zh screenshot would show boxes)."""
    if shutil.which("fc-list") is None:
        return True
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
    return not listed.strip()


def test_screenshots_of_the_flow_in_every_language(flow_gateway, shop, escrow):  # noqa: F811 (the fixture)
    find_chromium()
    if cjk_font_missing():
        print(
            "\nWARNING: no CJK font: the Chinese screenshot will show boxes for its glyphs. "
            "Install one for this run: apt-get update && apt-get install -y fonts-noto-cjk"
        )
    _, base, said = flow_gateway
    buyer = accounts[6]
    _bought(shop, escrow, buyer, "SHOT-1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtWallet")
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=PROVIDER)
        for code in LANGUAGES:
            said.language = code
            url = f"{base}/return/{GTIN}/SHOT-1?lang={code}"
            assert browser.open(url, width=1000, height=900, scale=1.0, mobile=False) == 200
            _until(browser, "document.getElementById('return-flow').dataset.ready === '1'", "the flow's script")
            wallet = Wallet(browser, buyer.address)
            browser.evaluate("document.getElementById('connect').click()")
            wallet.answer("eth_requestAccounts")
            wallet.answer("personal_sign")
            _until(browser, "document.getElementById('assess').disabled === false", "the wallet to sign in")
            browser.evaluate(f"document.getElementById('text').value = {json.dumps(WORDS[code])}")
            browser.evaluate("document.getElementById('assess').click()")
            _until(browser, "document.querySelectorAll('#options li').length > 0", f"the options ({code})")
            browser.evaluate("document.getElementById('choose-exchange').click()")
            # Down to the confirmation: the withdrawal form below it is the same English text in every language.
            bottom = browser.evaluate("document.getElementById('confirm').getBoundingClientRect().bottom + 16")
            path = browser.screenshot(SHOTS / f"return-flow-{code}.png", height=bottom)
            print(f"wrote {path}")


def test_screenshot_of_the_station(flow_gateway, shop, registry, admin, actors, tmp_path):  # noqa: F811
    find_chromium()
    http, base, _ = flow_gateway
    _, inspector = returned_for_station(http, shop, registry, admin, actors, "SHOT-STATION")
    (tmp_path / "unit.png").write_bytes(http.get(f"/01/{GTIN}/21/SHOT-STATION/qr.png").content)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtWallet")
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=PROVIDER)
        code = f"(01){GTIN}(21)SHOT-STATION"
        wallet = inspect_in_browser(browser, f"{base}/station", inspector.address, code, tmp_path / "unit.png")
        browser.evaluate("document.getElementById('sign').click()")
        wallet.answer("eth_signTypedData_v4")  # the INSPECTING scan
        wallet.answer("eth_signTypedData_v4")  # the attestation
        _until(browser, "document.getElementById('order-status').dataset.state === 'settled'", "the settlement", 60)
        print(f"wrote {browser.screenshot(SHOTS / 'station.png')}")


def test_screenshot_of_the_analytics_dashboard(live_gateway, shop, actors, deployment):  # noqa: F811 (the fixture)
    """docs/screenshots/analytics.png: a brand's dashboard over a few orders, returned for several
    reasons and graded, beside another brand's product it does not see."""
    find_chromium()
    gateway, url = live_gateway
    reasons = ReturnReason
    sell(
        shop,
        actors,
        deployment,
        [
            (reasons.NO_LONGER_NEEDED, Grade.A),
            (reasons.DEFECTIVE, Grade.A),
            (reasons.NOT_AS_DESCRIBED, Grade.B),
            (reasons.NO_LONGER_NEEDED, None),
        ]
        + [(None, None)] * 8,
        others=3,
    )
    indexed(gateway)
    with Chromium() as browser:
        sign_in_on_the_dashboard(browser, url, actors["brand"], width=1000, height=900, scale=1.0, mobile=False)
        path = browser.screenshot(SHOTS / "analytics.png")
        print(f"wrote {path}")
