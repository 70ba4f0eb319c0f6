"""Refund on receipt: where the policy grants it, the refund is released at an accredited return
center's receiving scan, as grade A with the seal intact; the later inspection only decides the
unit's disposition. Issue 9: the release is an OrderSettled (path OnReceipt, no grade) after the
RefundReleasedOnReceipt event, which names only the center."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import gs1
from returntrace.escrow import Facts, Grade, SettlementPath, UnitDisposition
from returntrace.policies import US
from tests.support import (
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_CN,
    MARKET_EU,
    MARKET_US,
    Remedy,
    Status,
    err,
)

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
OTHER_GLN = int(gs1.with_check_digit("950600000099"))
ON_RECEIPT, UNINSPECTED = SettlementPath.ON_RECEIPT, SettlementPath.UNINSPECTED


def released(tx):
    """The settlement a release on receipt paid (the OrderSettled that follows RefundReleasedOnReceipt)."""
    ev = tx.events["OrderSettled"]
    assert (ev["path"], ev["grade"]) == (ON_RECEIPT, Grade.NONE)
    return ev["settlement"]


def pts(points, actors):
    return points.pointsOf(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS)


@pytest.fixture
def center(registry, admin, actors):
    """The warehouse's own site is an accredited return center for the EU and the US."""
    wh = actors["warehouse"].gln
    registry.setReturnCenter(wh, wh, (1 << MARKET_EU) | (1 << MARKET_US), {"from": admin})
    return wh


def requested(shop, market=MARKET_US, remedy=Remedy.REFUND, **buy):
    order = shop.buy(market=market, **buy)
    shop.deliver(order)
    shop.request_return(order, remedy=remedy)
    return order


def serial_of_last(shop):
    return shop.last_serial


# ---------------------------------------------------------------- release


def test_released_at_accredited_receiving_scan(shop, escrow, actors, center):
    order = requested(shop)
    shop.receive(order)
    q = escrow.quote(order, A, S | P, 0)
    tx = escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    ev = tx.events["RefundReleasedOnReceipt"]
    assert (ev["orderId"], ev["location"]) == (order, center)
    s = released(tx)
    assert (s["refund"], s["merchantAmount"], s["points"]) == (DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, 0)
    assert (s["refund"], s["merchantAmount"]) == (q["refund"], q["merchantAmount"])
    assert list(tx.events.keys()).index("RefundReleasedOnReceipt") < list(tx.events.keys()).index("OrderSettled")
    assert escrow.order(order)["status"] == Status.REFUNDED
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == DEFAULT_PRICE
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == DEFAULT_DELIVERY_FEE
    shop.assert_solvent()


def test_statutory_eu_release_refunds_price_and_delivery(shop, escrow, actors, center):
    order = requested(shop, market=MARKET_EU)  # hygiene-sealed: released as if the seal were intact
    shop.receive(order)
    s = released(escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account}))
    assert (s["statutory"], s["refund"], s["merchantAmount"], s["points"]) == (True, TOTAL, 0, 0)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    shop.assert_solvent()


@pytest.mark.parametrize("caller", ["buyer", "brand", "warehouse", "stranger"])
def test_anyone_may_release(shop, escrow, actors, center, caller):
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors[caller].account})
    assert escrow.order(order)["status"] == Status.REFUNDED
    shop.assert_solvent()


def test_buyer_withdraws_released_refund(shop, escrow, actors, center):
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    buyer = actors["buyer"].account
    before = buyer.balance()
    escrow.withdraw(ZERO_ADDRESS, {"from": buyer, "gas_price": 0})
    assert buyer.balance() - before == DEFAULT_PRICE
    shop.assert_solvent()


def test_exchange_voucher_minted_at_receipt(shop, escrow, points, actors, center):
    order = requested(shop, remedy=Remedy.EXCHANGE)
    shop.receive(order)
    s = released(escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account}))
    voucher = DEFAULT_PRICE + DEFAULT_PRICE * US.exchange_bonus_bps // 10_000
    assert (s["refund"], s["merchantAmount"], s["points"], s["voucher"]) == (0, TOTAL, voucher, voucher)
    assert pts(points, actors) == voucher
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    # The disposition inspection mints nothing more.
    shop.inspect(order, U, C)
    assert pts(points, actors) == voucher
    shop.assert_solvent()


# ---------------------------------------------------------------- refusals


