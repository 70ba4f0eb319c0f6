"""Signing out from the gateway's pages (a shared inspection tablet, a warehouse desk PC): each page that
uses a session shows, signed in, who it is (the account shortened, the role the page acts on) beside a
"Sign out" button, a plain form posting to POST /v1/auth/sign-out (pages/signed_in.py). The gateway ends
the session — the token no longer reads anything private — deletes the cookie and sends the browser back
to the page, which then shows itself signed out. A page of another origin of the same site cannot sign a
browser out (403 cross_origin, the session lives on). The browser's cookie path is the one tested here: a
TestClient keeps the cookie the way a browser does, and follows the 303 back to the page.
(In Chromium: tests/api/test_sign_out_browser.py.)"""

from __future__ import annotations

import html
import re

import pytest

from api.http.pages.consumer_page import short_address as short
from tests.api.people import as_, signed, staff  # noqa: F401  (fixture)
from tests.api.test_assistant_api import sold
from tests.api.test_desk_page import _case
from tests.api.test_page_privacy import settled  # noqa: F401  (fixture)
from tests.support import GTIN, MARKET_EU
from tests.views import CHROME

FORM = re.compile(
    r'<form class="signed-in" id="signed-in" method="post" action="/v1/auth/sign-out"( hidden)?>(.*?)</form>', re.S
)


@pytest.fixture
def gateway_settings(gateway_settings, staff):  # noqa: F811
    return gateway_settings.replace(auditors=(staff["auditor"].address,))


def browser_signs_in(client, signer) -> str:
    """The browser's sign-in, as the pages' scripts make it: the gateway's message signed, posted, and the
    session kept as the cookie the answer sets (the test client's jar, as a browser's). Its token, for the
    checks made with it as a bearer."""
    client.cookies.clear()
    text = client.get("/v1/auth/nonce", params={"address": signer.address}).json()["message"]
    answer = client.post("/v1/auth/siwe", json={"message": text, "signature": signed(text, signer.key)})
    assert answer.status_code == 200, answer.text
    assert client.cookies.get("rt_session") == answer.json()["token"]
    return answer.json()["token"]


def bar(page: str) -> dict:
    """The page's signed-in bar: shown or hidden, its account, role and the form's `next`."""
    found = FORM.search(page)
    assert found, page[:3000]
    inner = found.group(2)
    account = re.search(r'<code id="signed-in-account" title="([^"]*)">([^<]*)</code>', inner)
    role = re.search(r'<span id="signed-in-role" data-role="([^"]*)">([^<]*)</span>', inner)
    assert re.search(r'<button type="submit" id="sign-out">[^<]+</button>', inner), inner  # a real button
    return {
        "hidden": bool(found.group(1)),
        "title": account.group(1),
        "shown": html.unescape(account.group(2)),
        "role_key": role.group(1),
        "role": html.unescape(role.group(2)),
        "next": html.unescape(re.search(r'<input type="hidden" name="next" value="([^"]*)">', inner).group(1)),
        "button": html.unescape(re.search(r'id="sign-out">([^<]+)</button>', inner).group(1)),
    }


def signs_out_through_the_form(client, page: str, token: str, private: str) -> str:
    """Posts the page's sign-out form as the browser does: 303 back to the page, the cookie deleted, the session
    ended on the gateway (`private` and the session answer 401 to its token); the page as then shown."""
    before = client.get(private, headers=as_(token))
    assert before.status_code not in (401, 403), before.text  # the session reads it before (a 404: nothing yet)
    form = bar(page)
    r = client.post("/v1/auth/sign-out", data={"next": form["next"]}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, form["next"]), r.text
    assert 'rt_session=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    assert r.headers["cache-control"] == "no-store"
    assert "rt_session" not in client.cookies
    for path in (private, "/v1/auth/session"):
        gone = client.get(path, headers=as_(token))
        assert (gone.status_code, gone.json()["error"]) == (401, "not_signed_in"), (path, gone.text)
    after = client.get(r.headers["location"], headers={"accept": "text/html"})
    assert after.status_code == 200, after.text
    return after.text


