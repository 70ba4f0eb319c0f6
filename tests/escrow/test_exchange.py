"""Exchange-first remedy: the buyer may take a voucher in the merchant's store points worth the cash
refund plus the policy's bonus, only where the policy offers it and only when the buyer chose it
(EU 2011/83 Art. 13(1)); the choice stays revocable until the refund is paid, and a timeout refund
is cash. The merchant keeps the cash of an exchange."""

from dataclasses import replace

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712
from returntrace.escrow import Facts, Grade, PolicyViolation, SettlementPath
from returntrace.policies import EU, NATIVE, US, US_LAW
from tests.support import (
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    MARKET_CN,
    MARKET_EU,
    MARKET_SPARE,
    MARKET_US,
    Remedy,
    Status,
    err,
    next_block_at,
)

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
FACTS = {A: S | P, B: P, C: U}  # facts that give each grade under both presets
TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
BPS_VIOLATION, BONUS_VIOLATION = PolicyViolation.BPS_ABOVE_MAX, PolicyViolation.BONUS_WITHOUT_EXCHANGE
REASON, RULING = b"\x0a" * 32, b"\x0b" * 32
GRADED, ARBITRATED, OVERDUE, UNINSPECTED = (
    SettlementPath.GRADED,
    SettlementPath.ARBITRATED,
    SettlementPath.OVERDUE,
    SettlementPath.UNINSPECTED,
)


def voucher(refund, bonus_bps):
    return refund + refund * bonus_bps // 10_000


def pts(points, actors, holder="buyer", currency=ZERO_ADDRESS):
    """The buyer's points with the brand, in the order's currency (issue 9: points per merchant and currency)."""
    return points.pointsOf(actors[holder].address, actors["brand"].address, currency)


@pytest.fixture
def spare_market(policies, admin):
    """Market 3 under a law without withdrawal (as the US) and selling in the native coin; the test sets its policy."""
    policies.setLaw(MARKET_SPARE, US_LAW.as_tuple(), {"from": admin})
    policies.setCurrency(MARKET_SPARE, ZERO_ADDRESS, NATIVE.as_tuple(), {"from": admin})
    return MARKET_SPARE


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
    s = ev["settlement"]
    expected_points = voucher(DEFAULT_PRICE, US.exchange_bonus_bps)  # US A: merchant pays shipping
    assert expected_points == 11 * 10**17
    assert (ev["grade"], s["refund"], s["merchantAmount"], s["points"]) == (A, 0, TOTAL, expected_points)
    assert (s["voucher"], s["bonus"]) == (expected_points, 10**17)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    assert pts(points, actors) == expected_points
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_cash_refund_of_same_return_for_comparison(shop, escrow, points, actors):
    order = shop.returned(market=MARKET_US)
    s = shop.inspect(order, S | P, A).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["merchantAmount"], s["points"], s["voucher"]) == (DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, 0, 0)
    assert pts(points, actors) == 0
    shop.assert_solvent()


def test_quote_shows_exchange_voucher(shop, escrow):
    order = exchange_returned(shop)
    q = escrow.quote(order, A, S | P, 0)
    assert (q["refund"], q["merchantAmount"], q["points"]) == (0, TOTAL, voucher(DEFAULT_PRICE, US.exchange_bonus_bps))


@pytest.mark.parametrize("grade", [A, B, C])
def test_quote_exchange_equals_cash_refund_plus_bonus(shop, escrow, grade):
    cash = shop.returned(market=MARKET_US)
    exch = exchange_returned(shop)
    qc, qe = escrow.quote(cash, grade, FACTS[grade], 0), escrow.quote(exch, grade, FACTS[grade], 0)
    assert qe["refund"] == 0
    assert qe["merchantAmount"] == TOTAL
    assert qe["points"] == qc["points"] + voucher(qc["refund"], US.exchange_bonus_bps)
    assert qe["disposition"] == qc["disposition"]


