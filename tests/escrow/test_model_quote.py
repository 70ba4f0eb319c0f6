"""The escrow model against the deployed contracts: structs read by name from real calls and logs
are what brownie names them, the escrow's `quote` decodes to the settlement it then pays, and the
model's one piece of arithmetic (Policy.exchange_voucher, the voucher a page offers before the buyer
chose the exchange) is the escrow's, across markets, product classes, prices and the withdrawal period."""

from __future__ import annotations

import pytest
from brownie import chain

from returntrace.escrow import Facts, Grade, Listing, Order, OrderStatus, Policy, Remedy, Settlement
from returntrace.escrow.settlement import from_event
from returntrace.policies import MARKET_CN, MARKET_EU, MARKET_US, PRESETS
from tests.support import DAY, GTIN_INT

SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT


def by_name(value) -> dict:
    """A brownie struct value as {component name: plain value}, nested structs alike."""
    out = {}
    for name, v in value.dict().items():
        if hasattr(v, "dict"):
            v = by_name(v)
        elif isinstance(v, (list, tuple)):
            v = [by_name(x) if hasattr(x, "dict") else x for x in v]
        if isinstance(v, bytes):
            v = "0x" + v.hex()
        out[name] = v.lower() if isinstance(v, str) and v.startswith("0x") else v
    return out


def plain(d: dict) -> dict:
    """A model struct's as_dict() as by_name writes it: enums as ints, addresses lower case."""
    out = {}
    for name, v in d.items():
        if isinstance(v, dict):
            v = plain(v)
        elif isinstance(v, list):
            v = [plain(x) if isinstance(x, dict) else x for x in v]
        elif isinstance(v, str):
            v = v.lower()
        elif isinstance(v, bytes):
            v = "0x" + v.hex()
        elif isinstance(v, int) and not isinstance(v, bool):
            v = int(v)
        out[name] = v
    return out


def test_order_listing_and_policy_read_by_name_are_what_the_contracts_return(shop, escrow, policies):
    order_id = shop.buy(market=MARKET_US, price=10**18 + 7)
    shop.deliver(order_id)
    shop.request_return(order_id, reason=5, remedy=Remedy.EXCHANGE)
    raw = escrow.order(order_id)
    order = Order.decode(raw, escrow.abi)
    assert plain(order.as_dict()) == by_name(raw)
    assert (order.status, order.remedy, order.price, order.market) == (
        OrderStatus.RETURN_REQUESTED,
        Remedy.EXCHANGE,
        10**18 + 7,
        MARKET_US,
    )
    assert Policy.decode(policies.policy(MARKET_US, order.policy_version), policies.abi) == PRESETS[MARKET_US]
    unit = shop.list_unit(market=MARKET_CN, price=12_345, delivery_fee=1_000, return_fee=500)
    listing = Listing.decode(escrow.listing(unit), escrow.abi)
    assert plain(listing.as_dict()) == by_name(escrow.listing(unit))
    # ListingTerms are the listing without its merchant, field for field, as brownie names them.
    assert plain(listing.terms().as_dict()) == {
        k: v for k, v in by_name(escrow.listing(unit)).items() if k != "merchant"
    }


@pytest.mark.parametrize(
    "market, facts, grade, diminished",
    [
        (MARKET_EU, SEALED, Grade.A, 0),
        (MARKET_EU, Facts.PACKAGING_INTACT, Grade.B, 0),
        (MARKET_EU, Facts.USED, Grade.C, 2 * 10**17),
        (MARKET_US, Facts.USED, Grade.C, 0),
        (MARKET_CN, Facts.PACKAGING_INTACT, Grade.B, 0),
    ],
)
def test_quote_is_the_settlement_the_escrow_pays(shop, escrow, actors, market, facts, grade, diminished):
    order_id = shop.returned(market=market)
    quoted = escrow.quote(order_id, int(grade), facts, diminished)
    model = Settlement.decode(quoted, escrow.abi)
    assert plain(model.as_dict()) == by_name(quoted)
    tx = shop.inspect(order_id, facts, int(grade), diminishedValue=diminished)
    if "OrderSettled" not in tx.events:  # B and C wait for the buyer; A settles at once
        assert escrow.order(order_id)["status"] == OrderStatus.INSPECTED
        tx = escrow.acceptInspection(order_id, {"from": actors["buyer"].account})
    event = tx.events["OrderSettled"]
    paid = Settlement.decode(event["settlement"], escrow.abi)
    assert paid == model
    breakdown = from_event(
        "OrderSettled",
        {"settlement": paid.as_dict(), "path": event["path"], "grade": event["grade"]},
        *shop_amounts(escrow, order_id),
    )
    assert breakdown.consistent and breakdown.refund == model.refund


def shop_amounts(escrow, order_id: int) -> tuple[int, int]:
    o = Order.decode(escrow.order(order_id), escrow.abi)
    return o.price, o.delivery_fee


@pytest.mark.parametrize("market", [MARKET_EU, MARKET_US])
@pytest.mark.parametrize("sealed_class", [True, False])
@pytest.mark.parametrize("price, days_after_delivery", [(10**18, 0), (333_333_333_333_333_337, 1), (19_999, 20)])
def test_the_exchange_voucher_a_page_offers_is_the_escrows(
    shop, escrow, policies, plain_gtin, market, sealed_class, price, days_after_delivery
):
    """What return_options shows an Active order's buyer (the cash quote at grade A and the voucher
    the policy would give for it) is what the escrow quotes once the buyer chose the exchange:
    inside the EU's 14-day withdrawal period and after it (20 days), with the rounding of odd prices."""
    fee = min(price // 10, 5 * 10**16)
    order_id = shop.buy(
        market=market, price=price, delivery_fee=fee, return_fee=fee // 2, gtin=GTIN_INT if sealed_class else plain_gtin
    )
    shop.deliver(order_id)
    chain.sleep(days_after_delivery * DAY)
    chain.mine()
    policy = Policy.decode(policies.policy(market, escrow.order(order_id)["policyVersion"]), policies.abi)
    assert policy.exchange_offered
    cash = Settlement.decode(escrow.quote(order_id, int(Grade.A), SEALED, 0), escrow.abi)
    shop.request_return(order_id, remedy=Remedy.EXCHANGE)
    exchange = Settlement.decode(escrow.quote(order_id, int(Grade.A), SEALED, 0), escrow.abi)
    assert (exchange.refund, exchange.statutory) == (0, cash.statutory)
    assert exchange.voucher == policy.exchange_voucher(cash.refund)
    assert exchange.bonus == exchange.voucher - cash.refund
    assert cash.refund > 0 and cash.statutory == (market == MARKET_EU and days_after_delivery < 14)
