"""Listing, delisting and purchase: who may list, what may be listed, and exact escrowed payment."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, ERC20Mock, ReturnEscrow, chain, web3
from eth_abi import encode
from eth_utils import keccak

from returntrace import gs1
from returntrace.vocab import BizStep, Disposition
from tests.support import (
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_EU,
    MARKET_SPARE,
    MARKET_US,
    Status,
    err,
    plain,
)

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
U96 = 2**96


@pytest.fixture
def brand(actors):
    return actors["brand"].account


def list_args(serial, market=MARKET_EU, currency=ZERO_ADDRESS, price=DEFAULT_PRICE, fee=DEFAULT_DELIVERY_FEE, ret=DEFAULT_RETURN_FEE, gtin=GTIN_INT):
    return (gtin, serial, market, currency, price, fee, ret)


def pay(escrow, unit, account, value=TOTAL, total=TOTAL):
    return escrow.purchase(unit, total, {"from": account, "value": value})


# ---------------------------------------------------------------- list / delist


def test_list_records_terms(escrow, commission, brand, token):
    unit = commission("L1")
    tx = escrow.list(*list_args("L1", MARKET_US, token.address, 1_000_000, 50_000, 30_000), {"from": brand})
    ev = tx.events["Listed"]
    assert (ev["unitId"], ev["merchant"], ev["gtin"], ev["market"], ev["currency"]) == ("0x" + unit.hex(), brand.address, GTIN_INT, MARKET_US, token.address)
    assert (ev["price"], ev["deliveryFee"], ev["returnShippingFee"]) == (1_000_000, 50_000, 30_000)
    assert plain(escrow.listing(unit)) == (brand.address, 1_000_000, token.address, 50_000, 30_000, MARKET_US, True)


def test_plain_product_is_not_hygiene_sealed(escrow, commission, brand, plain_gtin):
    unit = commission("L1", gtin=plain_gtin)
    escrow.list(*list_args("L1", gtin=plain_gtin), {"from": brand})
    assert escrow.listing(unit)["hygieneSealed"] is False


def test_relist_replaces_terms(escrow, commission, brand):
    unit = commission("L1")
    escrow.list(*list_args("L1"), {"from": brand})
    escrow.list(*list_args("L1", price=2 * DEFAULT_PRICE, fee=0, ret=0), {"from": brand})
    assert escrow.listing(unit)["price"] == 2 * DEFAULT_PRICE
    tx = pay(escrow, unit, brownie.accounts[3], 2 * DEFAULT_PRICE, total=2 * DEFAULT_PRICE)
    assert tx.events["OrderPlaced"]["price"] == 2 * DEFAULT_PRICE


@pytest.mark.parametrize("who", ["brand2", "stranger", "inspector"])
def test_only_the_products_brand_lists(escrow, commission, actors, who):
    commission("L1")
    with brownie.reverts(err("ReturnEscrowNotMerchant", actors[who].address)):
        escrow.list(*list_args("L1"), {"from": actors[who].account})


def test_brand_without_brand_role_cannot_list(escrow, registry, commission, admin, actors, brand):
    commission("L1")
    registry.setActor(brand.address, 0, actors["brand"].gln, {"from": admin})
    with brownie.reverts(err("ReturnEscrowNotMerchant", brand.address)):
        escrow.list(*list_args("L1"), {"from": brand})


def test_unknown_product_reverts(escrow, brand):
    gtin = int(gs1.with_check_digit("0950600019999"))
    with brownie.reverts(err("ReturnEscrowUnknownProduct", gtin)):
        escrow.list(*list_args("L1", gtin=gtin), {"from": brand})


def test_uncommissioned_unit_reverts(escrow, brand):
    with brownie.reverts(err("ReturnEscrowUnknownUnit", gs1.unit_id(GTIN_INT, "NEVER"))):
        escrow.list(*list_args("NEVER"), {"from": brand})


@pytest.mark.parametrize("market", [MARKET_SPARE, 63, 64, 2**32 - 1])
def test_market_not_served_reverts(escrow, commission, brand, market):
    commission("L1")
    with brownie.reverts(err("ReturnEscrowMarketNotServed", GTIN_INT, market)):
        escrow.list(*list_args("L1", market), {"from": brand})


def test_market_without_policy_reverts(escrow, commission, brand, plain_gtin):
    commission("L1", gtin=plain_gtin)
    with brownie.reverts(err("ReturnEscrowUnknownPolicy", MARKET_SPARE, 0)):
        escrow.list(*list_args("L1", MARKET_SPARE, gtin=plain_gtin), {"from": brand})


def test_currency_must_be_native_or_contract(escrow, commission, brand, actors):
    commission("L1")
    eoa = actors["stranger"].address
    with brownie.reverts(err("ReturnEscrowInvalidCurrency", eoa)):
        escrow.list(*list_args("L1", currency=eoa), {"from": brand})


def test_return_fee_above_price_reverts(escrow, commission, brand):
    unit = commission("L1")
    with brownie.reverts(err("ReturnEscrowInvalidFees", 100, 101)):
        escrow.list(*list_args("L1", price=100, ret=101), {"from": brand})
    escrow.list(*list_args("L1", price=100, ret=100), {"from": brand})
    assert escrow.listing(unit)["returnShippingFee"] == 100


def test_amounts_above_96_bits_revert(escrow, commission, brand):
    unit = commission("L1")
    with brownie.reverts(err("ReturnEscrowAmountTooLarge", U96)):
        escrow.list(*list_args("L1", price=U96, ret=0), {"from": brand})
    with brownie.reverts(err("ReturnEscrowAmountTooLarge", U96)):
        escrow.list(*list_args("L1", fee=U96), {"from": brand})
    escrow.list(*list_args("L1", price=U96 - 1, fee=U96 - 1, ret=0), {"from": brand})
    assert escrow.listing(unit)["price"] == U96 - 1


def test_delist_withdraws_listing(escrow, commission, brand, actors):
    unit = commission("L1")
    escrow.list(*list_args("L1"), {"from": brand})
    tx = escrow.delist(unit, {"from": brand})
    assert tx.events["Delisted"]["unitId"] == "0x" + unit.hex()
    assert escrow.listing(unit)["merchant"] == ZERO_ADDRESS
    with brownie.reverts(err("ReturnEscrowNotListed", unit)):
        pay(escrow, unit, actors["buyer"].account)


def test_delist_unlisted_reverts(escrow, commission, brand):
    unit = commission("L1")
    with brownie.reverts(err("ReturnEscrowNotListed", unit)):
        escrow.delist(unit, {"from": brand})


@pytest.mark.parametrize("who", ["brand2", "stranger"])
def test_only_merchant_delists(escrow, commission, brand, actors, who):
    unit = commission("L1")
    escrow.list(*list_args("L1"), {"from": brand})
    with brownie.reverts(err("ReturnEscrowNotMerchant", actors[who].address)):
        escrow.delist(unit, {"from": actors[who].account})


def test_unit_in_open_order_cannot_be_relisted(shop, escrow, brand):
    unit = shop.list_unit(serial="L1")
    order = pay(escrow, unit, shop.actors["buyer"].account).return_value
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(*list_args("L1"), {"from": brand})
    shop.deliver(order)
    shop.request_return(order)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(*list_args("L1"), {"from": brand})
    shop.receive(order)
    shop.inspect(order, 1, 2)  # seal intact only: grade B under the EU policy, awaiting the buyer
    assert escrow.order(order)["status"] == Status.INSPECTED
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(*list_args("L1"), {"from": brand})
    escrow.contest(order, {"from": shop.actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(*list_args("L1"), {"from": brand})


def test_unit_of_ended_order_can_be_relisted(shop, escrow, brand):
    unit = shop.list_unit(serial="L1")
    order = pay(escrow, unit, shop.actors["buyer"].account).return_value
    shop.deliver(order)
    shop.request_return(order)
    shop.receive(order)
    shop.inspect(order, 3, 1)  # sealed, grade A: settled
    escrow.list(*list_args("L1"), {"from": brand})
    assert escrow.lastOrderOf(unit) == order
    second = pay(escrow, unit, shop.actors["buyer2"].account).return_value
    assert second == order + 1
    assert escrow.lastOrderOf(unit) == second


def test_unit_the_buyer_kept_cannot_be_sold_again(shop, escrow, brand):
    unit = shop.list_unit(serial="L1")
    order = pay(escrow, unit, shop.actors["buyer"].account).return_value
    shop.deliver(order)
    chain.sleep(30 * 86400 + 5)
    escrow.release(order, {"from": brand})
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(*list_args("L1"), {"from": brand})


def test_unit_attested_defective_cannot_be_sold_again(shop, escrow, brand):
    # Grade A by the law (a defect keeps the statutory refund), but a defective unit is never stock.
    unit = shop.list_unit(serial="L1")
    order = pay(escrow, unit, shop.actors["buyer"].account).return_value
    shop.deliver(order)
    shop.request_return(order, reason=1)
    shop.receive(order)
    shop.inspect(order, 8, 1)  # DEFECTIVE, grade A: settled; the A terms say restock
    assert escrow.order(order)["status"] == Status.SETTLED
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(*list_args("L1"), {"from": brand})


def test_closed_unit_cannot_be_listed(shop, escrow, brand, commission, record):
    # A destroyed unit cannot be delivered: selling it would strand the buyer's money.
    unit = commission("GONE-1")
    record(unit, BizStep.DESTROYING, "warehouse", Disposition.DESTROYED)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, 0)):
        escrow.list(*list_args("GONE-1"), {"from": brand})


def test_unit_gone_to_donation_cannot_be_sold_again(shop, escrow, brand):
    unit = shop.list_unit(serial="L1", market=MARKET_US)
    order = pay(escrow, unit, shop.actors["buyer"].account).return_value
    shop.deliver(order)
    shop.request_return(order)
    shop.receive(order)
    shop.inspect(order, 2, 2)  # opened, unused: grade B, donated under the US terms
    escrow.acceptInspection(order, {"from": shop.actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(*list_args("L1"), {"from": brand})


def test_undelivered_and_cancelled_unit_can_be_sold_again(shop, escrow, brand):
    unit = shop.list_unit(serial="L1")
    order = pay(escrow, unit, shop.actors["buyer"].account).return_value
    chain.sleep(30 * 86400 + 5)
    escrow.cancelUndelivered(order, {"from": shop.actors["buyer"].account})
    escrow.list(*list_args("L1"), {"from": brand})


def test_purchase_at_another_total_than_agreed_reverts(shop, escrow, token, actors, brand):
    unit = shop.list_unit(serial="L1", currency=token.address, price=1_000_000, delivery_fee=50_000, return_fee=0)
    token.approve(escrow, 10**9, {"from": actors["buyer"].account})  # a standing allowance
    escrow.list(*list_args("L1", currency=token.address, price=9_000_000, fee=50_000, ret=0), {"from": brand})  # front-run
    with brownie.reverts(err("ReturnEscrowPriceChanged", unit, 9_050_000, 1_050_000)):
        escrow.purchase(unit, 1_050_000, {"from": actors["buyer"].account})


def test_delist_keeps_last_order(shop, escrow, brand):
    unit = shop.list_unit(serial="L1")
    order = pay(escrow, unit, shop.actors["buyer"].account).return_value
    shop.deliver(order)
    shop.request_return(order)
    shop.receive(order)
    shop.inspect(order, 3, 1)  # sealed, grade A: back in stock
    escrow.list(*list_args("L1"), {"from": brand})
    escrow.delist(unit, {"from": brand})
    assert escrow.lastOrderOf(unit) == order


# ---------------------------------------------------------------- purchase


def test_purchase_native_escrows_exact_amount(shop, escrow, actors):
    unit = shop.list_unit()
    buyer = actors["buyer"]
    before = web3.eth.get_balance(escrow.address)
    tx = pay(escrow, unit, buyer.account)
    order = tx.return_value
    assert order == 1 and escrow.orderCount() == 1
    ev = tx.events["OrderPlaced"]
    assert (ev["orderId"], ev["buyer"], ev["merchant"], ev["market"], ev["policyVersion"], ev["currency"]) == (
        order, buyer.address, actors["brand"].address, MARKET_EU, 1, ZERO_ADDRESS)
    assert (ev["price"], ev["deliveryFee"], ev["returnShippingFee"]) == (DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE)
    o = escrow.order(order)
    assert o["buyer"] == buyer.address and o["merchant"] == actors["brand"].address
    assert o["status"] == Status.ACTIVE and o["purchasedAt"] == tx.timestamp
    assert o["hygieneSealed"] is True and o["unitId"] == "0x" + unit.hex()
    assert web3.eth.get_balance(escrow.address) == before + TOTAL
    assert escrow.totalOwed(ZERO_ADDRESS) == TOTAL
    assert escrow.listing(unit)["merchant"] == ZERO_ADDRESS
    assert escrow.lastOrderOf(unit) == order
    shop.assert_solvent()


@pytest.mark.parametrize("value", [0, TOTAL - 1, TOTAL + 1, DEFAULT_PRICE])
def test_purchase_native_wrong_payment_reverts(shop, escrow, actors, value):
    unit = shop.list_unit()
    with brownie.reverts(err("ReturnEscrowWrongPayment", TOTAL, value)):
        pay(escrow, unit, actors["buyer"].account, value)


def test_purchase_erc20_pulls_approved_amount(shop, escrow, token, actors):
    buyer = actors["buyer"]
    unit = shop.list_unit(currency=token.address, price=1_000_000, delivery_fee=50_000, return_fee=30_000)
    token.approve(escrow, 1_050_000, {"from": buyer.account})
    before = token.balanceOf(buyer.address)
    tx = escrow.purchase(unit, 1_050_000, {"from": buyer.account})
    assert tx.events["OrderPlaced"]["currency"] == token.address
    assert token.balanceOf(buyer.address) == before - 1_050_000
    assert token.balanceOf(escrow) == 1_050_000 == escrow.totalOwed(token)
    assert escrow.totalOwed(ZERO_ADDRESS) == 0
    shop.assert_solvent(token)


def test_purchase_erc20_with_native_value_reverts(shop, escrow, token, actors):
    unit = shop.list_unit(currency=token.address, price=1_000_000, delivery_fee=0, return_fee=0)
    token.approve(escrow, 1_000_000, {"from": actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowWrongPayment", 0, 1)):
        escrow.purchase(unit, 1_000_000, {"from": actors["buyer"].account, "value": 1})


def test_purchase_erc20_without_allowance_reverts(shop, escrow, token, actors):
    unit = shop.list_unit(currency=token.address, price=1_000_000, delivery_fee=0, return_fee=0)
    token.approve(escrow, 999_999, {"from": actors["buyer"].account})
    with brownie.reverts(err("ERC20InsufficientAllowance", escrow.address, 999_999, 1_000_000)):
        escrow.purchase(unit, 1_000_000, {"from": actors["buyer"].account})


def test_purchase_fee_on_transfer_token_reverts(shop, escrow, admin, actors):
    fee_token = ERC20Mock.deploy("Fee USD", "fUSD", 100, {"from": admin})  # 1 % burnt per transfer
    buyer = actors["buyer"].account
    fee_token.mint(buyer, 10**9, {"from": admin})
    unit = shop.list_unit(currency=fee_token.address, price=1_000_000, delivery_fee=0, return_fee=0)
    fee_token.approve(escrow, 1_000_000, {"from": buyer})
    with brownie.reverts(err("ReturnEscrowWrongPayment", 1_000_000, 990_000)):
        escrow.purchase(unit, 1_000_000, {"from": buyer})
    assert fee_token.balanceOf(escrow) == 0 and escrow.totalOwed(fee_token) == 0


def test_purchase_unlisted_unit_reverts(commission, escrow, actors):
    unit = commission("L1")
    with brownie.reverts(err("ReturnEscrowNotListed", unit)):
        pay(escrow, unit, actors["buyer"].account)


def test_purchase_consumes_listing(shop, escrow, actors):
    unit = shop.list_unit()
    pay(escrow, unit, actors["buyer"].account)
    with brownie.reverts(err("ReturnEscrowNotListed", unit)):
        pay(escrow, unit, actors["buyer2"].account)


def test_order_refs_bind_chain_contract_and_order(escrow):
    ref = keccak(encode(["uint256", "address", "uint256"], [chain.id, escrow.address, 7]))
    assert bytes(escrow.orderRef(7)) == ref
    assert bytes(escrow.rmaRef(7)) == keccak(encode(["bytes32", "string"], [ref, "RMA"]))
    assert escrow.orderRef(7) != escrow.orderRef(8)


@pytest.mark.parametrize("order_id", [0, 1, 99])
def test_unknown_order_views_revert(escrow, order_id):
    for view in (escrow.order, escrow.deliveredAt, escrow.returnReceivedAt):
        with brownie.reverts(err("ReturnEscrowUnknownOrder", order_id)):
            view(order_id)
    with brownie.reverts(err("ReturnEscrowUnknownOrder", order_id)):
        escrow.deriveGrade(order_id, 0)
    with brownie.reverts(err("ReturnEscrowUnknownOrder", order_id)):
        escrow.quote(order_id, 1)


def test_constructor_rejects_zero_addresses(admin, registry, points):
    for args in ((ZERO_ADDRESS, registry, points), (admin, ZERO_ADDRESS, points), (admin, registry, ZERO_ADDRESS)):
        with brownie.reverts(err("ReturnEscrowZeroAddress")):
            ReturnEscrow.deploy(*args, {"from": admin})
