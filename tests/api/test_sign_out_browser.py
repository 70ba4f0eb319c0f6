"""Signing out in headless Chromium, on a phone-wide screen: the desk (sign-in by the test's injected wallet,
as tests/api/test_desk_signin_browser.py does it) and the inspection station (the return flow's test wallet,
anvil signing). Signed in, the page names the account and its role beside a "Sign out" button reached from
the keyboard; pressing it posts the page's form (no script: the desk's case pages run none), the gateway ends
the session and the browser comes back to the page signed out. The session's token (read from the browser's
HttpOnly cookie over DevTools) then reads nothing. Needs Chromium (tests/api/browser.py says how to install it)."""

from __future__ import annotations

import json

from tests.api.browser import Chromium, find_chromium
from tests.api.people import as_, sign_in, signed, staff  # noqa: F401  (fixture)
from tests.api.test_consumer_page_browser import live_gateway  # noqa: F401  (fixture)
from tests.api.test_desk_signin_browser import WALLET, _wait
from tests.api.test_return_flow_browser import PROVIDER, Wallet, _until, flow_gateway  # noqa: F401  (fixture)
from tests.api.test_station_browser import returned_for_station
from tests.support import GTIN


def _session_cookie(browser: Chromium, url: str) -> str | None:
    cookies = browser.send("Network.getCookies", urls=[url])["cookies"]
    return next((c["value"] for c in cookies if c["name"] == "rt_session"), None)


def _press_sign_out_from_the_keyboard(browser: Chromium) -> None:
    """Tabs to the "Sign out" button (the first control after the page's skip of links) and presses Enter."""
    for _ in range(40):
        browser.send("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
        browser.send("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
        if browser.evaluate("document.activeElement && document.activeElement.id") == "sign-out":
            break
    assert browser.evaluate("document.activeElement.id") == "sign-out", "the button is not reachable by Tab"
    browser.send(
        "Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13, text="\r"
    )
    browser.send("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter", windowsVirtualKeyCode=13)


def _fits_the_screen(browser: Chromium) -> None:
    """Nothing wider than the phone's screen; the bar's button wholly on it."""
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    right = browser.evaluate("document.getElementById('sign-out').getBoundingClientRect().right")
    assert right <= browser.evaluate("window.innerWidth")


def test_staff_sign_out_of_the_desk_from_the_keyboard(live_gateway, shop, staff, actors):  # noqa: F811
    find_chromium()
    gateway, url = live_gateway
    member = staff["staff"]
    buyer = sign_in(gateway.client, actors["buyer"])
    asked = gateway.client.post("/v1/cases", json={"orderId": shop.buy(), "text": "please call me"}, headers=as_(buyer))
    assert asked.status_code == 201, asked.text
    case = asked.json()["id"]
    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtSign")
        browser.send(
            "Page.addScriptToEvaluateOnNewDocument", source=WALLET % {"account": json.dumps(member.address.lower())}
        )
        assert browser.open(f"{url}/desk/cases/{case}") == 200  # a case page: no script once signed in
        browser.evaluate("document.getElementById('signin').click()")
        message = _wait(browser, "Runtime.bindingCalled")["params"]["payload"]
        browser.evaluate(f"window.__signed({json.dumps(signed(message, member.key))})")
        _wait(browser, "Page.loadEventFired")
        text = browser.evaluate("document.body.innerText")
        short = f"{member.address[:6]}…{member.address[-4:]}"
        assert f"Signed in as {short} · staff of the merchant's organisation" in text, text
        assert f"Case {case}" in text and browser.evaluate("document.scripts.length") == 0
        _fits_the_screen(browser)
        token = _session_cookie(browser, url)
        assert token and gateway.client.get(f"/v1/cases/{case}", headers=as_(token)).status_code == 200

        _press_sign_out_from_the_keyboard(browser)
        _wait(browser, "Page.loadEventFired")
        assert browser.evaluate("location.pathname") == f"/desk/cases/{case}"
        text = browser.evaluate("document.body.innerText")
        assert "Sign in with your wallet" in text and "Signed in as" not in text and "please call me" not in text
        assert _session_cookie(browser, url) is None
    for path in (f"/v1/cases/{case}", "/v1/auth/session"):
        r = gateway.client.get(path, headers=as_(token))
        assert (r.status_code, r.json()["error"]) == (401, "not_signed_in"), path


def test_an_inspector_signs_in_on_the_station_sees_the_bar_and_signs_out(
    flow_gateway,  # noqa: F811
    shop,
    registry,
    admin,
    actors,
):
    find_chromium()
    http, base, _ = flow_gateway
    _, inspector = returned_for_station(http, shop, registry, admin, actors, "SIGN-OUT-1")
    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtWallet")
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=PROVIDER)
        assert browser.open(f"{base}/station") == 200
        _until(browser, "document.getElementById('station').dataset.ready === '1'", "the station's script")
        assert browser.evaluate("document.getElementById('signed-in').hidden") is True  # nobody yet
        wallet = Wallet(browser, inspector.address)
        browser.evaluate("document.getElementById('connect').click()")
        wallet.answer("eth_requestAccounts")
        wallet.answer("personal_sign")
        _until(browser, "document.getElementById('signed-in').hidden === false", "the signed-in bar")
        short = f"{inspector.address[:6]}…{inspector.address[-4:]}"
        bar = browser.evaluate("document.getElementById('signed-in').innerText")
        assert f"Signed in as {short} · inspector" in bar, bar
        assert browser.evaluate("document.getElementById('signed-in-account').title") == inspector.address
        _fits_the_screen(browser)
        token = _session_cookie(browser, base)
        preview = f"/v1/inspection-preview?gtin={GTIN}&serial=SIGN-OUT-1&facts=3"
        assert http.get(preview, headers=as_(token)).status_code == 200

        browser.evaluate("window.__before = true; document.getElementById('sign-out').click()")
        _until(
            browser,
            "!window.__before && !!document.getElementById('station') && "
            "document.getElementById('station').dataset.ready === '1'",
            "the station again, signed out",
        )
        assert browser.evaluate("location.pathname") == "/station"
        assert browser.evaluate("document.getElementById('signed-in').hidden") is True
        assert browser.evaluate("document.getElementById('find').disabled") is True
        assert _session_cookie(browser, base) is None
    r = http.get(preview, headers=as_(token))
    assert (r.status_code, r.json()["error"]) == (401, "not_signed_in")
