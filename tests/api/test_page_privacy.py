"""Who reads an order's amounts and return reason on the consumer page (issue 11 §3): its buyer, its
merchant's side (the merchant or MERCHANT_STAFF of its organisation) and a listed auditor, signed in;
a second-hand owner scanning the code, or any other account, reads the lifecycle and that the market's
rules settled the refund. The JSON view stays the public on-chain data for everyone."""

from __future__ import annotations

import pytest

from api.http.pages.consumer_page import NATIVE, format_amount
from returntrace.escrow import Facts, Grade, ReturnReason
from tests.api.people import as_, sign_in, staff  # noqa: F401  (fixture)
from tests.api.test_return_options import _serial_of
from tests.support import GTIN

SETTLED = "The refund was settled by the market&#39;s return rules."
REASON = "Not as described"


@pytest.fixture
def gateway_settings(gateway_settings, staff):
    return gateway_settings.replace(auditors=(staff["auditor"].address,))


@pytest.fixture
def settled(gateway, shop, escrow, actors):
    """(path, the figures only the parties may read) of an order returned as not described, inspected B, refunded."""
    order_id = shop.returned(reason=ReturnReason.NOT_AS_DESCRIBED.value)
    shop.inspect(order_id, Facts.PACKAGING_INTACT, Grade.B)
    escrow.acceptInspection(order_id, {"from": actors["buyer"].account})  # the buyer accepts grade B: settled
    gateway.services.indexer.index_once()
    path = f"/01/{GTIN}/21/{_serial_of(gateway, shop.unit(order_id))}"
    rs = gateway.client.get(path, headers={"accept": "application/json"}).json()["return_status"]
    assert rs["status"] == "settled" and rs["reason"] == "not_as_described"  # the JSON view keeps them public
    paid = int(rs["price"]) + int(rs["delivery_fee"])
    figures = [format_amount(paid, NATIVE), format_amount(rs["settlement"]["refund"], NATIVE)]
    figures.append(format_amount(rs["settlement"]["merchant_amount"], NATIVE))
    return path, figures


def _page(gateway, path, signer=None):
    headers = {"accept": "text/html"}
    if signer is not None:
        headers |= as_(sign_in(gateway.client, signer))
    return gateway.client.get(path, headers=headers)


def test_anyone_else_reads_the_lifecycle_but_no_amount_and_no_reason(gateway, settled, actors, staff):
    path, figures = settled
    for who in (None, actors["stranger"], actors["buyer2"], staff["rival"]):  # anonymous, other accounts, rival staff
        r = _page(gateway, path, who)
        assert r.status_code == 200, r.text
        page = r.text
        for figure in figures:
            assert figure not in page, (who, figure)
        assert REASON not in page and "Reason" not in page, who
        assert "Inspected" in page and "Grade B" in page and SETTLED in page, who
        note = page.split('id="private-note"', 1)[1].split("</p>", 1)[0]  # says why, links the sign-in
        assert "buyer and seller" in note and 'href="/return/' in note
        assert "<script" not in page
        # The public page, cacheable; signed in, it names the viewer beside its sign-out: theirs alone.
        assert r.headers["cache-control"] == ("no-cache" if who is None else "private, no-store"), who


def test_the_buyer_the_merchants_staff_and_an_auditor_read_the_amounts(gateway, settled, actors, staff):
    path, figures = settled
    for who in (actors["buyer"], actors["brand"], staff["staff"], staff["auditor"]):
        r = _page(gateway, path, who)
        assert r.status_code == 200, r.text
        for figure in figures[:2]:
            assert figure in r.text, (who.address, figure)
        assert REASON in r.text and 'id="private-note"' not in r.text and "<script" not in r.text
        assert r.headers["cache-control"] == "private, no-store"


def test_the_page_varies_on_cookie_only_when_a_session_cookie_is_sent(gateway, settled, actors):
    path, figures = settled
    anonymous = gateway.client.get(path, headers={"accept": "text/html"})
    assert anonymous.headers["vary"] == "Accept, Accept-Language" and anonymous.headers["cache-control"] == "no-cache"
    token = sign_in(gateway.client, actors["buyer"])
    gateway.client.cookies.set("rt_session", token)
    try:
        own = gateway.client.get(path, headers={"accept": "text/html"})
    finally:
        gateway.client.cookies.clear()
    assert own.headers["vary"] == "Accept, Cookie, Accept-Language"
    assert own.headers["cache-control"] == "private, no-store"
    assert figures[1] in own.text
