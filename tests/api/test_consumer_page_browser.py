"""The consumer page in a real browser: a unit's full return on the test chain, served by a running
gateway (uvicorn on a loopback port, relayer and indexer in the background), opened at its Digital
Link URL in headless Chromium at phone width.

Needs Chromium (Debian: `apt-get install -y chromium`); without it this test fails and says how to
install it. The screenshots go to reports/ (gitignored): consumer-page.png, consumer-page-404.png.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from brownie import chain

from api.http.auth.session import COOKIE
from api.main import create_app
from returntrace import gs1
from returntrace.escrow import Facts, Grade, ReturnReason
from returntrace.vocab import BizStep, Disposition
from scripts.builder import listing_terms, rma_ref
from scripts.gateway import free_port, wait_until
from tests.api.browser import Chromium, find_chromium
from tests.api.conftest import Gateway
from tests.api.people import sign_in
from tests.api.processes import served
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, GTIN, MARKET_EU
from tests.views import RETURNED_LABELS

REPORTS = Path(__file__).resolve().parents[2] / "reports"
HOUR, DAY = 3600, 86_400
PHONE_WIDTH = 360
RETURN_REASON_NO_LONGER_NEEDED = ReturnReason.NO_LONGER_NEEDED
REFUND = DEFAULT_PRICE * 8_000 // 10_000 - DEFAULT_RETURN_FEE  # 0.77 ETH


@pytest.fixture
def live_gateway(gateway_settings, deployment, actors):
    """The gateway app served by uvicorn in a thread; background relayer and indexer on."""
    port = free_port()
    app = create_app(
        gateway_settings.replace(
            relay=True, index=True, public_url=f"http://127.0.0.1:{port}", batch_interval=0.05, index_interval=0.1
        )
    )
    with served(app, port) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield Gateway(http, deployment, actors), url


def later(seconds: int) -> None:
    """Moves the chain's clock on and mines a block there (signed event times may not be ahead of it)."""
    chain.sleep(seconds)
    chain.mine()


def _confirmed(http: httpx.Client, message_id: str) -> dict:
    state = wait_until(
        lambda: (s := http.get(f"/v1/messages/{message_id}").json())["status"] in ("confirmed", "failed") and s,
        30,
        "the relayer",
    )
    assert state["status"] == "confirmed", state
    return state


