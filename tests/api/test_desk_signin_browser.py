"""The desk's sign-in in headless Chromium: the page's one script (static/desk-signin.js, allowed by
its nonce) asks an injected EIP-1193 wallet for the account and a personal_sign of the message the
gateway writes; the wallet here is the test, reached through a DevTools binding, signing with the
staff member's key. The gateway checks the signature and sets its cookie; the reloaded page lists
the organisation's cases. Needs Chromium (tests/api/browser.py says how to install it)."""

from __future__ import annotations

import json
import time

from tests.api.browser import Chromium
from tests.api.people import as_, sign_in, signed, staff  # noqa: F401  (fixture)
from tests.api.test_consumer_page_browser import live_gateway  # noqa: F401  (fixture)

WALLET = """
window.ethereum = {
  request: ({method, params}) => {
    if (method === "eth_requestAccounts") return Promise.resolve([%(account)s]);
    if (method === "personal_sign") return new Promise((resolve) => { window.__signed = resolve; rtSign(params[0]); });
    return Promise.reject(new Error("unsupported " + method));
  },
};
"""


def _wait(browser: Chromium, method: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        event = browser._next_event(deadline, method)
        if event["method"] == method:
            return event


def test_staff_sign_in_from_the_desk_page_with_a_wallet(live_gateway, shop, staff, actors):  # noqa: F811
    gateway, url = live_gateway
    member = staff["staff"]
    order_id = shop.buy()
    buyer = sign_in(gateway.client, actors["buyer"])
    asked = gateway.client.post("/v1/cases", json={"orderId": order_id, "text": "please call me"}, headers=as_(buyer))
    assert asked.status_code == 201, asked.text
    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtSign")
        browser.send(
            "Page.addScriptToEvaluateOnNewDocument", source=WALLET % {"account": json.dumps(member.address.lower())}
        )
        assert browser.open(f"{url}/desk/cases") == 200
        assert "Sign in with your wallet" in browser.evaluate("document.body.innerText")
        browser.evaluate("document.getElementById('signin').click()")
        message = _wait(browser, "Runtime.bindingCalled")["params"]["payload"]
        assert (
            message.startswith(f"127.0.0.1:{url.rsplit(':', 1)[1]} wants you to sign in") and member.address in message
        )
        browser.evaluate(f"window.__signed({json.dumps(signed(message, member.key))})")
        _wait(browser, "Page.loadEventFired")
        text = browser.evaluate("document.body.innerText")
        assert f"Signed in as {member.address}" in text, text
        assert f"Case {asked.json()['id']}" in text and "asked_for_person" in text
        assert browser.evaluate("document.cookie") == ""  # HttpOnly: the page's scripts cannot read the session
