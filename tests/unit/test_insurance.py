"""The return-protection premium (returntrace/insurance.py): the worked example of docs/insurance.md,
monotonicity in value and return rate, the fall-back to the category and the prior, order invariance,
floor and cap, and the per-market table of who may buy it."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from api.read.return_stats import OrderRow, summarize
from returntrace import insurance as ins
from returntrace import policies
from returntrace.escrow import Grade, Policy
from returntrace.protection_law import RETURN_SHIPPING, offering

US = ins.PRIORS["US"]
PARAMS = ins.Parameters(floor=1)
# docs/insurance.md, "Worked example": a US GTIN with 50 orders, its class with 450.
GTIN_H = ins.History(orders=50, returns=10, graded=(6, 3, 1), statutory=0)
CATEGORY_H = ins.History(orders=450, returns=45, graded=(28, 8, 4), statutory=0)


def merchant(price=10_000, shipping=Fraction(600), gtin=GTIN_H, category=CATEGORY_H, prior=US, params=PARAMS):
    return ins.merchant_quote(price, ins.Risk(shipping, policies.US, gtin, category, prior, params))


def test_worked_example_of_the_docs():
    q = merchant()
    b = q.breakdown
    assert b["categoryReturnProbability"]["value"] == "21/200"  # 9/10 · 1/10 + 1/10 · 3/20
    assert b["returnProbability"]["value"] == "61/400"  # 1/2 · 1/5 + 1/2 · 21/200
    assert [g["mix"]["value"] for g in b["grades"]] == ["2/3", "7/30", "1/10"]
    assert [g["loss"] for g in b["grades"]] == ["2000", "3500", "4500"]
    assert (b["gradeLoss"], b["shippingLoss"], b["handling"]) == ("2600", "400", "300")
    assert b["expectedLossPerReturn"] == "3300"
    assert (b["riskPremium"], b["loaded"], b["premium"]) == ("503", "604", "604")  # 503.25 shown half up
    assert q.premium == 604 and (q.audience, q.cover) == ("merchant", "return_costs")
    c = ins.consumer_shipping_quote(ins.Risk(Fraction(600), policies.US, GTIN_H, CATEGORY_H, US, PARAMS))
    assert c is not None and c.breakdown["buyerPaysShare"] == "1/3"  # grades B and C: the US policy makes the buyer pay
    assert (c.breakdown["expectedLossPerReturn"], c.premium) == ("200", 37)  # ⌈61/400 · 200 · 1.2⌉ = ⌈36.6⌉
    assert (c.audience, c.cover) == ("consumer", "return_shipping")


def test_the_premium_rises_with_the_value():
    premiums = [merchant(price=p).premium for p in (2_000, 5_000, 10_000, 20_000)]
    assert premiums == sorted(premiums) and len(set(premiums)) == 4


def test_the_premium_rises_with_the_return_rate():
    premiums = [merchant(gtin=replace(GTIN_H, returns=r)).premium for r in (0, 5, 10, 20)]
    assert premiums == sorted(premiums) and len(set(premiums)) == 4


def test_no_history_falls_back_to_the_category_then_to_the_prior():
    none = ins.History()
    b = merchant(gtin=none).breakdown
    assert b["returnProbability"]["own"] is None and b["returnProbability"]["z"] == "0"
    assert b["returnProbability"]["value"] == b["categoryReturnProbability"]["value"] == "21/200"
    assert [g["mix"]["value"] for g in b["grades"]] == ["7/10", "1/5", "1/10"]  # the category's mix
    b = merchant(gtin=none, category=none).breakdown
    assert b["returnProbability"]["value"] == "3/20"  # the US prior
    assert (
        merchant(gtin=none, category=none).premium
        == merchant(gtin=none, category=none, prior=replace(US, return_rate=Fraction(3, 20))).premium
    )
    assert (
        merchant(gtin=none, category=none, prior=replace(US, return_rate=Fraction(3, 10))).premium
        > merchant(gtin=none, category=none).premium
    )


def test_credibility_weighs_more_history_more():
    assert ins.credibility(0, 50) == 0 and ins.credibility(50, 50) == Fraction(1, 2)
    assert ins.credibility(950, 50) == Fraction(19, 20)


def test_floor_and_cap():
    floored = merchant(params=replace(PARAMS, floor=10_000))
    assert floored.premium == 2_000 and floored.breakdown["bound"] == "cap"  # the cap wins over a higher floor
    assert merchant(params=replace(PARAMS, floor=700)).premium == 700
    assert merchant(params=replace(PARAMS, floor=700)).breakdown["bound"] == "floor"
    capped = merchant(params=replace(PARAMS, cap_bps=500))
    assert capped.premium == 500 and capped.breakdown["bound"] == "cap"
    assert merchant(gtin=replace(GTIN_H, returns=0), category=replace(CATEGORY_H, returns=0)).premium >= 1


def test_statutory_returns_refund_the_whole_price():
    """In the EU a return within the withdrawal period is refunded in full whatever its grade: more
    statutory returns cost the merchant more than grade terms would."""
    eu = ins.PRIORS["EU"]
    policy_only = ins.merchant_quote(10_000, ins.Risk(Fraction(600), policies.EU, GTIN_H, CATEGORY_H, eu, PARAMS))
    all_law = ins.merchant_quote(
        10_000,
        ins.Risk(
            Fraction(600), policies.EU, replace(GTIN_H, statutory=10), replace(CATEGORY_H, statutory=40), eu, PARAMS
        ),
    )
    assert all_law.premium > policy_only.premium
    assert {g["refund"] for g in all_law.breakdown["grades"]} != {"10000"}  # blended, not all law yet (prior)


def rows_of(seed: int) -> list[OrderRow]:
    rng = random.Random(seed)
    rows = []
    for i in range(200):
        returned = rng.random() < 0.2
        grade = rng.choice([None, Grade.A, Grade.B, Grade.C]) if returned else None
        outcome = ins.Outcome(returned, grade, statutory=bool(grade) and rng.random() < 0.5)
        rows.append(OrderRow(rng.choice(["09506000134352", "09506000134420"]), outcome, "0x00", 500 + i % 7))
    return rows


def test_stable_under_reordering_of_the_same_orders():
    rows = rows_of(1)
    first = summarize(rows, "09506000134352", 0, 1, "0x00")
    shuffled = rows[:]
    random.Random(2).shuffle(shuffled)
    again = summarize(shuffled, "09506000134352", 0, 1, "0x00")
    assert again == first
    q = [
        ins.merchant_quote(10_000, ins.Risk(s.return_shipping, policies.EU, s.gtin, s.category, ins.PRIORS["EU"]))
        for s in (first, again)
    ]
    assert q[0] == q[1]


def test_consumers_may_buy_it_only_where_the_table_allows():
    assert not offering(policies.MARKET_EU).to_consumers
    assert offering(policies.MARKET_CN).consumer_covers == (RETURN_SHIPPING,)
    assert offering(policies.MARKET_US).consumer_covers == (RETURN_SHIPPING,)
    assert not offering(3).to_consumers  # a market nobody reviewed


def _merchant_ships_all(policy: Policy) -> Policy:
    return replace(policy, terms=tuple(replace(t, merchant_pays_return_shipping=True) for t in policy.terms))


def test_a_cover_that_pays_nothing_is_never_sold():
    """Attack: a China buyer (consumers may buy the cover there; every return statutory by the prior)
    under terms that make the merchant pay return shipping on every grade. The escrow deducts no
    shipping from any of their refunds (ReturnPolicies.settlement), so the cover would pay nothing:
    the buyer must be offered nothing, not a floor premium."""
    cn, prior = _merchant_ships_all(policies.CN), ins.PRIORS["CN"]
    assert ins.consumer_shipping_quote(ins.Risk(Fraction(600), cn, GTIN_H, CATEGORY_H, prior, PARAMS)) is None
    assert (
        ins.consumer_shipping_quote(
            ins.Risk(Fraction(600), _merchant_ships_all(policies.US), GTIN_H, CATEGORY_H, US, PARAMS)
        )
        is None
    )
    assert ins.consumer_shipping_quote(ins.Risk(Fraction(0), policies.CN, GTIN_H, CATEGORY_H, prior, PARAMS)) is None
    # the fair case: the CN preset leaves return shipping to the buyer on every grade
    paid = ins.consumer_shipping_quote(ins.Risk(Fraction(600), policies.CN, GTIN_H, CATEGORY_H, prior, PARAMS))
    assert paid is not None and paid.breakdown["buyerPaysShare"] == "1" and paid.premium > PARAMS.floor


def test_statutory_returns_ship_by_the_grade_terms_as_the_escrow_settles_them():
    """Every return statutory (σ = 1): the merchant's shipping share is still grade A's mix where A's
    terms make the merchant pay it, as ReturnPolicies.settlement deducts nothing from those refunds."""
    all_statutory = replace(GTIN_H, statutory=GTIN_H.graded_total)
    q = ins.merchant_quote(10_000, ins.Risk(Fraction(600), policies.US, all_statutory, all_statutory, US, PARAMS))
    assert q.breakdown["statutoryShare"]["own"] == "1"
    assert q.breakdown["merchantShippingShare"] == q.breakdown["grades"][0]["mix"]["value"] != "0"


def test_no_floor_on_a_cover_with_zero_expected_payout():
    never_returned = ins.Prior(Fraction(0), US.grade_mix, US.statutory_share)
    q = ins.merchant_quote(
        10_000, ins.Risk(Fraction(600), policies.US, ins.History(), ins.History(), never_returned, PARAMS)
    )
    assert q.breakdown["riskPremium"] == "0" and q.premium == 0 and q.breakdown["bound"] is None


histories = st.builds(
    lambda orders, r, a, b, c, s: ins.History(orders, min(r, orders), (a, b, c), min(s, a + b + c)),
    st.integers(0, 5_000),
    st.integers(0, 5_000),
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(0, 1_500),
)


@settings(max_examples=60, deadline=None)
@given(gtin=histories, category=histories, price=st.integers(1, 10**24), more=st.integers(1, 10**24))
def test_property_non_decreasing_in_the_price(gtin, category, price, more):
    q = [
        ins.merchant_quote(p, ins.Risk(Fraction(600), policies.EU, gtin, category, ins.PRIORS["EU"]))
        for p in (price, price + more)
    ]
    assert q[0].premium <= q[1].premium


@settings(max_examples=60, deadline=None)
@given(gtin=histories, category=histories, extra=st.integers(1, 1_000))
def test_property_non_decreasing_in_the_returns(gtin, category, extra):
    """More returns among the same orders never lower the premium (grades and statutory count unchanged)."""
    assume_orders = max(gtin.orders, gtin.returns + extra)
    base = replace(gtin, orders=assume_orders)
    more = replace(base, returns=base.returns + extra)
    q = [ins.merchant_quote(10**18, ins.Risk(Fraction(600), policies.US, h, category, US)) for h in (base, more)]
    assert q[0].premium <= q[1].premium


@settings(max_examples=40, deadline=None)
@given(
    outcomes=st.lists(st.builds(ins.Outcome, st.booleans(), st.sampled_from([None, *ins.GRADES]), st.booleans())),
    seed=st.integers(),
)
def test_property_counts_ignore_the_order(outcomes, seed):
    shuffled = outcomes[:]
    random.Random(seed).shuffle(shuffled)
    assert ins.tally(shuffled) == ins.tally(outcomes)


def test_the_dashboard_partial_shows_the_merchants_quote_translated():
    from api.chain.product_terms import MarketTerms
    from api.http.pages import TEMPLATES, i18n
    from api.http.pages.consumer_page import Currency
    from api.http.pages.protection_offer import MerchantQuote, merchant_rows
    from api.read.premiums import PremiumQuotes
    from api.read.return_stats import ReturnStats

    stats = ReturnStats(policies.MARKET_US, 0, GTIN_H, CATEGORY_H, Fraction(600), "gtin", 42)
    market = MarketTerms(policies.MARKET_US, policies.US_LAW, 1, policies.US)
    quotes = PremiumQuotes("09506000134352", market, "0x00", 2, stats, offering(policies.MARKET_US), merchant(), None)
    usd = Currency("USD", 2)
    with i18n.use(i18n.LANGUAGES["de"]):
        line = MerchantQuote(quotes.gtin, "US", "100,00 USD", merchant_rows(quotes, usd), "/v1/insurance/quote")
        protection = {"quotes": [line], "unavailable": False}
        html = TEMPLATES.get_template("insurance_quote.html").render(protection=protection)
    assert "Prämie pro Einheit" in html and "6,04 USD" in html  # the worked example's 604 base units
    assert "15,2 %" in html and "42" in html  # 61/400 shown to a tenth of a percent, rounded down; the index block
    assert merchant_rows(replace(quotes, merchant=None), usd) == []
