"""The product's page (`GET /01/{gtin}`, a Digital Link without a serial): its return policy in each
market the registry says it is sold in, every figure checked here against the contracts' own values at
the block the page states; and the unit page's policy section with its order's dates filled in."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from brownie import ZERO_ADDRESS

from api.http.pages.consumer_page import format_time
from returntrace import gs1
from returntrace import policies as presets
from returntrace.escrow import BPS, Law, Policy
from scripts import deploy
from tests.api.test_return_options import _serial_of
from tests.support import GTIN, MARKET_CN, MARKET_EU, MARKET_SPARE, MARKET_US, PLAIN_GTIN_INT
from tests.views import text_of

PLAIN = f"{PLAIN_GTIN_INT:014d}"


def page(gateway, path: str, **headers: str) -> tuple[str, str]:
    r = gateway.client.get(path, headers={"accept": "text/html", **headers})
    assert r.status_code == 200, r.text
    return r.text, text_of(r.text)


def stated_block(text: str) -> int:
    return int(re.search(r"at block ([\d,]+)", text).group(1).replace(",", ""))


def section(html: str, market: str) -> str:
    """The visible text of one market's section."""
    found = re.search(rf'<section class="card mt market" id="market-{market}".*?</section>', html, flags=re.S)
    assert found, f"no section for market {market}"
    return text_of(found.group(0))


def on_chain(policies, market: int, block: int) -> tuple[Law, Policy]:
    """The law and the policy in force of `market` at `block`, read here without the gateway."""
    law = Law.decode(policies.law.call(market, block_identifier=block), policies.abi)
    version = policies.currentPolicyVersion.call(market, block_identifier=block)
    return law, Policy.decode(policies.policy.call(market, version, block_identifier=block), policies.abi)


def pct(bps: int) -> str:
    return f"{bps * 100 / BPS:g} %"


def test_product_page_states_each_markets_terms_as_the_chain_does(gateway, policies, deployment):
    deploy.accredit_return_center(deployment, "warehouse", 1 << MARKET_EU)
    html, text = page(gateway, f"/01/{GTIN}")
    block = stated_block(text)
    assert "<script" not in html.lower()
    for market, code in ((MARKET_EU, "EU"), (MARKET_US, "US"), (MARKET_CN, "CN")):
        law, policy = on_chain(policies, market, block)
        s = section(html, code)
        if law.withdrawal_days:
            assert f"By law: {law.withdrawal_days} days to withdraw without giving a reason" in s
        else:
            assert "None by law" in s
        assert f"The brand's policy: {policy.return_window // 86400} days from delivery" in s
        for letter, terms in zip("ABC", policy.terms, strict=True):
            grade = re.search(rf"Grade {letter} — [^%]*?(\d[\d.]*) % of the price in (cash|store points)", s)
            shown = terms.refund_bps if terms.refund_bps else terms.points_bps
            assert grade and grade.group(1) + " %" == pct(shown), (code, letter, s)
            assert grade.group(2) == ("cash" if terms.refund_bps else "store points")
        shipping = re.findall(r"(the brand pays return shipping|you pay the return shipping)", s)
        assert shipping == [
            "the brand pays return shipping" if t.merchant_pays_return_shipping else "you pay the return shipping"
            for t in policy.terms
        ]
        assert f"Within {policy.inspection_sla // 86400} days of the return centre's receiving scan" in s
        assert ("a voucher of store points worth the refund plus a" in s) == policy.exchange_offered
        if law.refund_days:
            assert f"Within {law.refund_days} days of " in s
        assert "Currencies ETH" in s  # the native coin, allowed in every market
    eu, us, cn = section(html, "EU"), section(html, "US"), section(html, "CN")
    # the hygiene rule where it applies (the test GTIN is hygiene-sealed), as each market's law and policy say
    assert "once you open the seal, the legal right of withdrawal is lost; the grade terms still apply" in eu
    assert "(only if you confirmed this when you bought)" in cn
    assert "there is no legal right of withdrawal here; an opened seal is graded by the brand's terms" in us
    # mediation, customs and where to return
    assert "ECC-Net" in eu and "online dispute resolution platform closed on 20 July 2025" in eu
    assert "12315" in cn and "state's consumer protection agency" in us
    assert "Union Customs Code" in eu and "HTSUS 9801.00.10" in us and "Customs Tariff Law" in cn
    warehouse = deployment.actors["warehouse"].gln
    assert f"Accredited return centre at location {warehouse}" in eu
    assert str(warehouse) not in us and "No accredited return centre serves this market yet" in us


def test_product_page_follows_the_chain_not_a_copy(gateway, policies, admin, plain_gtin):
    """The spare market has no law or policy until one is set; once set, the page states its figures."""
    html, _ = page(gateway, f"/01/{PLAIN}")
    assert "No return policy is set for this market yet" in section(html, str(MARKET_SPARE))
    assert "hygiene" not in section(html, "EU").lower()  # not a hygiene-sealed product: no hygiene rule
    odd = replace(
        presets.US, return_window=45 * 86400, inspection_sla=9 * 86400, exchange_offered=False, exchange_bonus_bps=0
    )
    policies.setLaw(MARKET_SPARE, presets.US_LAW.as_tuple(), {"from": admin})
    policies.setPolicy(MARKET_SPARE, odd.as_tuple(), {"from": admin})
    policies.setCurrency(MARKET_SPARE, ZERO_ADDRESS, presets.NATIVE.as_tuple(), {"from": admin})
    html, text = page(gateway, f"/01/{PLAIN}")
    spare = section(html, str(MARKET_SPARE))
    assert "45 days from delivery" in spare and "Within 9 days of the return centre's receiving scan" in spare
    assert "voucher" not in spare
    assert policies.currentPolicyVersion.call(MARKET_SPARE, block_identifier=stated_block(text)) == 1


