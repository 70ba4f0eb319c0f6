"""Settlement arithmetic per market and grade: the statutory rules first, then the grade terms,
checked to the wei in credits, points and the escrow's solvency."""

from dataclasses import replace

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain, web3

from returntrace.escrow import Facts, Grade, GradeTerms, UnitDisposition
from returntrace.policies import EU, EU_LAW, NATIVE, US, US_LAW
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_CN,
    MARKET_EU,
    MARKET_SPARE,
    MARKET_US,
    err,
    plain,
)

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
RESTOCK, DONATE, RECYCLE = UnitDisposition.RESTOCK, UnitDisposition.DONATE, UnitDisposition.RECYCLE

PRICE = 10**18
DEL = DEFAULT_DELIVERY_FEE  # 5 % of the price
RET = DEFAULT_RETURN_FEE  # 3 % of the price


def pct(bps):
    return PRICE * bps // 10_000


# (id, market, hygiene-sealed product?, request late (day 20)?, exception confirmed at purchase?, facts, grade,
#  attested diminished value, refund, points, statutory, disposition, diminished, shipping deducted)
CASES = [
    # EU, hygiene-sealed baby bottle (the default test product)
    ("eu-a-sealed", MARKET_EU, True, False, False, S | P, A, 0, PRICE + DEL, 0, True, RESTOCK, 0, 0),
    ("eu-b-seal-intact-statutory", MARKET_EU, True, False, False, S, B, 0, PRICE + DEL - RET, 0, True, DONATE, 0, RET),
    ("eu-b-seal-broken-hygiene", MARKET_EU, True, False, False, P, B, 0, pct(8_000) - RET, 0, False, DONATE, 0, RET),
    ("eu-c-seal-broken-hygiene", MARKET_EU, True, False, False, U, C, 0, 0, pct(3_000), False, RECYCLE, 0, 0),
    # Changed rule (issue 9 item 6): a used unit keeps the statutory right, refunded in cash less
    # the attested diminished value (at most 30 % of the price); the grade-C points come on top.
    (
        "eu-c-seal-intact-statutory",
        MARKET_EU,
        True,
        False,
        False,
        U | S,
        C,
        0,
        PRICE + DEL - RET,
        pct(3_000),
        True,
        RECYCLE,
        0,
        RET,
    ),
    (
        "eu-c-seal-intact-diminished",
        MARKET_EU,
        True,
        False,
        False,
        U | S,
        C,
        pct(1_000),
        PRICE - pct(1_000) + DEL - RET,
        pct(3_000),
        True,
        RECYCLE,
        pct(1_000),
        RET,
    ),
    (
        "eu-c-diminished-capped",
        MARKET_EU,
        True,
        False,
        False,
        U | S,
        C,
        pct(9_000),
        PRICE - pct(3_000) + DEL - RET,
        pct(3_000),
        True,
        RECYCLE,
        pct(3_000),
        RET,
    ),
    # a defective unit is not an opened hygiene item (Art. 16(e)): statutory, merchant ships back
    ("eu-defective-seal-broken", MARKET_EU, True, False, False, D, A, 0, PRICE + DEL, 0, True, RESTOCK, 0, 0),
    # EU, product without a hygiene seal: the statutory right survives opening and use
    ("eu-plain-b-statutory", MARKET_EU, False, False, False, P, B, 0, PRICE + DEL - RET, 0, True, DONATE, 0, RET),
    (
        "eu-plain-c-statutory",
        MARKET_EU,
        False,
        False,
        False,
        U,
        C,
        pct(2_000),
        PRICE - pct(2_000) + DEL - RET,
        pct(3_000),
        True,
        RECYCLE,
        pct(2_000),
        RET,
    ),
    # EU, request after the 14-day withdrawal period but inside the 30-day voluntary window
    ("eu-late-a", MARKET_EU, True, True, False, S | P, A, 0, PRICE, 0, False, RESTOCK, 0, 0),
    ("eu-late-b", MARKET_EU, True, True, False, S, B, 0, pct(8_000) - RET, 0, False, DONATE, 0, RET),
    (
        "eu-late-plain-c",
        MARKET_EU,
        False,
        True,
        False,
        U,
        C,
        pct(2_000),
        0,
        pct(3_000),
        False,
        RECYCLE,
        0,
        0,
    ),  # the diminished value counts only under the law
    # CN: the price but not the delivery fee; return shipping is the buyer's
    ("cn-a-statutory", MARKET_CN, True, False, False, S, A, 0, PRICE - RET, 0, True, RESTOCK, 0, RET),
    # Changed rule (issue 9): China's hygiene exception needs the buyer's confirmation at purchase.
    ("cn-b-seal-broken-unconfirmed", MARKET_CN, True, False, False, P, B, 0, PRICE - RET, 0, True, DONATE, 0, RET),
    ("cn-b-seal-broken-confirmed", MARKET_CN, True, False, True, P, B, 0, pct(8_000) - RET, 0, False, DONATE, 0, RET),
    ("cn-plain-b-statutory", MARKET_CN, False, False, False, P, B, 0, PRICE - RET, 0, True, DONATE, 0, RET),
    # a used unit is not in good condition in China: the grade terms, points only
    ("cn-plain-c-used", MARKET_CN, False, False, False, U, C, pct(1_000), 0, pct(3_000), False, RECYCLE, 0, 0),
    ("cn-defective-merchant-ships", MARKET_CN, True, False, False, D, A, 0, PRICE, 0, True, RESTOCK, 0, 0),
    # US: no statutory right; grade terms only
    ("us-a", MARKET_US, True, False, False, S, A, 0, PRICE, 0, False, RESTOCK, 0, 0),
    ("us-b", MARKET_US, True, False, False, P, B, 0, pct(7_500) - RET, 0, False, DONATE, 0, RET),
    ("us-c", MARKET_US, True, False, False, U, C, 0, 0, pct(5_000), False, RECYCLE, 0, 0),
]