def test_the_desk_shows_who_is_signed_in_and_signs_out_on_the_gateway(gateway, shop, staff):  # noqa: F811
    client = gateway.client
    case = _case(gateway, shop.buy())
    member = staff["staff"]
    token = browser_signs_in(client, member)
    for path in ("/desk/cases", f"/desk/cases/{case.id}"):
        page = client.get(path)
        assert page.status_code == 200, page.text
        shown = bar(page.text)
        assert shown["hidden"] is False and shown["next"] == path and shown["button"] == "Sign out"
        assert (shown["title"], shown["shown"]) == (member.address, short(member.address))
        assert shown["shown"] == f"{member.address[:6]}…{member.address[-4:]}"
        assert shown["role"] == "staff of the merchant's organisation"
        # Still no script on the case pages: the sign-out is a form to this origin.
        csp = page.headers["content-security-policy"]
        assert "<script" not in page.text and "script-src 'none'" in csp and "form-action 'self'" in csp
    after = signs_out_through_the_form(client, page.text, token, f"/v1/cases/{case.id}")
    assert "Sign in with your wallet" in after and 'id="signed-in"' not in after
    assert "Sign in with your wallet" in client.get("/desk/cases").text


def test_an_account_the_desk_is_not_for_is_shown_the_way_out_in_a_browser(gateway, shop, actors):
    """A buyer signed in on the desk's shared PC (or any account the desk refuses): the browser gets the sign-in
    page at 403, saying why, with the bar to sign out, so staff can sign in again on that PC; a program still
    gets the refusal as JSON."""
    client = gateway.client
    case = _case(gateway, shop.buy())
    token = browser_signs_in(client, actors["buyer"])  # the case's own buyer
    for path, code in (
        ("/desk/cases", "not_staff"),
        (f"/desk/cases/{case.id}", "not_staff"),
        ("/desk/analytics", "not_a_brand"),
    ):
        page = client.get(path, headers={"accept": CHROME})
        assert page.status_code == 403, page.text
        assert 'id="refused"' in page.text and 'id="signin"' in page.text
        shown = bar(page.text)
        assert (shown["hidden"], shown["title"], shown["next"]) == (False, actors["buyer"].address, path)
        r = client.get(path)  # Accept: */*, as programs send
        assert (r.status_code, r.json()["error"]) == (403, code)
    after = signs_out_through_the_form(client, page.text, token, "/v1/auth/session")
    assert 'id="refused"' not in after and 'id="signin"' in after and 'id="signed-in"' not in after


def test_an_auditor_on_a_case_page_is_shown_as_auditor(gateway, shop, staff):  # noqa: F811
    case = _case(gateway, shop.buy())
    browser_signs_in(gateway.client, staff["auditor"])
    assert bar(gateway.client.get(f"/desk/cases/{case.id}").text)["role"] == "auditor"


def test_the_analytics_dashboard_signs_a_brand_out(gateway, actors):
    client, brand = gateway.client, actors["brand"]
    gateway.services.indexer.index_once()  # the brand's registered GTINs
    token = browser_signs_in(client, brand)
    page = client.get("/desk/analytics?lang=de")
    assert page.status_code == 200, page.text
    shown = bar(page.text)
    assert (shown["role"], shown["button"], shown["next"]) == ("Marke", "Abmelden", "/desk/analytics?lang=de")
    assert shown["title"] == brand.address and "<script" not in page.text
    after = signs_out_through_the_form(client, page.text, token, "/v1/analytics")
    assert 'id="signin"' in after and 'id="signed-in"' not in after


