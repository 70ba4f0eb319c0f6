"""The desk's sign-in in headless Chromium: the page's one script (static/desk-signin.js, allowed by
its nonce) asks an injected EIP-1193 wallet for the account and a personal_sign of the message the
gateway writes; the wallet here is the test, reached through a DevTools binding, signing with the
staff member's key. The gateway checks the signature and sets its cookie; the reloaded page lists
the organisation's cases. Needs Chromium (tests/api/browser.py says how to install it)."""

from __future__ import annotations

import http.server
import json
import threading
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
        assert f"Signed in as {member.address[:6]}…{member.address[-4:]}" in text, text
        assert f"Case {asked.json()['id']}" in text and "asked_for_person" in text
        assert browser.evaluate("document.cookie") == ""  # HttpOnly: the page's scripts cannot read the session


EVIL = """<!doctype html><form method="post" action="%(action)s"><input name="text" value="refund sent"></form>
<script>document.forms[0].submit()</script>"""


def test_a_page_on_another_port_of_the_host_cannot_post_the_desks_forms(live_gateway, shop, staff, actors):  # noqa: F811
    """In a real browser: the desk's own form posts a note with the SameSite=Strict cookie; a page served on
    another port of the same host (the same site: a local IPFS gateway serves anyone's page) auto-submits the
    same form, Chromium sends the cookie with it, and the gateway refuses it (403 cross_origin)."""
    gateway, url = live_gateway
    member = staff["staff"]
    buyer = sign_in(gateway.client, actors["buyer"])
    case = gateway.client.post("/v1/cases", json={"orderId": shop.buy(), "text": "call me"}, headers=as_(buyer)).json()
    token = sign_in(gateway.client, member)

    def log() -> list[str]:
        return [e["action"] for e in gateway.client.get(f"/v1/cases/{case['id']}", headers=as_(token)).json()["log"]]

    page = f"{url}/desk/cases/{case['id']}"
    action = f"{page}/notes"

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = (EVIL % {"action": action}).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    evil = http.server.HTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with Chromium() as browser:
            host = url.split("://", 1)[1].split(":")[0]
            browser.send(
                "Network.setCookie",
                name="rt_session",
                value=token,
                domain=host,
                path="/",
                httpOnly=True,
                sameSite="Strict",
            )
            assert browser.open(page) == 200
            before = log()
            browser.evaluate("document.querySelector('textarea[name=text]').value = 'phoned'")
            browser.evaluate("document.querySelector('textarea[name=text]').form.submit()")
            _wait(browser, "Page.loadEventFired")
            assert log() == [*before, "note"]  # the desk's own form: same origin
            browser.open(f"http://127.0.0.1:{evil.server_address[1]}/")
            deadline = time.monotonic() + 15
            while "cross_origin" not in (text := browser.evaluate("document.body ? document.body.innerText : ''")):
                assert time.monotonic() < deadline, text
                time.sleep(0.1)
            assert log() == [*before, "note"]
    finally:
        evil.shutdown()