def test_full_return_on_a_phone(live_gateway, shop, escrow, record, actors):
    find_chromium()  # fail first, and clearly, on a machine without Chromium
    gw, url = live_gateway

    # Made and sold: the brand commissions, lists and the buyer pays 1 ETH + 0.05 ETH delivery (EU).
    serial = "BTL-1001"
    unit = shop.list_unit(market=MARKET_EU, serial=serial)
    assert unit == gs1.unit_id(GTIN, serial)
    terms = listing_terms(escrow, unit)  # the buyer commits to every term of the listing
    order = escrow.purchase(
        unit, terms, False, {"from": actors["buyer"].account, "value": DEFAULT_PRICE + DEFAULT_DELIVERY_FEE}
    ).return_value

    # Shipped and cleared customs: the carrier's signed scanning session, posted to the gateway over HTTP.
    later(3 * HOUR)
    events = [gw.event(unit, BizStep.SHIPPING, "carrier", Disposition.IN_TRANSIT)]
    later(20 * HOUR)
    events.append(gw.event(unit, BizStep.CUSTOMS_CLEARING, "carrier", Disposition.IN_TRANSIT))
    r = gw.post("/v1/events", gw.events_body("carrier", events))
    assert r.status_code == 202, r.text
    _confirmed(gw.client, r.json()["id"])

    # Delivered; four days later the buyer returns it; the carrier picks it up; the return center receives it.
    later(DAY)
    shop.deliver(order)
    later(4 * DAY)
    shop.request_return(order, reason=RETURN_REASON_NO_LONGER_NEEDED)
    later(DAY)
    record(unit, BizStep.ACCEPTING, "carrier", Disposition.IN_TRANSIT, bizTransaction=rma_ref(escrow, order))
    later(DAY)
    shop.receive(order)

    # Inspected: the inspector uploads a photo, scans the unit with it, and attests grade B to the escrow.
    later(2 * HOUR)
    photo = gw.client.get(f"/01/{GTIN}/21/{serial}/qr.png").content  # any PNG stands in for the photo
    stored = gw.client.post("/v1/evidence", content=photo, headers={"content-type": "image/png"})
    assert stored.status_code == 201, stored.text
    cid, digest = stored.json()["cid"], bytes.fromhex(stored.json()["digest"].removeprefix("0x"))
    assert digest == hashlib.sha256(photo).digest()
    record(
        unit,
        BizStep.INSPECTING,
        "inspector",
        Disposition.NON_CONFORMANT,
        evidence=digest,
        bizTransaction=rma_ref(escrow, order),
    )
    shop.inspect(order, Facts.PACKAGING_INTACT, Grade.B, evidence=digest)

    # Refunded: the buyer accepts grade B; the EU policy's grade B terms (opened hygiene-sealed goods
    # are outside the statutory withdrawal) refund 80 % of the price less the return shipping the
    # buyer bears for grade B; the unit goes to a charity.
    later(HOUR)
    settled = escrow.acceptInspection(order, {"from": actors["buyer"].account}).events["OrderSettled"]
    assert (settled["grade"], settled["settlement"]["statutory"], settled["settlement"]["refund"]) == (
        Grade.B,
        False,
        REFUND,
    )
    later(DAY)
    record(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)

    # The indexer catches up and the JSON says what the page must show.
    link = f"{url}/01/{GTIN}/21/{serial}"

    def indexed():
        v = gw.client.get(link, headers={"accept": "application/json"}).json()
        done = v.get("return_status") and v["return_status"]["status"] == "settled" and len(v["timeline"]) == 8
        return v if done and v["verification"]["verified"] else None

    view = wait_until(indexed, 60, "the indexer to hold the whole return, verified", interval=0.2)
    block = view["verification"]["block"]

    REPORTS.mkdir(exist_ok=True)
    with Chromium() as browser:
        # Signed in as the buyer (the amounts are the order's parties'): the session cookie sign-in sets.
        token = sign_in(gw.client, actors["buyer"])
        browser.send("Network.setCookie", name=COOKIE, value=token, url=url, httpOnly=True, sameSite="Strict")
        status = browser.open(link, width=PHONE_WIDTH)
        assert status == 200
        text = browser.evaluate("document.body.innerText")
        shot = browser.screenshot(REPORTS / "consumer-page.png")

        assert browser.evaluate("document.documentElement.lang") == "en"
        assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, (
            "the page scrolls sideways at 360 px"
        )
        banner = browser.evaluate("document.getElementById('verification').innerText")
        assert f"Verified on-chain at block {block:,}" in banner
        labels = browser.evaluate("[...document.querySelectorAll('#timeline h3')].map(h => h.innerText)")
        assert labels == RETURNED_LABELS
        assert "Grade B — opened but unused" in text
        evidence = browser.evaluate("[...document.querySelectorAll('#timeline a')].map(a => a.getAttribute('href'))")
        assert evidence == [f"/v1/evidence/{cid}"]
        assert "0.77 ETH back to the buyer" in text
        status_rows = browser.evaluate("document.getElementById('return-status').innerText")
        for expected in (
            "Settled",
            "Grade\nB — opened but unused",
            "The brand's EU return policy, grade B terms",
            "Refund\n0.77 ETH",
            "Where the unit goes\nA local charity (donated)",
            f"Order state\nchecked on-chain at block {block:,}",
            "Statutory right\nReturned within the statutory period, but the unit's state (an opened hygiene seal",
        ):
            assert expected in status_rows, (expected, status_rows)
        assert browser.evaluate("document.scripts.length") == 0
        assert shot.stat().st_size > 10_000

        # The evidence link opens the photo the inspector uploaded.
        assert gw.client.get(f"/v1/evidence/{cid}").content == photo

        # An unknown unit: a 404 page that says so.
        assert browser.open(f"{url}/01/{GTIN}/21/NOT-A-UNIT", width=PHONE_WIDTH) == 404
        assert "Unknown product unit" in browser.evaluate("document.querySelector('h1').innerText")
        assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        browser.screenshot(REPORTS / "consumer-page-404.png")