def test_no_refund_on_return_in_cn(shop, escrow, actors, registry, admin):
    wh = actors["warehouse"].gln
    registry.setReturnCenter(wh, wh, 1 << MARKET_CN, {"from": admin})
    order = requested(shop, market=MARKET_CN)
    shop.receive(order)
    with brownie.reverts(err("ReturnEscrowNoRefundOnReturn", order)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


def test_not_returned_without_scan(shop, escrow, actors, center):
    order = requested(shop)
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_unaccredited_location(shop, escrow, actors, center):
    order = requested(shop)
    shop.receive(order, location=OTHER_GLN)
    with brownie.reverts(err("ReturnEscrowCenterNotAccredited", order, OTHER_GLN, actors["warehouse"].gln)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_center_of_another_market(shop, escrow, actors, registry, admin):
    wh = actors["warehouse"].gln
    registry.setReturnCenter(wh, wh, 1 << MARKET_EU, {"from": admin})
    order = requested(shop, market=MARKET_US)
    shop.receive(order)
    with brownie.reverts(err("ReturnEscrowCenterNotAccredited", order, wh, wh)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_revoked_center(shop, escrow, actors, registry, admin, center):
    registry.setReturnCenter(center, center, 0, {"from": admin})
    order = requested(shop)
    shop.receive(order)
    with brownie.reverts(err("ReturnEscrowCenterNotAccredited", order, center, center)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_center_revoked_after_scan(shop, escrow, actors, registry, admin, center):
    order = requested(shop)
    shop.receive(order)
    registry.setReturnCenter(center, center, 0, {"from": admin})
    with brownie.reverts(err("ReturnEscrowCenterNotAccredited", order, center, center)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_center_run_by_another_organisation(shop, escrow, actors, registry, admin):
    wh = actors["warehouse"].gln
    registry.setReturnCenter(wh, actors["brand"].gln, (1 << MARKET_EU) | (1 << MARKET_US), {"from": admin})
    order = requested(shop)
    shop.receive(order)
    with brownie.reverts(err("ReturnEscrowCenterNotAccredited", order, wh, wh)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_released_twice_reverts(shop, escrow, actors, center):
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.REFUNDED)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == DEFAULT_PRICE
    shop.assert_solvent()


def test_release_before_return_request_reverts(shop, escrow, actors, center):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.ACTIVE)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_release_after_inspection_settled_reverts(shop, escrow, actors, center):
    order = requested(shop)
    shop.receive(order)
    shop.inspect(order, S | P, A)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})


def test_refunded_order_has_no_timeout_refund(shop, escrow, actors, center):
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    chain.sleep(US.inspection_sla + 5)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.REFUNDED)):
        escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- disposition inspection


@pytest.mark.parametrize(
    "facts, grade, disposition",
    [(S | P, A, UnitDisposition.RESTOCK), (P, B, UnitDisposition.DONATE), (U, C, UnitDisposition.RECYCLE)],
    ids=["A", "B", "C"],
)
def test_inspection_after_release_only_decides_disposition(shop, escrow, actors, center, facts, grade, disposition):
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    owed = escrow.totalOwed(ZERO_ADDRESS)
    tx = shop.inspect(order, facts, grade)
    ev = tx.events["DispositionDecided"]
    assert (ev["orderId"], ev["grade"], ev["disposition"]) == (order, grade, disposition)
    assert "OrderSettled" not in tx.events and "OrderInspected" not in tx.events
    o = escrow.order(order)
    assert (o["status"], o["grade"], o["facts"]) == (Status.SETTLED, grade, facts)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == DEFAULT_PRICE
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == DEFAULT_DELIVERY_FEE
    assert escrow.totalOwed(ZERO_ADDRESS) == owed
    shop.assert_solvent()


def test_inconsistent_disposition_grade_reverts(shop, escrow, actors, center):
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowGradeMismatch", order, A, B)):
        shop.inspect(order, P, A)
    assert escrow.order(order)["status"] == Status.REFUNDED


def test_disposition_inspection_by_merchant_organisation_refused(shop, escrow, registry, admin, actors, center):
    from returntrace.vocab import Role

    registry.setActor(actors["stranger"].address, Role.INSPECTOR, actors["brand"].gln, {"from": admin})
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", actors["stranger"].address, actors["brand"].gln)):
        shop.inspect(order, S | P, A, inspector="stranger")


def test_high_value_refunded_order_needs_one_disposition_inspection(shop, escrow, actors, center):
    price = 6 * 10**18
    order = requested(shop, price=price)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    shop.inspect(order, S | P, A)
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


# ---------------------------------------------------------------- relisting


def relist(escrow, actors, serial):
    return escrow.list(
        GTIN_INT,
        serial,
        MARKET_US,
        ZERO_ADDRESS,
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
        {"from": actors["brand"].account},
    )