def test_product_json_is_the_terms_as_read(gateway, policies):
    r = gateway.client.get(f"/01/{GTIN}", headers={"accept": "application/json"})
    assert r.status_code == 200 and r.headers["vary"] == "Accept"
    data = r.json()
    assert data["gtin"] == GTIN and [m["market"] for m in data["markets"]] == [MARKET_EU, MARKET_US, MARKET_CN]
    law, policy = on_chain(policies, MARKET_CN, data["block"])
    cn = data["markets"][2]
    assert cn["law"]["withdrawal_days"] == law.withdrawal_days and cn["policy"]["return_window"] == policy.return_window


def test_unknown_product_is_a_404(gateway):
    unknown = gs1.normalize_gtin(gs1.with_check_digit("0950600099999"))
    r = gateway.client.get(f"/01/{unknown}", headers={"accept": "application/json"})
    assert r.status_code == 404 and r.json()["error"] == "unknown_product"
    r = gateway.client.get(f"/01/{unknown}", headers={"accept": "text/html"})
    assert r.status_code == 404 and "Unknown product" in r.text


def test_unit_page_shows_its_orders_policy_with_the_dates(gateway, shop, escrow):
    order = shop.buy(market=MARKET_EU)
    shop.deliver(order)
    gateway.services.indexer.index_once()
    path = f"/01/{GTIN}/21/{_serial_of(gateway, shop.unit(order))}"
    html, _ = page(gateway, path)
    eu = section(html, "EU")
    closes = format_time(escrow.returnWindowCloses(order))[0]
    assert f"Return window closes {closes}" in eu
    assert "By law: 14 days to withdraw" in eu  # the same terms as the product page
    shop.request_return(order)  # a withdrawal: the refund is due once the goods are on their way
    gateway.services.indexer.index_once()
    eu = section(page(gateway, path)[0], "EU")
    assert escrow.refundDueAt(order) == 0
    assert "Refund due by Set when the return centre receives it or a carrier's scan proves you sent it" in eu
    shop.receive(order)
    gateway.services.indexer.index_once()
    eu = section(page(gateway, path)[0], "EU")
    due = escrow.refundDueAt(order)
    assert due and f"Refund due by {format_time(due)[0]}" in eu


RETURN_POLICY = {
    "en": "Return policy",
    "de": "Rückgaberegelung",
    "fr": "Politique de retour",
    "es": "Política de devoluciones",
    "zh": "退货政策",
}
TAGS = {"en": "en", "de": "de", "fr": "fr", "es": "es", "zh": "zh-Hans"}
ACCEPT = {
    "en": "en-GB,en;q=0.9",
    "de": "de-AT,de;q=0.9,en;q=0.5",
    "fr": "en;q=0.4, fr-CA;q=0.8",
    "es": "ja, es-419;q=0.7, en;q=0.2",
    "zh": "zh-CN,zh;q=0.9,en;q=0.8",
}


@pytest.mark.parametrize("code", list(RETURN_POLICY))
def test_pages_speak_the_browsers_language(gateway, code):
    r = gateway.client.get(f"/01/{GTIN}", headers={"accept": "text/html", "accept-language": ACCEPT[code]})
    assert r.status_code == 200
    assert f'<html lang="{TAGS[code]}">' in r.text and r.headers["content-language"] == TAGS[code]
    assert f"<h1>{RETURN_POLICY[code]}</h1>" in r.text
    assert "Accept-Language" in r.headers["vary"]
    assert re.search(
        rf'<a href="\?lang={code}" hreflang="{TAGS[code]}" lang="{TAGS[code]}" aria-current="true">', r.text
    )


@pytest.mark.parametrize("code", list(RETURN_POLICY))
def test_the_switch_chooses_the_language(gateway, code):
    other = "de" if code != "de" else "fr"  # the browser asks for another language; the switch wins
    r = gateway.client.get(f"/01/{GTIN}?lang={code}", headers={"accept": "text/html", "accept-language": ACCEPT[other]})
    assert f'<html lang="{TAGS[code]}">' in r.text and f"<h1>{RETURN_POLICY[code]}</h1>" in r.text
    links = re.findall(r'<a href="\?lang=(\w+)" hreflang', r.text)
    assert links == list(RETURN_POLICY)  # every language, each a plain link: the page runs no script
    assert "<script" not in r.text.lower() and "default-src 'none'" in r.headers["content-security-policy"]


def test_error_pages_speak_the_language_too(gateway):
    r = gateway.client.get("/01/123", headers={"accept": "text/html", "accept-language": "fr"})
    assert r.status_code == 400 and '<html lang="fr">' in r.text and "Ce code n&#39;est pas valide" in r.text
