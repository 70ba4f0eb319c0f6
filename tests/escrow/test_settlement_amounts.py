"""Settlement arithmetic per market and grade: the statutory rules first, then the grade terms,
checked to the wei in credits, points and the escrow's solvency."""

from dataclasses import replace

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain, web3

from returntrace.policies import EU, US, Facts, Grade, GradeTerms, UnitDisposition
from tests.support import DAY, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE, GTIN_INT, MARKET_CN, MARKET_EU, MARKET_SPARE, MARKET_US, err, plain

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
RESTOCK, DONATE, RECYCLE = UnitDisposition.RESTOCK, UnitDisposition.DONATE, UnitDisposition.RECYCLE

PRICE = 10**18
DEL = DEFAULT_DELIVERY_FEE  # 5 % of the price
RET = DEFAULT_RETURN_FEE  # 3 % of the price


def pct(bps):
    return PRICE * bps // 10_000


# (id, market, hygiene-sealed product?, request late (day 20)?, facts, grade, refund, points, statutory, disposition)
CASES = [
    # EU, hygiene-sealed baby bottle (the default test product)
    ("eu-a-sealed", MARKET_EU, True, False, S | P, A, PRICE + DEL, 0, True, RESTOCK),
    ("eu-b-seal-intact-statutory", MARKET_EU, True, False, S, B, PRICE + DEL - RET, 0, True, DONATE),
    ("eu-b-seal-broken-hygiene", MARKET_EU, True, False, P, B, pct(8_000) - RET, 0, False, DONATE),
    ("eu-c-seal-broken-hygiene", MARKET_EU, True, False, U, C, 0, pct(3_000), False, RECYCLE),
    ("eu-c-seal-intact-statutory", MARKET_EU, True, False, U | S, C, DEL - RET, pct(3_000), True, RECYCLE),
    # a defective unit is not an opened hygiene item (Art. 16(e)): statutory, merchant ships back
    ("eu-defective-seal-broken", MARKET_EU, True, False, D, A, PRICE + DEL, 0, True, RESTOCK),
    # EU, product without a hygiene seal: the statutory right survives opening
    ("eu-plain-b-statutory", MARKET_EU, False, False, P, B, PRICE + DEL - RET, 0, True, DONATE),
    ("eu-plain-c-statutory", MARKET_EU, False, False, U, C, DEL - RET, pct(3_000), True, RECYCLE),
    # EU, request after the 14-day withdrawal window but inside the 30-day voluntary window
    ("eu-late-a", MARKET_EU, True, True, S | P, A, PRICE, 0, False, RESTOCK),
    ("eu-late-b", MARKET_EU, True, True, S, B, pct(8_000) - RET, 0, False, DONATE),
    ("eu-late-plain-c", MARKET_EU, False, True, U, C, 0, pct(3_000), False, RECYCLE),
    # CN: the price but not the delivery fee; return shipping is the buyer's
    ("cn-a-statutory", MARKET_CN, True, False, S, A, PRICE - RET, 0, True, RESTOCK),
    ("cn-b-seal-broken-hygiene", MARKET_CN, True, False, P, B, pct(8_000) - RET, 0, False, DONATE),
    ("cn-plain-b-statutory", MARKET_CN, False, False, P, B, PRICE - RET, 0, True, DONATE),
    ("cn-defective-merchant-ships", MARKET_CN, True, False, D, A, PRICE, 0, True, RESTOCK),
    # US: no statutory right; grade terms only
    ("us-a", MARKET_US, True, False, S, A, PRICE, 0, False, RESTOCK),
    ("us-b", MARKET_US, True, False, P, B, pct(7_500) - RET, 0, False, DONATE),
    ("us-c", MARKET_US, True, False, U, C, 0, pct(5_000), False, RECYCLE),
]


def settle(shop, escrow, order, facts, grade):
    """Inspects and, for B/C, has the buyer accept; returns the OrderSettled event."""
    tx = shop.inspect(order, facts, grade)
    if grade != A:
        tx = escrow.acceptInspection(order, {"from": shop.actors["buyer"].account})
    return tx.events["OrderSettled"]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_settlement_amounts(shop, escrow, points, actors, plain_gtin, case):
    _, market, sealed, late, facts, grade, refund, pts, statutory, disposition = case
    buyer, brand = actors["buyer"].address, actors["brand"].address
    order = shop.buy(market=market, gtin=GTIN_INT if sealed else plain_gtin)
    shop.deliver(order)
    if late:
        chain.sleep(20 * DAY)
    shop.request_return(order)
    shop.receive(order)
    assert escrow.order(order)["statutory"] is (market != MARKET_US and not late)

    quoted = escrow.quote(order, grade)  # before inspection the seal counts as broken
    ev = settle(shop, escrow, order, facts, grade)
    assert (ev["grade"], ev["statutory"], ev["refund"], ev["points"], ev["disposition"]) == (grade, statutory, refund, pts, disposition)
    assert ev["merchantAmount"] == PRICE + DEL - refund
    assert escrow.credits(ZERO_ADDRESS, buyer) == refund
    assert escrow.credits(ZERO_ADDRESS, brand) == PRICE + DEL - refund
    assert points.pointsOf(buyer, brand) == pts
    assert points.balanceOf(buyer, points.pointsId(brand)) == pts
    assert escrow.order(order)["grade"] == grade
    shop.assert_solvent()
    # After inspection the quote uses the attested facts and matches the settlement.
    assert plain(escrow.quote(order, grade)) == (statutory, refund, PRICE + DEL - refund, pts, disposition)
    if not (sealed and market != MARKET_US and statutory):
        assert plain(quoted) == plain(escrow.quote(order, grade))


