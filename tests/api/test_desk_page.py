"""The staff's desk page (/desk/cases), server-rendered: the sign-in page runs one vendored script
under a per-response nonce; the case pages run none; staff see their organisation's cases with the
SLA (due time, overdue), act through same-origin forms, and every action lands in the case log."""

from __future__ import annotations

import re

from tests.api.people import Assessment, as_, sign_in, staff  # noqa: F401  (fixture)


def _case(gateway, order_id: int, **assessment):
    gateway.services.indexer.index_once()
    return gateway.services.cases.open_case(
        Assessment(**assessment), order_id=order_id, unit=None, buyer=None, why=("low_confidence",), text=None
    )


def test_anonymous_visitors_get_the_sign_in_page_with_a_nonce_policy_and_the_vendored_script(gateway):
    r = gateway.client.get("/desk/cases")
    assert r.status_code == 200 and "Sign in with your wallet" in r.text
    csp = r.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([A-Za-z0-9_-]+)'", csp).group(1)
    assert f'<script nonce="{nonce}" src="/desk/desk-signin.js"></script>' in r.text
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0] and "form-action 'self'" in csp
    assert gateway.client.get("/desk/cases").headers["content-security-policy"] != csp  # a nonce per response
    script = gateway.client.get("/desk/desk-signin.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "/v1/auth/siwe" in script.text and "personal_sign" in script.text


def test_staff_see_their_cases_with_the_sla_and_act_through_forms(gateway, shop, staff):  # noqa: F811
    client, desk = gateway.client, gateway.services.cases
    case = _case(gateway, shop.buy())
    late = _case(gateway, shop.buy())
    desk.store._db.execute("UPDATE cases SET due_at = ? WHERE id = ?", (late.opened_at - 60, late.id))
    token = sign_in(client, staff["staff"])
    page = client.get("/desk/cases", headers=as_(token))
    assert page.status_code == 200 and "<script" not in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    items = re.findall(r"<li>.*?</li>", page.text, re.S)
    assert len(items) == 2
    assert [("OVERDUE" in i, f"/desk/cases/{c.id}" in i) for i, c in zip(items, (late, case), strict=True)] == [
        (True, True),
        (False, True),
    ]
    r = client.post(f"/desk/cases/{case.id}/notes", data={"text": "phoned"}, headers=as_(token), follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/desk/cases/{case.id}")
    client.post(f"/desk/cases/{case.id}/offer", data={"kind": "exchange"}, headers=as_(token))
    client.post(f"/desk/cases/{case.id}/close", data={"outcome": "exchanged"}, headers=as_(token))
    detail = client.get(f"/desk/cases/{case.id}", headers=as_(token))
    assert f"Case {case.id}: closed" in detail.text and f'action="/desk/cases/{case.id}/' not in detail.text
    assert [e.action for e in desk.store.log(case.id)] == ["opened", "note", "offered", "closed"]


def test_the_desk_is_for_staff_of_the_cases_organisation(gateway, shop, staff, actors):  # noqa: F811
    client = gateway.client
    case = _case(gateway, shop.buy())
    stranger = sign_in(client, actors["stranger"])
    r = client.get("/desk/cases", headers=as_(stranger))
    assert (r.status_code, r.json()["error"]) == (403, "not_staff")
    r = client.get(f"/desk/cases/{case.id}", headers=as_(sign_in(client, actors["buyer"])))
    assert (r.status_code, r.json()["error"]) == (403, "not_staff")  # the case's own buyer: their flow, not the desk
    rival = sign_in(client, staff["rival"])
    assert client.get(f"/desk/cases/{case.id}", headers=as_(rival)).status_code == 403
    r = client.post(f"/desk/cases/{case.id}/notes", data={"text": "mine"}, headers=as_(rival))
    assert (r.status_code, r.json()["error"]) == (403, "not_a_party")
    assert [e.action for e in gateway.services.cases.store.log(case.id)] == ["opened"]


def test_a_page_of_another_origin_of_the_same_site_cannot_act_with_the_cookie(gateway, shop, staff, actors):  # noqa: F811
    """SameSite=Strict keeps other sites' requests from carrying the cookie, not another origin of the
    same site: another port of the gateway's host (a local IPFS gateway at 127.0.0.1:8080 serves any page
    anyone put on IPFS) or a sibling subdomain. Its auto-submitted form carries the staff member's cookie;
    the browser says where it came from (Sec-Fetch-Site), and the gateway does not act on it."""
    client, desk = gateway.client, gateway.services.cases
    case = _case(gateway, shop.buy())
    client.cookies.set("rt_session", sign_in(client, staff["staff"]))  # the staff member's browser
    elsewhere = {"origin": "http://127.0.0.1:8080", "sec-fetch-site": "same-site"}
    for action, form in (
        ("notes", {"text": "refund sent"}),
        ("offer", {"kind": "refund"}),
        ("close", {"outcome": "x"}),
    ):
        r = client.post(f"/desk/cases/{case.id}/{action}", data=form, headers=elsewhere, follow_redirects=False)
        assert r.status_code == 403 and r.json()["error"] == "cross_origin", (action, r.status_code, r.text)
    r = client.post(f"/desk/cases/{case.id}/escalate", headers={**elsewhere, "sec-fetch-site": "cross-site"})
    assert r.status_code == 403 and r.json()["error"] == "cross_origin", r.text
    assert [e.action for e in desk.store.log(case.id)] == ["opened"]
    # The buyer's words are theirs to erase, not a same-site page's.
    buyer = sign_in(client, actors["buyer"])
    mine = client.post("/v1/cases", json={"orderId": shop.buy(), "text": "my baby got a rash"}, headers=as_(buyer))
    client.cookies.set("rt_session", buyer)
    r = client.post("/v1/cases/erase", headers=elsewhere)
    assert r.status_code == 403 and r.json()["error"] == "cross_origin", r.text
    assert [t["text"] for t in desk.store.texts(mine.json()["id"])] == ["my baby got a rash"]
    # The desk's own forms (same-origin) and reads still go by the cookie; a bearer token from anywhere is an
    # API client's, which no page can send for someone else.
    client.cookies.set("rt_session", sign_in(client, staff["staff"]))
    r = client.post(
        f"/desk/cases/{case.id}/notes",
        data={"text": "phoned"},
        headers={"sec-fetch-site": "same-origin"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get(f"/desk/cases/{case.id}", headers=elsewhere).status_code == 200
    client.cookies.clear()
    r = client.post(
        f"/v1/cases/{case.id}/notes",
        json={"text": "api"},
        headers={**elsewhere, **as_(sign_in(client, staff["staff"]))},
    )
    assert r.status_code == 200
    assert [e.action for e in desk.store.log(case.id)] == ["opened", "note", "note"]
