"""End-to-end settlements through the real registry: delivery and receiving scans drive the escrow."""

from brownie import ZERO_ADDRESS, web3

from returntrace.escrow import Facts, Grade, SettlementPath
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, MARKET_EU, MARKET_US

SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT
GRADED = SettlementPath.GRADED


def test_grade_a_eu_refunds_price_and_delivery(shop, escrow, actors):
    order = shop.returned(market=MARKET_EU)
    tx = shop.inspect(order, SEALED, Grade.A)
    settled = tx.events["OrderSettled"]
    s = settled["settlement"]
    assert (settled["orderId"], settled["path"], settled["grade"]) == (order, GRADED, Grade.A)
    assert s["statutory"] is True
    assert s["refund"] == DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
    assert s["merchantAmount"] == 0
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
    shop.assert_solvent()

    before = web3.eth.get_balance(actors["buyer"].address)
    tx = escrow.withdraw(ZERO_ADDRESS, {"from": actors["buyer"].account})
    assert (
        web3.eth.get_balance(actors["buyer"].address)
        == before + DEFAULT_PRICE + DEFAULT_DELIVERY_FEE - tx.gas_used * tx.gas_price
    )
    shop.assert_solvent()


def test_grade_b_us_pays_policy_share_minus_return_shipping(shop, escrow, points, actors):
    order = shop.returned(market=MARKET_US)
    shop.inspect(order, Facts.PACKAGING_INTACT, Grade.B)
    tx = escrow.acceptInspection(order, {"from": actors["buyer"].account})
    settled = tx.events["OrderSettled"]
    s = settled["settlement"]
    refund = DEFAULT_PRICE * 7_500 // 10_000 - DEFAULT_RETURN_FEE
    assert (settled["path"], settled["grade"]) == (GRADED, Grade.B)
    assert s["statutory"] is False
    assert s["refund"] == refund
    assert s["merchantAmount"] == DEFAULT_PRICE + DEFAULT_DELIVERY_FEE - refund
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == refund
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == DEFAULT_PRICE + DEFAULT_DELIVERY_FEE - refund
    shop.assert_solvent()