def test_relist_after_restock_disposition(shop, escrow, actors, center):
    order = requested(shop)
    serial = serial_of_last(shop)
    unit = shop.unit(order)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        relist(escrow, actors, serial)  # fate not decided yet
    shop.inspect(order, S | P, A)
    relist(escrow, actors, serial)
    assert escrow.listing(unit)["merchant"] == actors["brand"].address


def test_no_relist_after_donate_disposition(shop, escrow, actors, center):
    order = requested(shop)
    serial = serial_of_last(shop)
    unit = shop.unit(order)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    shop.inspect(order, P, B)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        relist(escrow, actors, serial)


def test_disposition_inspection_after_the_sla_still_decides_the_fate(shop, escrow, actors, center):
    # The SLA protects the refund; once paid, a late inspection must still be able to decide where the unit goes.
    order = requested(shop)
    shop.receive(order)
    escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account})
    chain.sleep(US.inspection_sla + 1)
    tx = shop.inspect(order, S | P, A)
    assert tx.events["DispositionDecided"]["disposition"] == UnitDisposition.RESTOCK
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_sla_still_bounds_inspections_of_returns_not_refunded(shop, escrow, center):
    order = requested(shop)
    shop.receive(order)
    sla_end = escrow.returnReceivedAt(order) + US.inspection_sla
    chain.sleep(US.inspection_sla + 1)
    with brownie.reverts(err("ReturnEscrowSlaElapsed", order, sla_end)):
        shop.inspect(order, S | P, A)
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


# ---------------------------------------------------------------- ordering with inspection and timeouts


def test_inspection_releases_the_refund_first(shop, escrow, actors, center):
    # Whoever acts first, the refund upon return comes before the inspection: an inspector cannot
    # take the order down the graded path and cancel it.
    order = requested(shop)
    shop.receive(order)
    tx = shop.inspect(order, U, C)
    names = list(tx.events.keys())
    assert (
        names.index("RefundReleasedOnReceipt")
        < names.index("OrderSettled")
        < names.index("InspectionSubmitted")
        < names.index("DispositionDecided")
    )
    assert released(tx)["refund"] == DEFAULT_PRICE  # as grade A: the merchant's policy took that risk
    assert len(tx.events["OrderSettled"]) == 1  # the release only: the inspection pays nothing more
    assert tx.events["DispositionDecided"]["disposition"] == UnitDisposition.RECYCLE
    assert "OrderInspected" not in tx.events
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_inspection_of_an_unaccredited_receipt_takes_the_graded_path(shop, escrow, actors):
    order = requested(shop)  # no center accredited in this test
    shop.receive(order)
    tx = shop.inspect(order, U, C)
    assert "RefundReleasedOnReceipt" not in tx.events and "OrderInspected" in tx.events


def test_release_after_the_sla_reverts_so_the_cash_timeout_refund_stands(shop, escrow, actors, center):
    order = requested(shop, remedy=Remedy.EXCHANGE)
    shop.receive(order)
    sla_end = escrow.returnReceivedAt(order) + US.inspection_sla
    chain.sleep(US.inspection_sla + 1)
    with brownie.reverts(err("ReturnEscrowSlaElapsed", order, sla_end)):
        escrow.releaseRefundOnReceipt(order, {"from": actors["brand"].account})
    tx = escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    ev = tx.events["OrderSettled"]
    assert (ev["path"], ev["settlement"]["refund"], ev["settlement"]["points"]) == (
        UNINSPECTED,
        TOTAL,
        0,
    )  # cash, in full, not a voucher
    shop.assert_solvent()


def test_defective_reason_released_without_return_shipping_deducted(shop, escrow, policies, actors, center, admin):
    from dataclasses import replace

    from returntrace.escrow import GradeTerms

    # A policy whose grade A leaves return shipping to the buyer.
    terms = (GradeTerms(10_000, 0, False, UnitDisposition.RESTOCK), *US.terms[1:])
    policies.setPolicy(MARKET_US, replace(US, terms=terms).as_tuple(), {"from": admin})
    refunds = {}
    for reason in (0, 1):  # Withdrawal, Defective
        order = shop.buy(market=MARKET_US)
        shop.deliver(order)
        shop.request_return(order, reason=reason)
        shop.receive(order)
        refunds[reason] = released(escrow.releaseRefundOnReceipt(order, {"from": actors["stranger"].account}))["refund"]
    # As the inspection would: the merchant bears the return shipping of a defective unit.
    assert refunds == {0: DEFAULT_PRICE - DEFAULT_RETURN_FEE, 1: DEFAULT_PRICE}
    shop.assert_solvent()