def test_statutory_eu_exchange_includes_delivery_fee(shop, escrow, points, actors):
    order = exchange_returned(shop, market=MARKET_EU)
    assert escrow.order(order)["inWithdrawal"]
    s = shop.inspect(order, S | P, A).events["OrderSettled"]["settlement"]
    expected_points = voucher(TOTAL, EU.exchange_bonus_bps)  # P + D, plus 5 %
    assert expected_points == 1_1025 * 10**14
    assert (s["statutory"], s["refund"], s["merchantAmount"], s["points"]) == (True, 0, TOTAL, expected_points)
    assert pts(points, actors) == expected_points
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


def test_grade_c_exchange_vouches_the_statutory_c_refund_and_adds_c_points(shop, escrow, points, actors, plain_gtin):
    """Issue 9 (EU Art. 14(2)): a used unit returned in the withdrawal period keeps the right less the
    attested diminished value, so the voucher is worth P + D - v - F plus the bonus (was: the grade
    C terms' 0 % of the price); the grade's 30 % points come on top."""
    order = exchange_returned(shop, market=MARKET_EU, gtin=plain_gtin)
    value = DEFAULT_PRICE // 5  # 20 %, within the policy's 30 % cap
    shop.inspect(order, U | S | P, C, diminishedValue=value)
    assert escrow.order(order)["status"] == Status.INSPECTED
    ev = escrow.acceptInspection(order, {"from": actors["buyer"].account}).events["OrderSettled"]
    s = ev["settlement"]
    c_refund = DEFAULT_PRICE - value + DEFAULT_DELIVERY_FEE - DEFAULT_RETURN_FEE
    c_points = DEFAULT_PRICE * 3_000 // 10_000
    expected_points = c_points + voucher(c_refund, EU.exchange_bonus_bps)
    assert expected_points == 1_161 * 10**15
    assert (ev["grade"], s["statutory"], s["refund"], s["merchantAmount"], s["points"]) == (
        C,
        True,
        0,
        TOTAL,
        expected_points,
    )
    assert (s["voucher"], s["diminished"], s["shippingDeducted"]) == (
        voucher(c_refund, EU.exchange_bonus_bps),
        value,
        DEFAULT_RETURN_FEE,
    )
    assert pts(points, actors) == expected_points
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    shop.assert_solvent()


def test_grade_b_exchange_by_arbiter(shop, escrow, points, actors):
    order = exchange_returned(shop)
    shop.inspect(order, P, B)
    escrow.contest(order, {"from": actors["buyer"].account})
    ev = escrow.resolveDispute(order, P, 0, REASON, RULING, {"from": actors["arbiter"].account}).events["OrderSettled"]
    s = ev["settlement"]
    b_refund = DEFAULT_PRICE * 7_500 // 10_000 - DEFAULT_RETURN_FEE
    assert (ev["path"], ev["grade"]) == (ARBITRATED, B)
    assert (s["refund"], s["merchantAmount"], s["points"]) == (0, TOTAL, voucher(b_refund, US.exchange_bonus_bps))
    assert pts(points, actors) == voucher(b_refund, US.exchange_bonus_bps)
    shop.assert_solvent()


def test_timeout_refund_of_exchange_stays_cash(shop, escrow, points, actors):
    """Cash, in full, whatever the buyer chose. Issue 9: the order is left Refunded (money paid,
    facts unknown), so a later inspection still decides where the unit goes."""
    order = exchange_returned(shop)
    chain.sleep(US.inspection_sla + 5)
    tx = escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    ev = tx.events["OrderSettled"]
    s = ev["settlement"]
    assert (ev["path"], ev["grade"], s["refund"], s["merchantAmount"], s["points"], s["voucher"]) == (
        UNINSPECTED,
        Grade.NONE,
        TOTAL,
        0,
        0,
        0,
    )
    assert escrow.order(order)["status"] == Status.REFUNDED
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    assert pts(points, actors) == 0
    shop.assert_solvent()


