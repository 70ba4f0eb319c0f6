"""The analytics dashboard in headless Chromium: a brand signs in on /desk/analytics with an injected
EIP-1193 wallet (the desk's sign-in script; the test signs with the brand's key through a DevTools
binding) and sees its own GTINs only, another brand's product sold and returned beside it. Needs
Chromium (tests/api/browser.py says how to install it)."""

from __future__ import annotations

import json
import time

from brownie import ZERO_ADDRESS

from returntrace.escrow import Facts, Grade, ReturnReason
from scripts import deploy
from scripts.builder import Offer
from tests.api.browser import Chromium, find_chromium
from tests.api.people import signed
from tests.api.test_consumer_page_browser import live_gateway  # noqa: F401  (fixture)
from tests.api.test_desk_signin_browser import WALLET, _wait
from tests.support import GTIN, MARKET_EU

OTHER_GTIN_INT = int("09506000134413")  # brand2's product


def sell(shop, actors, deployment, returns: list[tuple[int, int | None]], others: int = 1) -> None:
    """The brand's orders (each returned for `reason` and graded `grade`, or kept: None) and `others`
    orders of brand2's product, one of them returned."""
    deploy.register_product(deployment, actors["brand2"], OTHER_GTIN_INT, 0, 1 << MARKET_EU)
    for reason, grade in returns:
        order_id = shop.buy(market=MARKET_EU)
        if reason is None:
            continue
        shop.returned(order_id, reason)
        if grade is not None:
            facts = {Grade.A: Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.B: Facts.PACKAGING_INTACT}[grade]
            shop.inspect(order_id, facts, grade)
    b = shop.builder
    for i in range(others):
        item = b.commission_item(f"OTHER{i}", OTHER_GTIN_INT, location=actors["brand2"].gln)
        b.commission("brand2", [item])
        b.list_for_sale(f"OTHER{i}", Offer(MARKET_EU, ZERO_ADDRESS, 10**18, 0, 10**16, gtin=OTHER_GTIN_INT), "brand2")
        order_id = b.purchase(b.unit_of(item)).return_value
        if i == 0:
            b.returned(order_id, ReturnReason.WRONG_ITEM)


def sign_in_on_the_dashboard(browser: Chromium, url: str, brand: deploy.Signer, **view: float) -> str:
    """Opens /desk/analytics, signs in with the injected wallet as `brand`, and answers the page's text."""
    browser.send("Runtime.addBinding", name="rtSign")
    browser.send(
        "Page.addScriptToEvaluateOnNewDocument", source=WALLET % {"account": json.dumps(brand.address.lower())}
    )
    assert browser.open(f"{url}/desk/analytics", **view) == 200  # type: ignore[arg-type]
    browser.evaluate("document.getElementById('signin').click()")
    message = _wait(browser, "Runtime.bindingCalled")["params"]["payload"]
    browser.evaluate(f"window.__signed({json.dumps(signed(message, brand.key))})")
    _wait(browser, "Page.loadEventFired")
    return browser.evaluate("document.body.innerText")


def indexed(gateway, seconds: float = 20) -> None:
    """Waits for the background indexer to reach the chain's head."""
    from brownie import chain

    deadline = time.monotonic() + seconds
    while gateway.client.get("/readyz").json()["indexer"]["indexedBlock"] != chain.height:
        assert time.monotonic() < deadline, "the indexer did not catch up"
        time.sleep(0.1)


def test_a_brand_signs_in_and_sees_only_its_own_products(live_gateway, shop, actors, deployment):  # noqa: F811
    find_chromium()
    gateway, url = live_gateway
    sell(shop, actors, deployment, [(ReturnReason.NO_LONGER_NEEDED, Grade.A), (None, None)])
    indexed(gateway)
    other = f"{OTHER_GTIN_INT:014d}"
    with Chromium() as browser:
        text = sign_in_on_the_dashboard(browser, url, actors["brand"], width=1000, height=900, scale=1.0, mobile=False)
        brand = actors["brand"].address
        assert f"Signed in as {brand[:6]}…{brand[-4:]} · brand" in text, text
        assert GTIN in text and other not in text
        assert "proved against the chain" in text
        gtins = browser.evaluate("[...document.querySelectorAll('select[name=gtin] option')].map(o => o.value)")
        assert gtins == [GTIN]  # the filter offers the brand's own products only
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") >= 5
        assert browser.evaluate("document.cookie") == ""  # HttpOnly session