def settle(shop, escrow, order, facts, grade, diminished=0):
    """Inspects and, for B/C, has the buyer accept; returns the OrderSettled event."""
    tx = shop.inspect(order, facts, grade, diminishedValue=diminished)
    if grade != A:
        tx = escrow.acceptInspection(order, {"from": shop.actors["buyer"].account})
    return tx.events["OrderSettled"]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_settlement_amounts(shop, escrow, points, actors, plain_gtin, case):
    _, market, sealed, late, confirms, facts, grade, dv, refund, pts, statutory, disposition, diminished, shipping = (
        case
    )
    buyer, brand = actors["buyer"].address, actors["brand"].address
    order = shop.buy(market=market, gtin=GTIN_INT if sealed else plain_gtin, confirms=confirms)
    shop.deliver(order)
    if late:
        chain.sleep(20 * DAY)
    shop.request_return(order)
    shop.receive(order)
    assert escrow.order(order)["inWithdrawal"] is (market != MARKET_US and not late)

    quoted = plain(escrow.quote(order, grade, facts, dv))  # what the buyer is shown before the inspection
    ev = settle(shop, escrow, order, facts, grade, dv)
    s = ev["settlement"]
    assert (ev["path"], ev["grade"]) == (0, grade)  # Graded
    assert (s["statutory"], s["refund"], s["points"], s["disposition"]) == (statutory, refund, pts, disposition)
    assert (s["diminished"], s["shippingDeducted"], s["voucher"], s["bonus"]) == (diminished, shipping, 0, 0)
    assert s["merchantAmount"] == PRICE + DEL - refund
    assert s["priceRefunded"] + s["deliveryRefunded"] - s["shippingDeducted"] == refund  # the parts add up
    assert s["deliveryRefunded"] == (DEL if statutory and market == MARKET_EU else 0)
    assert escrow.credits(ZERO_ADDRESS, buyer) == refund
    assert escrow.credits(ZERO_ADDRESS, brand) == PRICE + DEL - refund
    assert points.pointsOf(buyer, brand, ZERO_ADDRESS) == pts
    assert points.balanceOf(buyer, points.pointsId(brand, ZERO_ADDRESS)) == pts
    assert escrow.order(order)["grade"] == grade
    shop.assert_solvent()
    # The quote is the contract's own arithmetic: it matches the settlement before and after it.
    assert quoted == plain(s) == plain(escrow.quote(order, grade, facts, dv))


