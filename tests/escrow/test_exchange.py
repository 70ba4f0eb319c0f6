"""Exchange-first remedy: the buyer may take a voucher in the merchant's store points worth the cash
refund plus the policy's bonus, only where the policy offers it; the merchant keeps the cash."""

from dataclasses import replace

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712
from returntrace.policies import CN, EU, US, Facts, Grade
from tests.support import DAY, DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, MARKET_CN, MARKET_EU, MARKET_SPARE, MARKET_US, Remedy, Status, err

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
BONUS_VIOLATION = 7  # PolicyViolation.BonusWithoutExchange


def voucher(refund, bonus_bps):
    return refund + refund * bonus_bps // 10_000


def pts(points, actors, holder="buyer"):
    return points.balanceOf(actors[holder].address, int(actors["brand"].address, 16))


def exchange_returned(shop, market=MARKET_US, **buy):
    order = shop.buy(market=market, **buy)
    shop.deliver(order)
    shop.request_return(order, remedy=Remedy.EXCHANGE)
    shop.receive(order)
    return order


# ---------------------------------------------------------------- requesting an exchange


def test_exchange_request_records_remedy(shop, escrow, actors):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    tx = shop.request_return(order, remedy=Remedy.EXCHANGE)
    ev = tx.events["ReturnRequested"]
    assert (ev["orderId"], ev["buyer"], ev["remedy"]) == (order, actors["buyer"].address, Remedy.EXCHANGE)
    o = escrow.order(order)
    assert (o["status"], o["remedy"]) == (Status.RETURN_REQUESTED, Remedy.EXCHANGE)
    shop.assert_solvent()


def test_cash_request_event_remedy_is_refund(shop, escrow):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    tx = shop.request_return(order)
    assert tx.events["ReturnRequested"]["remedy"] == Remedy.REFUND
    assert escrow.order(order)["remedy"] == Remedy.REFUND


def test_exchange_not_offered_in_cn(shop, escrow):
    order = shop.buy(market=MARKET_CN)
    shop.deliver(order)
    with brownie.reverts(err("ReturnEscrowExchangeNotOffered", order)):
        shop.request_return(order, remedy=Remedy.EXCHANGE)
    assert escrow.order(order)["status"] == Status.ACTIVE
    shop.request_return(order, remedy=Remedy.REFUND)  # cash is always possible
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    shop.assert_solvent()


@pytest.mark.parametrize("remedy", [2, 255])
def test_invalid_remedy_reverts(shop, remedy):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    with brownie.reverts(err("ReturnEscrowInvalidRemedy", remedy)):
        shop.request_return(order, remedy=remedy)


def test_invalid_remedy_reverts_even_where_exchange_is_not_offered(shop):
    order = shop.buy(market=MARKET_CN)
    shop.deliver(order)
    with brownie.reverts(err("ReturnEscrowInvalidRemedy", 2)):
        shop.request_return(order, remedy=2)


# ---------------------------------------------------------------- the voucher


def test_grade_a_exchange_mints_voucher_and_pays_merchant_cash(shop, escrow, points, actors):
    order = exchange_returned(shop)
    tx = shop.inspect(order, S | P, A)
    ev = tx.events["OrderSettled"]
    expected_points = voucher(DEFAULT_PRICE, US.exchange_bonus_bps)  # US A: merchant pays shipping
    assert expected_points == 11 * 10**17
    assert (ev["grade"], ev["refund"], ev["merchantAmount"], ev["points"]) == (A, 0, TOTAL, expected_points)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    assert pts(points, actors) == expected_points
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_cash_refund_of_same_return_for_comparison(shop, escrow, points, actors):
    order = shop.returned(market=MARKET_US)
    ev = shop.inspect(order, S | P, A).events["OrderSettled"]
    assert (ev["refund"], ev["merchantAmount"], ev["points"]) == (DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, 0)
    assert pts(points, actors) == 0
    shop.assert_solvent()


def test_quote_shows_exchange_voucher(shop, escrow):
    order = exchange_returned(shop)
    q = escrow.quote(order, A)
    assert (q["refund"], q["merchantAmount"], q["points"]) == (0, TOTAL, voucher(DEFAULT_PRICE, US.exchange_bonus_bps))