def test_overdue_statutory_refund_of_exchange_stays_cash(shop, escrow, points, actors):
    """The merchant let the statutory refund fall overdue: the buyer is paid in the purchase currency,
    not in the merchant's own points (issue 9: every timeout refund is cash)."""
    order = exchange_returned(shop, market=MARKET_EU)
    due = escrow.refundDueAt(order)
    next_block_at(due + 1)
    ev = escrow.claimOverdueRefund(order, {"from": actors["buyer"].account}).events["OrderSettled"]
    s = ev["settlement"]
    # Uninspected: as grade A with the seal intact, so the EU statutory amount P + D (grade A terms bear the shipping).
    assert (ev["path"], s["statutory"], s["refund"], s["points"], s["voucher"]) == (OVERDUE, True, TOTAL, 0, 0)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    assert pts(points, actors) == 0
    shop.assert_solvent()


def test_exchange_settled_in_token(shop, escrow, points, actors, token):
    price, fee = 100 * 10**6, 5 * 10**6
    order = exchange_returned(shop, token=token, price=price, delivery_fee=fee, return_fee=3 * 10**6)
    s = shop.inspect(order, S | P, A).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["merchantAmount"], s["points"]) == (0, price + fee, voucher(price, US.exchange_bonus_bps))
    assert escrow.credits(token, actors["brand"].address) == price + fee
    # The voucher is in the brand's points for that currency, not for the native coin.
    assert pts(points, actors, currency=token.address) == voucher(price, US.exchange_bonus_bps)
    assert pts(points, actors) == 0
    shop.assert_solvent(token)


# ---------------------------------------------------------------- revocable until paid


def test_buyer_revokes_the_exchange_before_the_inspection(shop, escrow, points, actors):
    order = exchange_returned(shop)
    tx = escrow.chooseRemedy(order, Remedy.REFUND, {"from": actors["buyer"].account})
    assert (tx.events["RemedyChosen"]["orderId"], tx.events["RemedyChosen"]["remedy"]) == (order, Remedy.REFUND)
    s = shop.inspect(order, S | P, A).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["points"], s["voucher"]) == (DEFAULT_PRICE, 0, 0)
    assert pts(points, actors) == 0
    shop.assert_solvent()


def test_buyer_chooses_the_exchange_after_the_inspection_until_it_is_paid(shop, escrow, points, actors):
    order = shop.returned(market=MARKET_US)
    shop.inspect(order, P, B)
    buyer = actors["buyer"].account
    escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": buyer})
    s = escrow.acceptInspection(order, {"from": buyer}).events["OrderSettled"]["settlement"]
    b_refund = DEFAULT_PRICE * 7_500 // 10_000 - DEFAULT_RETURN_FEE
    assert (s["refund"], s["points"]) == (0, voucher(b_refund, US.exchange_bonus_bps))
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        escrow.chooseRemedy(order, Remedy.REFUND, {"from": buyer})
    assert pts(points, actors) == voucher(b_refund, US.exchange_bonus_bps)


def test_only_the_buyer_chooses_the_remedy(shop, escrow, actors):
    order = exchange_returned(shop)
    for who in ("brand", "stranger"):
        with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors[who].address)):
            escrow.chooseRemedy(order, Remedy.REFUND, {"from": actors[who].account})
    assert escrow.order(order)["remedy"] == Remedy.EXCHANGE


def test_exchange_cannot_be_chosen_where_not_offered(shop, escrow, actors):
    order = shop.returned(market=MARKET_CN)
    with brownie.reverts(err("ReturnEscrowExchangeNotOffered", order)):
        escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowInvalidRemedy", 2)):
        escrow.chooseRemedy(order, 2, {"from": actors["buyer"].account})


def test_no_remedy_to_choose_before_a_return_is_requested(shop, escrow, actors):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.ACTIVE)):
        escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- relayed request