def test_the_station_shows_the_signed_in_inspector_and_signs_out(gateway, actors):
    client = gateway.client
    anonymous = client.get("/station")
    assert bar(anonymous.text)["hidden"] is True  # the slot the script fills once the wallet signs in
    csp = anonymous.headers["content-security-policy"]
    assert re.search(r"script-src 'nonce-[A-Za-z0-9_-]+';", csp) and "form-action 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    # The script's words for the bar's roles come with the page, in its language.
    assert "role.inspector" in anonymous.text and "not an accredited inspector" in anonymous.text

    stranger = browser_signs_in(client, actors["stranger"])
    assert bar(client.get("/station").text)["role_key"] == "not_inspector"
    client.cookies.clear()
    assert client.get("/v1/auth/session", headers=as_(stranger)).status_code == 200

    inspector = actors["inspector"]
    token = browser_signs_in(client, inspector)
    page = client.get("/station?lang=fr")
    shown = bar(page.text)
    assert shown["hidden"] is False and shown["shown"] == short(inspector.address)
    assert (shown["role"], shown["button"]) == ("inspecteur", "Se déconnecter")
    after = signs_out_through_the_form(client, page.text, token, "/v1/auth/session")
    assert bar(after)["hidden"] is True and bar(after)["title"] == ""


def test_the_return_flow_says_how_the_account_stands_to_the_order_and_signs_out(gateway, shop, actors):
    client = gateway.client
    order_id, unit = sold(shop, MARKET_EU)
    path = f"/return/{GTIN}/{unit['serial']}"
    assert bar(client.get(path).text)["hidden"] is True
    browser_signs_in(client, actors["stranger"])
    assert bar(client.get(path).text)["role"] == "not a party to this order"
    client.cookies.clear()
    token = browser_signs_in(client, actors["buyer"])
    page = client.get(path)
    shown = bar(page.text)
    assert (shown["hidden"], shown["role"], shown["next"]) == (False, "the order's buyer", path)
    assert "form-action 'self'" in page.headers["content-security-policy"]
    after = signs_out_through_the_form(client, page.text, token, f"/v1/documents/SatisfactionRating?orderId={order_id}")
    assert bar(after)["hidden"] is True


def test_the_unit_page_shows_the_party_and_signs_out_to_the_public_page(gateway, settled, actors, staff):  # noqa: F811
    client = gateway.client
    path, figures = settled
    public = client.get(path)
    assert 'id="signed-in"' not in public.text  # no session: the one public page, no form
    assert "form-action 'none'" in public.headers["content-security-policy"]
    browser_signs_in(client, staff["auditor"])
    assert bar(client.get(path).text)["role"] == "auditor"
    client.cookies.clear()
    token = browser_signs_in(client, actors["buyer"])
    page = client.get(path, headers={"accept": "text/html"})
    assert all(f in page.text for f in figures[:2])  # what was paid and refunded: the parties' to read
    shown = bar(page.text)
    assert (shown["role"], shown["next"]) == ("the order's buyer", path)
    csp = page.headers["content-security-policy"]
    assert "form-action 'self'" in csp and "script-src" not in csp and "<script" not in page.text
    assert page.headers["cache-control"] == "private, no-store"
    order_id = client.get(path, headers={"accept": "application/json"}).json()["return_status"]["order_id"]
    after = signs_out_through_the_form(client, page.text, token, f"/v1/documents/SatisfactionRating?orderId={order_id}")
    assert not any(f in after for f in figures[:2]) and "Sign in to see them" in after and 'id="signed-in"' not in after


def test_a_partys_unit_page_reads_the_session_once(gateway, settled, actors, monkeypatch):  # noqa: F811
    """The unit page asks twice who is signed in (is the viewer the order's party; the bar): one store read."""
    client = gateway.client
    path, figures = settled
    browser_signs_in(client, actors["buyer"])
    sessions, reads = gateway.services.sessions, []
    read = sessions.get
    monkeypatch.setattr(sessions, "get", lambda token: reads.append(token) or read(token))
    page = client.get(path, headers={"accept": "text/html"})
    assert all(f in page.text for f in figures[:2]) and bar(page.text)["role"] == "the order's buyer"
    assert reads == [client.cookies.get("rt_session")]