@pytest.mark.parametrize("grade", [A, B, C])
def test_quote_exchange_equals_cash_refund_plus_bonus(shop, escrow, grade):
    cash = shop.returned(market=MARKET_US)
    exch = exchange_returned(shop)
    qc, qe = escrow.quote(cash, grade), escrow.quote(exch, grade)
    assert qe["refund"] == 0
    assert qe["merchantAmount"] == TOTAL
    assert qe["points"] == qc["points"] + voucher(qc["refund"], US.exchange_bonus_bps)
    assert qe["disposition"] == qc["disposition"]


def test_statutory_eu_exchange_includes_delivery_fee(shop, escrow, points, actors):
    order = exchange_returned(shop, market=MARKET_EU)
    assert escrow.order(order)["statutory"]
    ev = shop.inspect(order, S | P, A).events["OrderSettled"]
    expected_points = voucher(TOTAL, EU.exchange_bonus_bps)  # P + D, plus 5 %
    assert expected_points == 1_1025 * 10**14
    assert (ev["statutory"], ev["refund"], ev["merchantAmount"], ev["points"]) == (True, 0, TOTAL, expected_points)
    assert pts(points, actors) == expected_points
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


def test_grade_c_exchange_adds_voucher_of_c_refund_to_c_points(shop, escrow, points, actors, plain_gtin):
    order = exchange_returned(shop, market=MARKET_EU, gtin=plain_gtin)
    shop.inspect(order, U | S | P, C)
    assert escrow.order(order)["status"] == Status.INSPECTED
    ev = escrow.acceptInspection(order, {"from": actors["buyer"].account}).events["OrderSettled"]
    # Statutory C in the EU: refund = 0 % of P + D, less the return shipping; points = 30 % of P.
    c_refund = DEFAULT_DELIVERY_FEE - DEFAULT_RETURN_FEE
    c_points = DEFAULT_PRICE * 3_000 // 10_000
    expected_points = c_points + voucher(c_refund, EU.exchange_bonus_bps)
    assert expected_points == 321 * 10**15
    assert (ev["grade"], ev["refund"], ev["merchantAmount"], ev["points"]) == (C, 0, TOTAL, expected_points)
    assert pts(points, actors) == expected_points
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    shop.assert_solvent()


def test_grade_b_exchange_by_arbiter(shop, escrow, points, actors):
    order = exchange_returned(shop)
    shop.inspect(order, P, B)
    escrow.contest(order, {"from": actors["buyer"].account})
    ev = escrow.resolveDispute(order, B, {"from": actors["arbiter"].account}).events["OrderSettled"]
    b_refund = DEFAULT_PRICE * 7_500 // 10_000 - DEFAULT_RETURN_FEE
    assert (ev["refund"], ev["merchantAmount"], ev["points"]) == (0, TOTAL, voucher(b_refund, US.exchange_bonus_bps))
    assert pts(points, actors) == voucher(b_refund, US.exchange_bonus_bps)
    shop.assert_solvent()


def test_timeout_refund_of_exchange_stays_cash(shop, escrow, points, actors):
    order = exchange_returned(shop)
    chain.sleep(US.inspection_sla + 5)
    tx = escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    ev = tx.events["OrderSettled"]
    assert (ev["grade"], ev["refund"], ev["merchantAmount"], ev["points"]) == (Grade.NONE, TOTAL, 0, 0)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    assert pts(points, actors) == 0
    shop.assert_solvent()


def test_overdue_statutory_refund_of_exchange_stays_cash(shop, escrow, points, actors):
    order = exchange_returned(shop, market=MARKET_EU)
    chain.sleep(EU.refund_deadline + 5)
    ev = escrow.claimOverdueRefund(order, {"from": actors["buyer"].account}).events["OrderSettled"]
    assert (ev["refund"], ev["points"]) == (TOTAL, 0)
    assert pts(points, actors) == 0
    shop.assert_solvent()


def test_exchange_settled_in_token(shop, escrow, points, actors, token):
    price, fee = 100 * 10**6, 5 * 10**6
    order = exchange_returned(shop, token=token, price=price, delivery_fee=fee, return_fee=3 * 10**6)
    ev = shop.inspect(order, S | P, A).events["OrderSettled"]
    assert (ev["refund"], ev["merchantAmount"], ev["points"]) == (0, price + fee, voucher(price, US.exchange_bonus_bps))
    assert escrow.credits(token, actors["brand"].address) == price + fee
    shop.assert_solvent(token)


