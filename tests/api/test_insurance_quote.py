"""Return protection on real indexed orders (docs/insurance.md): `GET /v1/insurance/quote` prices from
the index's history and the chain's policy, refuses bad input with its reason, and the product page
offers consumers the return-shipping cover in China but not in the EU (UCPD Annex I no. 10)."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from fractions import Fraction

import pytest
from brownie import ZERO_ADDRESS

from api.http.pages.consumer_page import NATIVE, format_amount
from returntrace import gs1, insurance, policies
from returntrace.escrow import Facts, Grade
from scripts import deploy
from tests.api.people import as_, sign_in
from tests.support import DEFAULT_PRICE, DEFAULT_RETURN_FEE, GTIN, MARKET_CN, MARKET_EU

QUOTE = "/v1/insurance/quote"
OFFER = "Return shipping cover (optional)"


@pytest.fixture
def history(gateway, shop, escrow, actors):
    """Three orders in China (one returned, graded B, settled) and one in the EU, indexed."""
    for _ in range(2):
        shop.buy(market=MARKET_CN)
    returned = shop.returned(market=MARKET_CN)
    shop.inspect(returned, Facts.PACKAGING_INTACT, Grade.B)
    escrow.acceptInspection(returned, {"from": actors["buyer"].account})
    shop.buy(market=MARKET_EU)
    gateway.services.indexer.index_once()
    return gateway


def test_quote_prices_from_the_indexed_orders_and_refuses_bad_input(history, deployment, actors):
    client = history.client
    r = client.get(QUOTE, params={"gtin": GTIN, "market": "CN", "price": str(DEFAULT_PRICE)})
    assert r.status_code == 200, r.text
    body = r.json()
    gtin_h = body["history"]["gtin"]
    assert (gtin_h["orders"], gtin_h["returns"], gtin_h["graded"]) == (3, 1, {"A": 0, "B": 1, "C": 0})
    assert body["history"]["returnShippingFrom"] == "gtin"
    assert body["index"]["block"] == history.services.index.cursor().block and body["chain"]["block"] > 0
    assert body["offeredTo"] == ["merchant", "consumer"] and body["consumerCovers"] == ["return_shipping"]
    merchant, consumer = body["quotes"]
    assert (merchant["for"], consumer["for"]) == ("merchant", "consumer")
    # the same history priced by the library gives the same premium: the endpoint adds nothing of its own
    graded = gtin_h["graded"]
    h = insurance.History(3, 1, (graded["A"], graded["B"], graded["C"]), gtin_h["statutory"])
    expected = insurance.merchant_quote(
        DEFAULT_PRICE,
        insurance.Risk(
            Fraction(DEFAULT_RETURN_FEE),
            policies.CN,
            h,
            h,  # the product is the only one of its class with orders in China
            insurance.PRIORS["CN"],
            insurance.Parameters(floor=10**16),
        ),
    )
    assert merchant["premium"] == str(expected.premium) and merchant["breakdown"] == expected.breakdown
    assert int(consumer["premium"]) > 0 and consumer["breakdown"]["returnShipping"] == str(DEFAULT_RETURN_FEE)
    dearer = client.get(QUOTE, params={"gtin": GTIN, "market": "2", "price": str(2 * DEFAULT_PRICE)}).json()
    assert int(dearer["quotes"][0]["premium"]) > int(merchant["premium"])

    eu = client.get(QUOTE, params={"gtin": GTIN, "market": "EU", "price": str(DEFAULT_PRICE)}).json()
    assert eu["offeredTo"] == ["merchant"] and [q["for"] for q in eu["quotes"]] == ["merchant"]
    assert "Annex I no. 10" in eu["lawBasis"]

    only_eu = int(gs1.with_check_digit("0950600013459"))
    deploy.register_product(history.d, actors["brand"], only_eu, 0, 1 << MARKET_EU)
    refused = [
        ("not_sold_in_market", 400, {"gtin": str(only_eu), "market": "CN", "price": "100"}),
        ("not_sold_in_market", 400, {"gtin": GTIN, "market": "3", "price": "100"}),
        ("invalid_market", 400, {"gtin": GTIN, "market": "XX", "price": "100"}),
        ("unknown_product", 404, {"gtin": gs1.with_check_digit("0950600099990"), "market": "CN", "price": "1"}),
        ("invalid_gtin", 400, {"gtin": "09506000134353", "market": "CN", "price": "1"}),
        ("price_out_of_range", 400, {"gtin": GTIN, "market": "CN", "price": "0"}),
        ("price_out_of_range", 400, {"gtin": GTIN, "market": "CN", "price": str(2**96)}),
        ("invalid_price", 400, {"gtin": GTIN, "market": "CN", "price": "1.5"}),
        ("currency_not_allowed", 400, {"gtin": GTIN, "market": "CN", "price": "1", "currency": "0x" + "11" * 20}),
    ]
    for code, status, params in refused:
        r = client.get(QUOTE, params=params)
        assert (r.status_code, r.json()["error"]) == (status, code), (params, r.text)


def test_the_product_page_offers_the_cover_in_china_not_in_the_eu(history):
    cn = history.client.get(QUOTE, params={"gtin": GTIN, "market": "CN", "price": "1"}).json()
    premium = format_amount(cn["quotes"][1]["premium"], NATIVE)
    r = history.client.get(f"/01/{GTIN}", headers={"accept": "text/html"})
    assert r.status_code == 200, r.text
    sections = {
        code: r.text.split(f'id="market-{code}"', 1)[1].split("</section>", 1)[0] for code in ("EU", "US", "CN")
    }
    assert OFFER in sections["CN"] and premium in sections["CN"]
    assert OFFER not in sections["EU"]  # the EU: never to consumers
    assert OFFER not in sections["US"]  # allowed, but no US order is indexed: no return shipping to price
    zh = history.client.get(f"/01/{GTIN}?lang=zh", headers={"accept": "text/html"}).text
    assert "退货运费险" in zh.split('id="market-CN"', 1)[1].split("</section>", 1)[0]


def test_a_cover_that_would_pay_nothing_is_offered_to_nobody(history, deployment, admin):
    """Attack: a buyer in China, where consumers may buy the cover, under a new CN policy whose grade
    terms make the merchant pay return shipping on every grade. The escrow deducts no shipping from
    their refund, so the cover would pay nothing: neither the quote nor the product page may offer it
    (before, a floor premium was sold for it)."""
    terms = tuple(replace(t, merchant_pays_return_shipping=True) for t in policies.CN.terms)
    deployment.policies.setPolicy(MARKET_CN, replace(policies.CN, terms=terms).as_tuple(), {"from": admin})
    body = history.client.get(QUOTE, params={"gtin": GTIN, "market": "CN", "price": str(DEFAULT_PRICE)}).json()
    assert body["policyVersion"] == 2 and body["offeredTo"] == ["merchant", "consumer"]  # the law allows it
    assert [q["for"] for q in body["quotes"]] == ["merchant"]  # but nothing to pay: no consumer quote
    page = history.client.get(f"/01/{GTIN}", headers={"accept": "text/html"}).text
    assert OFFER not in page.split('id="market-CN"', 1)[1].split("</section>", 1)[0]


def test_the_brands_dashboard_shows_the_quotes_premium_at_the_median_price(history, shop, actors):
    """Four more China orders at twice the price: the median (nearest rank) of the seven is 2 × the price,
    and the dashboard's premium for it is the one GET /v1/insurance/quote gives at that price."""
    for _ in range(4):
        shop.buy(market=MARKET_CN, price=2 * DEFAULT_PRICE)
    history.services.indexer.index_once()
    median = 2 * DEFAULT_PRICE
    params = {"gtin": GTIN, "market": "CN", "price": str(median), "currency": ZERO_ADDRESS}
    quote = history.client.get(QUOTE, params=params).json()
    merchant = quote["quotes"][0]
    token = sign_in(history.client, actors["brand"])
    page = history.client.get("/desk/analytics", headers=as_(token)).text
    table = page.split('id="premiums"', 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th>(.*?)</th>", table)
    card = table.split(f'data-gtin="{GTIN}" data-market="CN"', 1)[1].split("</tr>", 1)[0]
    shown = dict(zip(head[2:], re.findall(r"<td[^>]*>(.*?)</td>", card, re.S)[2:], strict=True))
    assert shown["Priced at (median order price)"] == format_amount(median, NATIVE)
    assert shown["Premium per unit"] == format_amount(merchant["premium"], NATIVE)
    assert shown["Expected cost of a return"] == format_amount(merchant["breakdown"]["expectedLossPerReturn"], NATIVE)
    top, bottom = map(int, merchant["breakdown"]["returnProbability"]["value"].split("/"))
    assert shown["Return probability"] == f"{top * 1000 // bottom / 10:.1f} %"
    link = html.unescape(card.split('href="', 1)[1].split('"', 1)[0])
    assert history.client.get(link).json()["quotes"][0]["premium"] == merchant["premium"]
    # the EU: one order at the price; the US: sold there, but no order yet, so no price to quote at
    eu = table.split(f'data-gtin="{GTIN}" data-market="EU"', 1)[1].split("</tr>", 1)[0]
    assert format_amount(DEFAULT_PRICE, NATIVE) in eu and "/v1/insurance/quote?" in eu
    assert "no price to quote at" in table.split(f'data-gtin="{GTIN}" data-market="US"', 1)[1].split("</tr>", 1)[0]
    german = history.client.get("/desk/analytics?lang=de", headers=as_(token)).text
    assert "Prämie pro Einheit" in german