def test_both_parties_withdraw_their_shares(shop, escrow, actors):
    order = shop.returned()
    ev = settle(shop, escrow, order, P, B)  # 80 % minus return shipping
    for name, amount in (("buyer", ev["refund"]), ("brand", ev["merchantAmount"])):
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
    b = settle(shop, escrow, b_order, P, B)
    shop.assert_solvent(token)
    c = settle(shop, escrow, c_order, U, C)
    shop.assert_solvent(token)
    assert b["refund"] == 799_999 - ret
    assert (c["refund"], c["points"]) == (0, 299_999)
    assert escrow.credits(token, buyer.address) == 799_999 - ret
    assert escrow.credits(token, brand.address) == 2 * (price + fee) - (799_999 - ret)
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0
    assert points.pointsOf(buyer.address, brand.address) == 299_999

    before = token.balanceOf(buyer.address), token.balanceOf(brand.address)
    escrow.withdraw(token, {"from": buyer.account})
    shop.assert_solvent(token)
    escrow.withdraw(token, {"from": brand.account})
    shop.assert_solvent(token)
    assert token.balanceOf(buyer.address) == before[0] + 799_999 - ret
    assert token.balanceOf(brand.address) == before[1] + 2 * (price + fee) - (799_999 - ret)
    assert token.balanceOf(escrow) == 0 == escrow.totalOwed(token)


def spare_policy(escrow, admin, b_terms):
    policy = replace(US, terms=(US.terms[0], b_terms, US.terms[2]))
    escrow.setPolicy(MARKET_SPARE, policy.as_tuple(), {"from": admin})


@pytest.mark.parametrize("merchant_pays, refund", [(True, pct(6_000)), (False, pct(6_000) - RET)])
def test_return_shipping_is_merchants_or_deducted(shop, escrow, admin, plain_gtin, merchant_pays, refund):
    spare_policy(escrow, admin, GradeTerms(6_000, 0, merchant_pays, DONATE))
    order = shop.returned(market=MARKET_SPARE, gtin=plain_gtin)
    ev = settle(shop, escrow, order, P, B)
    assert (ev["refund"], ev["merchantAmount"]) == (refund, PRICE + DEL - refund)
    shop.assert_solvent()


def test_return_shipping_above_refund_leaves_zero_not_negative(shop, escrow, admin, points, actors, plain_gtin):
    spare_policy(escrow, admin, GradeTerms(100, 2_000, False, DONATE))  # 1 % refund < 3 % shipping
    order = shop.returned(market=MARKET_SPARE, gtin=plain_gtin)
    ev = settle(shop, escrow, order, P, B)
    assert (ev["refund"], ev["merchantAmount"], ev["points"]) == (0, PRICE + DEL, pct(2_000))
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert points.pointsOf(actors["buyer"].address, actors["brand"].address) == pct(2_000)
    shop.assert_solvent()


def test_statutory_without_delivery_refund_keeps_delivery_fee(shop, escrow, admin, plain_gtin):
    policy = replace(EU, refunds_delivery_on_withdrawal=False)
    escrow.setPolicy(MARKET_SPARE, policy.as_tuple(), {"from": admin})
    order = shop.returned(market=MARKET_SPARE, gtin=plain_gtin)
    ev = settle(shop, escrow, order, S | P, A)
    assert (ev["statutory"], ev["refund"], ev["merchantAmount"]) == (True, PRICE, DEL)


def test_no_hygiene_exemption_keeps_statutory_right(shop, escrow, admin):
    """A market without the Art. 16(e) exemption refunds an opened hygiene-sealed unit statutorily."""
    escrow.setPolicy(MARKET_EU, replace(EU, hygiene_exempt=False).as_tuple(), {"from": admin})
    order = shop.returned()
    ev = settle(shop, escrow, order, P, B)
    assert (ev["statutory"], ev["refund"]) == (True, PRICE + DEL - RET)


def test_points_accumulate_per_merchant(shop, escrow, points, actors):
    for _ in range(2):
        order = shop.returned(market=MARKET_US)
        settle(shop, escrow, order, U, C)
    assert points.pointsOf(actors["buyer"].address, actors["brand"].address) == 2 * pct(5_000)
    assert points.pointsOf(actors["buyer"].address, actors["brand2"].address) == 0


def test_quote_for_active_order_follows_the_clock(shop, escrow, plain_gtin):
    sealed = shop.buy()
    assert escrow.quote(sealed, A)["statutory"] is False  # before inspection the hygiene seal counts as broken
    order = shop.buy(gtin=plain_gtin)
    assert plain(escrow.quote(order, A)) == (True, PRICE + DEL, 0, 0, RESTOCK)  # undelivered: window not started
    shop.deliver(order)
    chain.sleep(20 * DAY)
    chain.mine()
    assert plain(escrow.quote(order, A)) == (False, PRICE, DEL, 0, RESTOCK)
    with brownie.reverts(err("ReturnEscrowInvalidGrade", 0)):
        escrow.quote(order, 0)