# ---------------------------------------------------------------- relayed request


def test_relayed_signed_exchange_request(shop, escrow, escrow_domain, sign, relayer, actors, points):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    message, sig = sign(escrow_domain, "ReturnRequest", actors["buyer"], contract=escrow, orderId=order, reason=5, remedy=Remedy.EXCHANGE)
    tx = escrow.requestReturnBySig(eip712.call_args("ReturnRequest", message, sig)[:-1], sig, {"from": relayer})
    ev = tx.events["ReturnRequested"]
    assert (ev["orderId"], ev["buyer"], ev["reason"], ev["remedy"]) == (order, actors["buyer"].address, 5, Remedy.EXCHANGE)
    assert escrow.order(order)["remedy"] == Remedy.EXCHANGE
    shop.receive(order)
    assert shop.inspect(order, S | P, A).events["OrderSettled"]["points"] == voucher(DEFAULT_PRICE, US.exchange_bonus_bps)
    shop.assert_solvent()


def test_relayed_request_remedy_is_signed(shop, escrow, escrow_domain, sign, relayer, actors):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    message, sig = sign(escrow_domain, "ReturnRequest", actors["buyer"], contract=escrow, orderId=order, reason=0, remedy=Remedy.REFUND)
    tampered = {**message, "remedy": Remedy.EXCHANGE}
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        escrow.requestReturnBySig(eip712.call_args("ReturnRequest", tampered, sig)[:-1], sig, {"from": relayer})


def test_relayed_exchange_request_not_offered_in_cn(shop, escrow, escrow_domain, sign, relayer, actors):
    order = shop.buy(market=MARKET_CN)
    shop.deliver(order)
    message, sig = sign(escrow_domain, "ReturnRequest", actors["buyer"], contract=escrow, orderId=order, reason=0, remedy=Remedy.EXCHANGE)
    with brownie.reverts(err("ReturnEscrowExchangeNotOffered", order)):
        escrow.requestReturnBySig(eip712.call_args("ReturnRequest", message, sig)[:-1], sig, {"from": relayer})


# ---------------------------------------------------------------- policy rule


def test_bonus_without_exchange_is_refused(escrow, admin):
    with brownie.reverts(err("ReturnEscrowInvalidPolicy", BONUS_VIOLATION)):
        escrow.setPolicy(MARKET_SPARE, replace(CN, exchange_bonus_bps=1).as_tuple(), {"from": admin})


def test_bonus_above_the_whole_refund_is_refused(escrow, admin):
    with brownie.reverts(err("ReturnEscrowInvalidPolicy", 0)):  # BpsAboveMax
        escrow.setPolicy(MARKET_SPARE, replace(US, exchange_bonus_bps=10_001).as_tuple(), {"from": admin})
    escrow.setPolicy(MARKET_SPARE, replace(US, exchange_bonus_bps=10_000).as_tuple(), {"from": admin})


def test_exchange_without_bonus_is_allowed(escrow, admin):
    escrow.setPolicy(MARKET_SPARE, replace(CN, exchange_offered=True).as_tuple(), {"from": admin})
    assert escrow.policy(MARKET_SPARE, 1)["exchangeOffered"]


def test_exchange_with_zero_bonus_voucher_equals_cash_refund(shop, escrow, admin, points, actors, plain_gtin):
    escrow.setPolicy(MARKET_SPARE, replace(US, exchange_bonus_bps=0).as_tuple(), {"from": admin})
    order = exchange_returned(shop, market=MARKET_SPARE, gtin=plain_gtin)
    ev = shop.inspect(order, S | P, A).events["OrderSettled"]
    assert (ev["refund"], ev["merchantAmount"], ev["points"]) == (0, TOTAL, DEFAULT_PRICE)
    shop.assert_solvent()


def test_policy_change_does_not_withdraw_offered_exchange(shop, escrow, admin):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    escrow.setPolicy(MARKET_US, replace(US, exchange_offered=False, exchange_bonus_bps=0).as_tuple(), {"from": admin})
    shop.request_return(order, remedy=Remedy.EXCHANGE)  # the order keeps its policy version
    assert escrow.order(order)["remedy"] == Remedy.EXCHANGE