def test_relayed_signed_exchange_request(shop, escrow, escrow_domain, sign, relayer, actors, points):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    message, sig = sign(
        escrow_domain, "ReturnRequest", actors["buyer"], orderId=order, reason=5, remedy=Remedy.EXCHANGE
    )
    tx = escrow.requestReturnBySig(eip712.call_args("ReturnRequest", message, sig)[:-1], sig, {"from": relayer})
    ev = tx.events["ReturnRequested"]
    assert (ev["orderId"], ev["buyer"], ev["reason"], ev["remedy"]) == (
        order,
        actors["buyer"].address,
        5,
        Remedy.EXCHANGE,
    )
    assert escrow.order(order)["remedy"] == Remedy.EXCHANGE
    shop.receive(order)
    assert shop.inspect(order, S | P, A).events["OrderSettled"]["settlement"]["points"] == voucher(
        DEFAULT_PRICE, US.exchange_bonus_bps
    )
    shop.assert_solvent()


def test_relayed_request_remedy_is_signed(shop, escrow, escrow_domain, sign, relayer, actors):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    message, sig = sign(escrow_domain, "ReturnRequest", actors["buyer"], orderId=order, reason=0, remedy=Remedy.REFUND)
    tampered = {**message, "remedy": Remedy.EXCHANGE}
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        escrow.requestReturnBySig(eip712.call_args("ReturnRequest", tampered, sig)[:-1], sig, {"from": relayer})


def test_relayed_exchange_request_not_offered_in_cn(shop, escrow, escrow_domain, sign, relayer, actors):
    order = shop.buy(market=MARKET_CN)
    shop.deliver(order)
    message, sig = sign(
        escrow_domain, "ReturnRequest", actors["buyer"], orderId=order, reason=0, remedy=Remedy.EXCHANGE
    )
    with brownie.reverts(err("ReturnEscrowExchangeNotOffered", order)):
        escrow.requestReturnBySig(eip712.call_args("ReturnRequest", message, sig)[:-1], sig, {"from": relayer})


# ---------------------------------------------------------------- policy rule (ReturnPolicies.setPolicy, policy admin)


def test_bonus_without_exchange_is_refused(policies, admin, spare_market):
    with brownie.reverts(err("ReturnPoliciesInvalidPolicy", BONUS_VIOLATION)):
        policies.setPolicy(
            spare_market, replace(US, exchange_offered=False, exchange_bonus_bps=1).as_tuple(), {"from": admin}
        )


def test_bonus_above_the_whole_refund_is_refused(policies, admin, spare_market):
    with brownie.reverts(err("ReturnPoliciesInvalidPolicy", BPS_VIOLATION)):
        policies.setPolicy(spare_market, replace(US, exchange_bonus_bps=10_001).as_tuple(), {"from": admin})
    policies.setPolicy(spare_market, replace(US, exchange_bonus_bps=10_000).as_tuple(), {"from": admin})


def test_exchange_without_bonus_is_allowed(policies, admin, spare_market):
    policies.setPolicy(
        spare_market, replace(US, exchange_offered=True, exchange_bonus_bps=0).as_tuple(), {"from": admin}
    )
    assert policies.policy(spare_market, 1)["exchangeOffered"]


def test_exchange_with_zero_bonus_voucher_equals_cash_refund(
    shop, escrow, policies, admin, points, actors, plain_gtin, spare_market
):
    policies.setPolicy(spare_market, replace(US, exchange_bonus_bps=0).as_tuple(), {"from": admin})
    order = exchange_returned(shop, market=spare_market, gtin=plain_gtin)
    s = shop.inspect(order, S | P, A).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["merchantAmount"], s["points"], s["bonus"]) == (0, TOTAL, DEFAULT_PRICE, 0)
    shop.assert_solvent()


def test_policy_change_does_not_withdraw_offered_exchange(shop, escrow, policies, admin):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    policies.setPolicy(MARKET_US, replace(US, exchange_offered=False, exchange_bonus_bps=0).as_tuple(), {"from": admin})
    shop.request_return(order, remedy=Remedy.EXCHANGE)  # the order keeps its policy version
    assert escrow.order(order)["remedy"] == Remedy.EXCHANGE
