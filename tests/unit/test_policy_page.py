"""What the product page tells a buyer of each market's law, checked against the law the team's notes
cite (LAW.md) and against the rule the contracts and the customs table apply: the page is the
information the law makes a condition (EU 2011/83 Art. 14(1): the consumer bears the return shipping
only if told), so it must say what the settlement does."""

from __future__ import annotations

from dataclasses import replace

from api.chain.product_terms import MarketTerms, ProductTerms
from api.http.pages import i18n
from api.http.pages.policy_page import MarketSection, build_policy_page
from returntrace import policies as presets
from returntrace.customs_regimes import REGIMES
from returntrace.escrow import Policy
from tests.support import GTIN

ZERO = "0x" + "00" * 20


def _sections(**policy_of: Policy) -> dict[str, MarketSection]:
    """The hygiene-sealed test product's page in English, one section per preset market."""
    markets = [
        MarketTerms(m, presets.LAWS[m], 1, policy_of.get(code, presets.PRESETS[m]), [(ZERO, presets.NATIVE)])
        for m, code in presets.MARKET_NAMES.items()
    ]
    terms = ProductTerms(GTIN, "0x" + "aa" * 20, 1, 0b111, 120, "0x" + "00" * 32, 1_778_231_000, markets)
    with i18n.use(i18n.LANGUAGES["en"]):
        page = build_policy_page(terms, lambda _address: "ETH", "http://x/01/" + GTIN)
    return {s.market: s for s in page.markets}


def _row(section: MarketSection, term: str) -> str:
    found = [r.value for r in section.rows if r.term == term]
    assert len(found) == 1, (term, [r.term for r in section.rows])
    return found[0]


def test_the_legal_refund_says_who_pays_the_return_shipping_inside_the_right():
    """LAW.md, EU Art. 14(1): the consumer bears the direct cost of the return only if informed of it;
    China Art. 25: return shipping is the consumer's unless agreed. ReturnPolicies.settlement deducts the
    listing's return shipping inside the statutory right too, by the grade's terms, never for a defect;
    the grade rows are headed "Returns outside the legal right", so the legal refund row says it. (It
    said only "the full price and standard delivery, less the diminished value".)"""
    sections = _sections()
    eu = _row(sections["EU"], "Refund by law")
    assert eu.startswith("Within the legal period the law sets the least you get back: the full price and standard")
    assert eu.endswith(
        "; return shipping: you pay the amount stated when you bought for grades B, C, the brand pays it for "
        "grade A and for a defective unit"
    )
    assert [t.merchant_pays_return_shipping for t in presets.EU.terms] == [True, False, False]  # as the row says
    cn = _row(sections["CN"], "Refund by law")
    assert cn.endswith(
        "the goods must come back in good condition, or the right is lost; return shipping: you pay the amount "
        "stated when you bought, except for a defective unit"
    )
    assert not any(t.merchant_pays_return_shipping for t in presets.CN.terms)
    # A policy whose every grade pays the shipping says so; the market without a legal right has no such row.
    free = replace(presets.EU, terms=tuple(replace(t, merchant_pays_return_shipping=True) for t in presets.EU.terms))
    assert _row(_sections(EU=free)["EU"], "Refund by law").endswith("; return shipping: the brand pays it")
    assert not [r for r in sections["US"].rows if r.term == "Refund by law"]


def test_a_market_without_a_legal_right_promises_none_for_an_opened_hygiene_seal():
    """LAW.md, United States: no general statutory right to return goods bought online; the merchant's
    policy governs. The page said "here an opened seal does not cost you the legal right" under
    "Right of withdrawal: None by law"."""
    us = _sections()["US"]
    assert _row(us, "Right of withdrawal") == "None by law: returns follow the brand's policy"
    hygiene = _row(us, "Hygiene")
    assert hygiene == (
        "Hygiene-sealed: there is no legal right of withdrawal here; an opened seal is graded by the brand's terms"
    )
    assert "legal right" not in hygiene.replace("no legal right", "")
    # Where the law gives the right and the brand does not invoke the exception, the right is kept.
    kept = replace(presets.EU, hygiene_exempt=False)
    assert _row(_sections(EU=kept)["EU"], "Hygiene") == (
        "Hygiene-sealed, but here an opened seal does not cost you the legal right"
    )


def test_the_chinese_customs_row_states_the_cross_border_return_limits():
    """LAW.md, China: cross-border e-commerce retail imports (modes 1210/9610) may be returned if declared
    within 30 days of release and back in the bonded area within 45 days; the tax is then not levied and
    the annual quota restored. That is the regime the customs table applies to an order sold into China
    (CN-CBEC-RETURN); the page told Chinese buyers only of Chinese exports re-imported."""
    regime = REGIMES["CN-CBEC-RETURN"]
    assert regime.applies(presets.MARKET_CN)
    text = _row(_sections()["CN"], "Duties and customs")
    assert "customs modes 1210 and 9610" in text
    declared, back = (limit.days for limit in regime.limits)
    assert (declared, back) == (30, 45)
    assert f"declared within {declared} days of its customs release" in text
    assert f"back in the bonded area within {back} days is not taxed" in text
    assert "annual cross-border shopping quota is restored" in text