def test_without_sec_fetch_site_the_origin_decides(gateway, actors, shop, staff):  # noqa: F811
    """Browsers send Sec-Fetch-Site only to https and localhost origins: a gateway on plain http in a
    warehouse's network gets none, and a page on another port of its host could post the desk's forms with the
    cookie. There the Origin a browser puts on every POST decides; the pages send their own (Referrer-Policy
    same-origin: under no-referrer a browser writes "null", which is refused). Signing in is held to it too."""
    client = gateway.client
    case = _case(gateway, shop.buy())
    page = client.get("/desk/cases")
    assert page.headers["referrer-policy"] == "same-origin"
    browser_signs_in(client, staff["staff"])
    note = f"/desk/cases/{case.id}/notes"
    for origin in ("http://testserver:8080", "null", "http://elsewhere.example"):
        r = client.post(note, data={"text": "forged"}, headers={"origin": origin}, follow_redirects=False)
        assert (r.status_code, r.json()["error"]) == (403, "cross_origin"), (origin, r.text)
        text = client.get("/v1/auth/nonce", params={"address": actors["buyer"].address}).json()["message"]
        signature = signed(text, actors["buyer"].key)
        r = client.post("/v1/auth/siwe", json={"message": text, "signature": signature}, headers={"origin": origin})
        assert (r.status_code, r.json()["error"]) == (403, "cross_origin"), (origin, r.text)
    for own in ({"origin": "http://testserver"}, {}):  # the gateway's own page; a program, no Origin
        r = client.post(note, data={"text": "mine"}, headers=own, follow_redirects=False)
        assert r.status_code == 303, r.text
    log = [e.detail.get("text") for e in gateway.services.cases.store.log(case.id) if e.action == "note"]
    assert log == ["mine", "mine"]


def test_a_unit_without_an_order_names_no_role_in_the_bar(gateway, actors):
    """A unit never sold (or one whose order the gateway cannot check): the bar names the account and no role,
    not "not a party to this order" of an order that does not exist."""
    client = gateway.client
    gateway.commission("BAR-1")
    gateway.relay()
    gateway.services.indexer.index_once()
    browser_signs_in(client, actors["buyer"])
    for path in (f"/01/{GTIN}/21/BAR-1", f"/return/{GTIN}/BAR-1"):
        page = client.get(path, headers={"accept": "text/html"})
        assert page.status_code == 200, page.text
        shown = bar(page.text)
        assert (shown["title"], shown["role_key"], shown["role"]) == (actors["buyer"].address, "", ""), path


def test_a_page_of_another_origin_cannot_sign_the_browser_out(gateway, actors):
    """Another port of the host or a sibling subdomain (the same site: the SameSite=Strict cookie goes with its
    form) auto-submits the sign-out: refused, the session lives on. Nor does the form send the browser
    elsewhere: a `next` that is not a path of this gateway ends the session but redirects nowhere."""
    client = gateway.client
    token = browser_signs_in(client, actors["buyer"])
    for site in ("same-site", "cross-site"):
        r = client.post(
            "/v1/auth/sign-out",
            data={"next": "/station"},
            headers={"origin": "http://127.0.0.1:8080", "sec-fetch-site": site},
            follow_redirects=False,
        )
        assert (r.status_code, r.json()["error"]) == (403, "cross_origin"), r.text
        assert "set-cookie" not in r.headers
    assert client.get("/v1/auth/session").status_code == 200  # the cookie still signs the browser in
    assert client.get("/v1/auth/session", headers=as_(token)).status_code == 200
    # The gateway's own page (same-origin, or a browser that sends no Sec-Fetch-Site) may.
    r = client.post(
        "/v1/auth/sign-out",
        data={"next": "//evil.example/"},
        headers={"sec-fetch-site": "same-origin"},
        follow_redirects=False,
    )
    assert (r.status_code, r.json()) == (200, {"signedOut": True})  # signed out, sent nowhere
    assert client.get("/v1/auth/session", headers=as_(token)).status_code == 401
    for elsewhere in ("https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""):
        token = browser_signs_in(client, actors["buyer"])
        r = client.post("/v1/auth/sign-out", data={"next": elsewhere}, follow_redirects=False)
        assert r.status_code == 200 and "location" not in r.headers, (elsewhere, r.headers)
