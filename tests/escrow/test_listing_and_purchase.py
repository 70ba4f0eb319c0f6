"""Listing, delisting and purchase: who may list, what may be listed, and exact escrowed payment."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, ERC20Mock, ReturnEscrow, chain, web3
from eth_abi import encode
from eth_utils import keccak

from returntrace import eip712, gs1
from returntrace.escrow import Currency
from returntrace.policies import US, US_LAW
from returntrace.vocab import HYGIENE_SEALED, Disposition
from scripts import deploy
from scripts.builder import listing_terms
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_CN,
    MARKET_EU,
    MARKET_SPARE,
    MARKET_US,
    Status,
    err,
    next_block_at,
    plain,
)

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
U96 = 2**96


@pytest.fixture
def brand(actors):
    return actors["brand"].account


def list_args(
    serial,
    market=MARKET_EU,
    currency=ZERO_ADDRESS,
    price=DEFAULT_PRICE,
    fee=DEFAULT_DELIVERY_FEE,
    ret=DEFAULT_RETURN_FEE,
    gtin=GTIN_INT,
):
    return (gtin, serial, market, currency, price, fee, ret)


def pay(escrow, unit, account, value=TOTAL, confirms=False):
    """Buys `unit` as it is listed now (the terms the buyer's page showed), paying `value`."""
    return escrow.purchase(unit, listing_terms(escrow, unit), confirms, {"from": account, "value": value})


# ---------------------------------------------------------------- list / delist


def test_list_records_terms(escrow, commission, brand, token):
    unit = commission("L1")
    tx = escrow.list(*list_args("L1", MARKET_US, token.address, 1_000_000, 50_000, 30_000), {"from": brand})
    ev = tx.events["Listed"]
    assert (ev["unitId"], ev["merchant"], ev["gtin"], ev["market"], ev["currency"]) == (
        "0x" + unit.hex(),
        brand.address,
        GTIN_INT,
        MARKET_US,
        token.address,
    )
    assert (ev["price"], ev["deliveryFee"], ev["returnShippingFee"], ev["classFlags"]) == (
        1_000_000,
        50_000,
        30_000,
        HYGIENE_SEALED,
    )
    # The listing records the market's policy version and the product's class flags at listing.
    assert plain(escrow.listing(unit)) == (
        brand.address,
        1_000_000,
        token.address,
        50_000,
        30_000,
        MARKET_US,
        1,
        HYGIENE_SEALED,
    )


def test_plain_product_is_not_hygiene_sealed(escrow, commission, brand, plain_gtin):
    unit = commission("L1", gtin=plain_gtin)
    tx = escrow.list(*list_args("L1", gtin=plain_gtin), {"from": brand})
    assert escrow.listing(unit)["classFlags"] == 0 == tx.events["Listed"]["classFlags"]
    order = pay(escrow, unit, brownie.accounts[3]).return_value
    assert escrow.order(order)["hygieneSealed"] is False


def test_relist_replaces_terms(escrow, commission, brand):
    unit = commission("L1")
    escrow.list(*list_args("L1"), {"from": brand})
    escrow.list(*list_args("L1", price=2 * DEFAULT_PRICE, fee=0, ret=0), {"from": brand})
    assert escrow.listing(unit)["price"] == 2 * DEFAULT_PRICE
    tx = pay(escrow, unit, brownie.accounts[3], 2 * DEFAULT_PRICE)
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


def test_currency_must_be_allowed_in_the_market(escrow, policies, commission, brand, actors, token, admin, plain_gtin):
    """Changed rule (issue 9 item 11): not any contract but a currency the market's policy admin
    allowed (an account that is no contract never is); the token is allowed in markets 0-2 only."""
    policies.setLaw(MARKET_SPARE, US_LAW.as_tuple(), {"from": admin})
    policies.setPolicy(MARKET_SPARE, US.as_tuple(), {"from": admin})
    unit = commission("L1", gtin=plain_gtin)
    eoa = actors["stranger"].address
    with brownie.reverts(err("ReturnEscrowCurrencyNotAllowed", MARKET_EU, eoa)):
        escrow.list(*list_args("L1", currency=eoa, gtin=plain_gtin), {"from": brand})
    for currency in (token.address, ZERO_ADDRESS):  # market 3 allows neither yet
        with brownie.reverts(err("ReturnEscrowCurrencyNotAllowed", MARKET_SPARE, currency)):
            escrow.list(*list_args("L1", MARKET_SPARE, currency, gtin=plain_gtin), {"from": brand})
    policies.setCurrency(MARKET_SPARE, token, Currency(True, 6, 0, 0).as_tuple(), {"from": admin})
    escrow.list(*list_args("L1", MARKET_SPARE, token.address, 1_000_000, 0, 0, gtin=plain_gtin), {"from": brand})
    assert escrow.listing(unit)["currency"] == token.address


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
    next_block_at(escrow.returnWindowCloses(order) + 1)
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


def test_closed_unit_cannot_be_listed(escrow, registry, registry_domain, brand, commission, sign, actors, relayer):
    # A destroyed unit cannot be delivered: selling it would strand the buyer's money. (Only its brand
    # may close its stock now, by decommissioning it.)
    unit = commission("GONE-1")
    item = {
        "gtin": GTIN_INT,
        "serial": "GONE-1",
        "disposition": int(Disposition.DESTROYED),
        "location": actors["brand"].gln,
        "eventTime": chain.time(),
        "evidence": b"\x00" * 32,
    }
    message, sig = sign(registry_domain, "DecommissionBatch", actors["brand"], units=[item])
    registry.decommission([eip712.call_args("DecommissionBatch", message, sig)], {"from": relayer})
    assert registry.isClosed(unit) is True
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
    chain.sleep(31 * DAY + 5)  # the delivery timeout and the relay delay of a late delivery scan
    escrow.cancelUndelivered(order, {"from": shop.actors["buyer"].account})
    escrow.list(*list_args("L1"), {"from": brand})


def test_purchase_at_another_price_than_agreed_reverts(shop, escrow, token, actors, brand):
    """The error is now ReturnEscrowListingChanged: the purchase commits to the whole listing, of
    which the total is one part (the relisting attacks with the same total: test_roles_and_law)."""
    unit = shop.list_unit(serial="L1", currency=token.address, price=1_000_000, delivery_fee=50_000, return_fee=0)
    buyer = actors["buyer"].account
    seen = listing_terms(escrow, unit)
    token.approve(escrow, 10**9, {"from": buyer})  # a standing allowance
    escrow.list(
        *list_args("L1", currency=token.address, price=9_000_000, fee=50_000, ret=0), {"from": brand}
    )  # front-run
    before = token.balanceOf(buyer)
    with brownie.reverts(err("ReturnEscrowListingChanged", unit)):
        escrow.purchase(unit, seen, False, {"from": buyer})
    assert token.balanceOf(buyer) == before and escrow.orderCount() == 0


# ListingTerms fields: (market, policyVersion, currency, price, deliveryFee, returnShippingFee, classFlags)
STALE = [
    ("market", 0, MARKET_US),
    ("policy-version", 1, 2),
    ("currency", 2, "0x" + "11" * 20),
    ("price", 3, DEFAULT_PRICE - 1),
    ("delivery-fee", 4, DEFAULT_DELIVERY_FEE + 1),
    ("return-fee", 5, 0),
    ("class-flags", 6, 0),
]


@pytest.mark.parametrize("index, value", [c[1:] for c in STALE], ids=[c[0] for c in STALE])
def test_purchase_with_terms_other_than_the_listing_reverts(shop, escrow, actors, index, value):
    unit = shop.list_unit()
    terms = list(listing_terms(escrow, unit))
    assert terms[index] != value
    terms[index] = value
    buyer = actors["buyer"].account
    before = web3.eth.get_balance(buyer.address)  # gas is free on this chain: balances compare exactly
    with brownie.reverts(err("ReturnEscrowListingChanged", unit)):
        escrow.purchase(unit, terms, False, {"from": buyer, "value": TOTAL})
    assert web3.eth.get_balance(buyer.address) == before
    assert escrow.orderCount() == 0 and escrow.listing(unit)["merchant"] == actors["brand"].address
    shop.assert_solvent()


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
    assert (
        ev["orderId"],
        ev["unitId"],
        ev["buyer"],
        ev["merchant"],
        ev["market"],
        ev["policyVersion"],
        ev["currency"],
    ) == (order, "0x" + unit.hex(), buyer.address, actors["brand"].address, MARKET_EU, 1, ZERO_ADDRESS)
    assert (ev["price"], ev["deliveryFee"], ev["returnShippingFee"]) == (
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
    )
    assert (ev["hygieneSealed"], ev["exceptionConfirmed"]) == (True, False)
    o = escrow.order(order)
    assert o["buyer"] == buyer.address and o["merchant"] == actors["brand"].address
    assert o["status"] == Status.ACTIVE and o["purchasedAt"] == tx.timestamp
    assert (o["market"], o["policyVersion"], o["currency"]) == (MARKET_EU, 1, ZERO_ADDRESS)
    assert (o["price"], o["deliveryFee"], o["returnShippingFee"]) == (
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
    )
    assert o["hygieneSealed"] is True and o["exceptionConfirmed"] is False and o["unitId"] == "0x" + unit.hex()
    assert web3.eth.get_balance(escrow.address) == before + TOTAL
    assert escrow.totalOwed(ZERO_ADDRESS) == TOTAL
    assert escrow.listing(unit)["merchant"] == ZERO_ADDRESS
    assert escrow.lastOrderOf(unit) == order
    shop.assert_solvent()


def test_purchase_records_the_buyers_confirmation_of_exceptions(shop, escrow, actors):
    unit = shop.list_unit(market=MARKET_CN)
    tx = pay(escrow, unit, actors["buyer"].account, confirms=True)
    assert tx.events["OrderPlaced"]["exceptionConfirmed"] is True
    assert escrow.order(tx.return_value)["exceptionConfirmed"] is True


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
    tx = escrow.purchase(unit, listing_terms(escrow, unit), False, {"from": buyer.account})
    assert tx.events["OrderPlaced"]["currency"] == token.address
    assert token.balanceOf(buyer.address) == before - 1_050_000
    assert token.balanceOf(escrow) == 1_050_000 == escrow.totalOwed(token)
    assert escrow.totalOwed(ZERO_ADDRESS) == 0
    shop.assert_solvent(token)


def test_purchase_erc20_with_native_value_reverts(shop, escrow, token, actors):
    unit = shop.list_unit(currency=token.address, price=1_000_000, delivery_fee=0, return_fee=0)
    token.approve(escrow, 1_000_000, {"from": actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowWrongPayment", 0, 1)):
        escrow.purchase(unit, listing_terms(escrow, unit), False, {"from": actors["buyer"].account, "value": 1})


def test_purchase_erc20_without_allowance_reverts(shop, escrow, token, actors):
    unit = shop.list_unit(currency=token.address, price=1_000_000, delivery_fee=0, return_fee=0)
    token.approve(escrow, 999_999, {"from": actors["buyer"].account})
    with brownie.reverts(err("ERC20InsufficientAllowance", escrow.address, 999_999, 1_000_000)):
        escrow.purchase(unit, listing_terms(escrow, unit), False, {"from": actors["buyer"].account})


def test_purchase_fee_on_transfer_token_reverts(shop, escrow, deployment, admin, actors):
    """Even a fee-on-transfer token the policy admin allowed by mistake cannot break solvency."""
    fee_token = ERC20Mock.deploy("Fee USD", "fUSD", 100, {"from": admin})  # 1 % burnt per transfer
    deploy.allow_currency(deployment, fee_token, 6, markets=(MARKET_EU,))
    buyer = actors["buyer"].account
    fee_token.mint(buyer, 10**9, {"from": admin})
    unit = shop.list_unit(currency=fee_token.address, price=1_000_000, delivery_fee=0, return_fee=0)
    fee_token.approve(escrow, 1_000_000, {"from": buyer})
    with brownie.reverts(err("ReturnEscrowWrongPayment", 1_000_000, 990_000)):
        escrow.purchase(unit, listing_terms(escrow, unit), False, {"from": buyer})
    assert fee_token.balanceOf(escrow) == 0 and escrow.totalOwed(fee_token) == 0


def test_purchase_unlisted_unit_reverts(commission, escrow, actors):
    unit = commission("L1")
    with brownie.reverts(err("ReturnEscrowNotListed", unit)):
        escrow.purchase(
            unit,
            (MARKET_EU, 1, ZERO_ADDRESS, DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE, HYGIENE_SEALED),
            False,
            {"from": actors["buyer"].account, "value": TOTAL},
        )


def test_purchase_consumes_listing(shop, escrow, actors):
    unit = shop.list_unit()
    seen = listing_terms(escrow, unit)
    pay(escrow, unit, actors["buyer"].account)
    with brownie.reverts(err("ReturnEscrowNotListed", unit)):
        escrow.purchase(unit, seen, False, {"from": actors["buyer2"].account, "value": TOTAL})


def test_order_refs_bind_chain_contract_and_order(escrow):
    ref = keccak(encode(["uint256", "address", "uint256"], [chain.id, escrow.address, 7]))
    assert bytes(escrow.orderRef(7)) == ref
    assert bytes(escrow.rmaRef(7)) == keccak(encode(["bytes32", "string"], [ref, "RMA"]))
    assert escrow.orderRef(7) != escrow.orderRef(8)


@pytest.mark.parametrize("order_id", [0, 1, 99])
def test_unknown_order_views_revert(escrow, order_id):
    views = (
        escrow.order,
        escrow.deliveredAt,
        escrow.returnReceivedAt,
        escrow.dispatchedAt,
        escrow.returnWindowCloses,
        escrow.refundDueAt,
    )
    for view in views:
        with brownie.reverts(err("ReturnEscrowUnknownOrder", order_id)):
            view(order_id)
    with brownie.reverts(err("ReturnEscrowUnknownOrder", order_id)):
        escrow.quote(order_id, 1, 0, 0)


def test_constructor_rejects_zero_addresses(admin, registry, points, policies):
    for args in (
        (ZERO_ADDRESS, points, policies),
        (registry, ZERO_ADDRESS, policies),
        (registry, points, ZERO_ADDRESS),
    ):
        with brownie.reverts(err("ReturnEscrowZeroAddress")):
            ReturnEscrow.deploy(*args, {"from": admin})