def test_both_parties_withdraw_their_shares(shop, escrow, actors):
    order = shop.returned()
    s = settle(shop, escrow, order, P, B)["settlement"]  # 80 % minus return shipping
    for name, amount in (("buyer", s["refund"]), ("brand", s["merchantAmount"])):
        account = actors[name].account
        before = web3.eth.get_balance(account.address)
        tx = escrow.withdraw(ZERO_ADDRESS, {"from": account})
        assert web3.eth.get_balance(account.address) == before + amount - tx.gas_used * tx.gas_price
        shop.assert_solvent()
    assert web3.eth.get_balance(escrow.address) == 0 == escrow.totalOwed(ZERO_ADDRESS)


def test_token_settlement_rounds_down_and_balances(shop, escrow, points, token, actors):
    """Odd 6-decimal amounts: 80 % and 30 % are floored, nothing is created or lost."""
    price, fee, ret = 999_999, 4_999, 2_999
    buyer, brand = actors["buyer"], actors["brand"]
    b_order = shop.returned(token=token, price=price, delivery_fee=fee, return_fee=ret)
    c_order = shop.returned(token=token, price=price, delivery_fee=fee, return_fee=ret)
    shop.assert_solvent(token)
    b = settle(shop, escrow, b_order, P, B)["settlement"]
    shop.assert_solvent(token)
    c = settle(shop, escrow, c_order, U, C)["settlement"]
    shop.assert_solvent(token)
    assert b["refund"] == 799_999 - ret
    assert (c["refund"], c["points"]) == (0, 299_999)
    assert escrow.credits(token, buyer.address) == 799_999 - ret
    assert escrow.credits(token, brand.address) == 2 * (price + fee) - (799_999 - ret)
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0
    assert points.pointsOf(buyer.address, brand.address, token) == 299_999
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0  # points are per currency

    before = token.balanceOf(buyer.address), token.balanceOf(brand.address)
    escrow.withdraw(token, {"from": buyer.account})
    shop.assert_solvent(token)
    escrow.withdraw(token, {"from": brand.account})
    shop.assert_solvent(token)
    assert token.balanceOf(buyer.address) == before[0] + 799_999 - ret
    assert token.balanceOf(brand.address) == before[1] + 2 * (price + fee) - (799_999 - ret)
    assert token.balanceOf(escrow) == 0 == escrow.totalOwed(token)


def spare_market(policies, admin, policy, law=US_LAW):
    """Market 3 gets a law, a policy and the native coin (admin holds the law and policy admin roles here)."""
    policies.setLaw(MARKET_SPARE, law.as_tuple(), {"from": admin})
    policies.setPolicy(MARKET_SPARE, policy.as_tuple(), {"from": admin})
    policies.setCurrency(MARKET_SPARE, ZERO_ADDRESS, NATIVE.as_tuple(), {"from": admin})


def spare_policy(policies, admin, b_terms):
    spare_market(policies, admin, replace(US, terms=(US.terms[0], b_terms, US.terms[2])))


@pytest.mark.parametrize("merchant_pays, refund", [(True, pct(6_000)), (False, pct(6_000) - RET)])
def test_return_shipping_is_merchants_or_deducted(shop, escrow, policies, admin, plain_gtin, merchant_pays, refund):
    spare_policy(policies, admin, GradeTerms(6_000, 0, merchant_pays, DONATE))
    order = shop.returned(market=MARKET_SPARE, gtin=plain_gtin)
    s = settle(shop, escrow, order, P, B)["settlement"]
    assert (s["refund"], s["merchantAmount"]) == (refund, PRICE + DEL - refund)
    shop.assert_solvent()


def test_return_shipping_above_refund_leaves_zero_not_negative(
    shop, escrow, policies, admin, points, actors, plain_gtin
):
    spare_policy(policies, admin, GradeTerms(100, 2_000, False, DONATE))  # 1 % refund < 3 % shipping
    order = shop.returned(market=MARKET_SPARE, gtin=plain_gtin)
    s = settle(shop, escrow, order, P, B)["settlement"]
    assert (s["refund"], s["merchantAmount"], s["points"], s["shippingDeducted"]) == (
        0,
        PRICE + DEL,
        pct(2_000),
        pct(100),
    )
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert points.pointsOf(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS) == pct(2_000)
    shop.assert_solvent()


def test_statutory_without_delivery_refund_keeps_delivery_fee(shop, escrow, policies, admin, plain_gtin):
    """A law that refunds the price but not the delivery (the law admin's, no longer the policy's)."""
    spare_market(policies, admin, EU, replace(EU_LAW, refunds_delivery=False))
    order = shop.returned(market=MARKET_SPARE, gtin=plain_gtin)
    s = settle(shop, escrow, order, S | P, A)["settlement"]
    assert (s["statutory"], s["refund"], s["merchantAmount"], s["deliveryRefunded"]) == (True, PRICE, DEL, 0)


def test_no_hygiene_exemption_keeps_statutory_right(shop, escrow, policies, admin):
    """A merchant who does not invoke the Art. 16(e) exception refunds an opened hygiene-sealed unit statutorily."""
    policies.setPolicy(MARKET_EU, replace(EU, hygiene_exempt=False).as_tuple(), {"from": admin})
    order = shop.returned()
    s = settle(shop, escrow, order, P, B)["settlement"]
    assert (s["statutory"], s["refund"]) == (True, PRICE + DEL - RET)


def test_points_accumulate_per_merchant_and_currency(shop, escrow, points, token, actors):
    buyer, brand = actors["buyer"].address, actors["brand"].address
    for _ in range(2):
        order = shop.returned(market=MARKET_US)
        settle(shop, escrow, order, U, C)
    order = shop.returned(market=MARKET_US, token=token, price=1_000_000, delivery_fee=0, return_fee=0)
    settle(shop, escrow, order, U, C)
    assert points.pointsOf(buyer, brand, ZERO_ADDRESS) == 2 * pct(5_000)
    assert points.pointsOf(buyer, brand, token) == 500_000  # one point is one base unit of the order's currency
    assert points.pointsOf(buyer, actors["brand2"].address, ZERO_ADDRESS) == 0
    assert points.pointsId(brand, token) != points.pointsId(brand, ZERO_ADDRESS)


def test_quote_for_active_order_follows_the_clock(shop, escrow, plain_gtin):
    sealed = shop.buy()
    # Facts are the quote's arguments: an opened hygiene seal loses the EU right, an intact one keeps it.
    assert escrow.quote(sealed, B, P, 0)["statutory"] is False
    assert escrow.quote(sealed, A, S | P, 0)["statutory"] is True
    order = shop.buy(gtin=plain_gtin)
    q = escrow.quote(order, A, S | P, 0)  # undelivered: the period has not started
    assert (q["statutory"], q["refund"], q["merchantAmount"], q["points"], q["disposition"]) == (
        True,
        PRICE + DEL,
        0,
        0,
        RESTOCK,
    )
    shop.deliver(order)
    chain.sleep(20 * DAY)
    chain.mine()
    q = escrow.quote(order, A, S | P, 0)
    assert (q["statutory"], q["refund"], q["merchantAmount"], q["points"], q["disposition"]) == (
        False,
        PRICE,
        DEL,
        0,
        RESTOCK,
    )
    with brownie.reverts(err("ReturnEscrowInvalidGrade", 0)):
        escrow.quote(order, 0, 0, 0)
    with brownie.reverts(err("ReturnEscrowInvalidGrade", 4)):
        escrow.quote(order, 4, 0, 0)
    with brownie.reverts(err("ReturnEscrowInvalidFacts", 16)):
        escrow.quote(order, A, 16, 0)
