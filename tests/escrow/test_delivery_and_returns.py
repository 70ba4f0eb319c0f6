"""Delivery clocks: release after the return window, cancellation of undelivered orders, return
requests (direct and relayed with the buyer's EIP-712 signature)."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712
from returntrace.vocab import BizStep, Disposition
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    MARKET_CN,
    MARKET_EU,
    MARKET_US,
    Status,
    err,
    next_block_at,
    opens_after,
)

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
WINDOW = {MARKET_EU: 30 * DAY, MARKET_US: 30 * DAY, MARKET_CN: 7 * DAY}


@pytest.fixture
def delivered(shop, escrow):
    """An EU order delivered now: (order id, delivery time)."""
    order = shop.buy()
    shop.deliver(order)
    return order, escrow.deliveredAt(order)


# ---------------------------------------------------------------- delivery


def test_delivery_scan_starts_the_clock_at_its_event_time(shop, escrow):
    order = shop.buy()
    assert escrow.deliveredAt(order) == 0
    purchased = escrow.order(order)["purchasedAt"]
    chain.sleep(DAY)
    shop.deliver(order, eventTime=purchased + DAY // 2)
    assert escrow.deliveredAt(order) == purchased + DAY // 2


def test_delivery_never_counts_before_purchase(shop, escrow):
    order = shop.buy()
    purchased = escrow.order(order)["purchasedAt"]
    shop.deliver(order, eventTime=purchased - 3 * DAY)
    assert escrow.deliveredAt(order) == purchased


def test_delivery_scan_for_another_order_does_not_count(shop, escrow, record):
    order = shop.buy()
    other = shop.buy()
    shop.deliver(other)
    record(shop.unit(order), BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=escrow.orderRef(other))
    assert escrow.deliveredAt(order) == 0


# ---------------------------------------------------------------- release


@pytest.mark.parametrize("market", [MARKET_EU, MARKET_US, MARKET_CN])
def test_release_pays_merchant_after_return_window(shop, escrow, actors, market):
    order = shop.buy(market=market)
    shop.deliver(order)
    closes = escrow.deliveredAt(order) + WINDOW[market]
    tx = opens_after(closes, err("ReturnEscrowWindowOpen", order, closes), lambda: escrow.release(order, {"from": actors["stranger"].account}))
    assert tx.events["OrderCompleted"]["orderId"] == order
    assert tx.events["OrderCompleted"]["merchantAmount"] == TOTAL
    assert escrow.order(order)["status"] == Status.COMPLETED
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


def test_release_undelivered_reverts(shop, escrow, actors):
    order = shop.buy()
    chain.sleep(60 * DAY)
    with brownie.reverts(err("ReturnEscrowNotDelivered", order)):
        escrow.release(order, {"from": actors["brand"].account})


def test_release_after_return_request_reverts(shop, escrow, delivered, actors):
    order, _ = delivered
    shop.request_return(order)
    chain.sleep(40 * DAY)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        escrow.release(order, {"from": actors["brand"].account})


def test_release_unknown_order_reverts(escrow, actors):
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 5)):
        escrow.release(5, {"from": actors["brand"].account})


# ---------------------------------------------------------------- cancel undelivered


def test_cancel_undelivered_refunds_buyer_after_timeout(shop, escrow, actors):
    order = shop.buy()
    after = escrow.order(order)["purchasedAt"] + 30 * DAY
    buyer = actors["buyer"].account
    tx = opens_after(after, err("ReturnEscrowDeliveryPending", order, after), lambda: escrow.cancelUndelivered(order, {"from": buyer}))
    assert tx.events["OrderCancelled"]["orderId"] == order
    assert tx.events["OrderCancelled"]["refund"] == TOTAL
    assert escrow.order(order)["status"] == Status.CANCELLED
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


def test_cancel_delivered_order_reverts(shop, escrow, delivered, actors):
    order, at = delivered
    chain.sleep(31 * DAY)
    with brownie.reverts(err("ReturnEscrowAlreadyDelivered", order, at)):
        escrow.cancelUndelivered(order, {"from": actors["buyer"].account})


def test_only_buyer_cancels(shop, escrow, actors):
    order = shop.buy()
    chain.sleep(31 * DAY)
    for who in ("stranger", "brand"):
        with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors[who].address)):
            escrow.cancelUndelivered(order, {"from": actors[who].account})
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 9)):
        escrow.cancelUndelivered(9, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- request return


def test_request_return_inside_statutory_window(shop, escrow, delivered, actors):
    order, _ = delivered
    tx = shop.request_return(order, reason=3)
    ev = tx.events["ReturnRequested"]
    assert (ev["orderId"], ev["buyer"], ev["reason"], ev["statutory"]) == (order, actors["buyer"].address, 3, True)
    o = escrow.order(order)
    assert o["status"] == Status.RETURN_REQUESTED
    assert (o["reason"], o["statutory"], o["requestedAt"]) == (3, True, tx.timestamp)


def test_last_second_of_statutory_window_is_statutory(shop, escrow, delivered):
    order, at = delivered
    next_block_at(at + 14 * DAY)
    assert shop.request_return(order).events["ReturnRequested"]["statutory"] is True


def test_request_after_statutory_window_is_voluntary(shop, escrow, delivered):
    order, at = delivered
    next_block_at(at + 14 * DAY + 1)
    assert shop.request_return(order).events["ReturnRequested"]["statutory"] is False
    assert escrow.order(order)["statutory"] is False


def test_request_at_the_edge_of_return_window(shop, escrow, delivered):
    order, at = delivered
    next_block_at(at + 30 * DAY)
    tx = shop.request_return(order)
    assert tx.timestamp == at + 30 * DAY
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


def test_request_after_return_window_reverts(shop, escrow, delivered):
    order, at = delivered
    next_block_at(at + 30 * DAY + 1)
    with brownie.reverts(err("ReturnEscrowReturnWindowClosed", order, at + 30 * DAY)):
        shop.request_return(order)


def test_cn_return_window_is_seven_days(shop, escrow):
    order = shop.buy(market=MARKET_CN)
    shop.deliver(order)
    at = escrow.deliveredAt(order)
    next_block_at(at + 7 * DAY + 1)
    with brownie.reverts(err("ReturnEscrowReturnWindowClosed", order, at + 7 * DAY)):
        shop.request_return(order)


def test_us_request_is_never_statutory(shop, escrow):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    assert shop.request_return(order).events["ReturnRequested"]["statutory"] is False


def test_request_before_delivery_reverts(shop, escrow):
    order = shop.buy()
    with brownie.reverts(err("ReturnEscrowNotDelivered", order)):
        shop.request_return(order)


def test_only_buyer_requests_return(shop, escrow, delivered, actors):
    order, _ = delivered
    for who in ("buyer2", "brand"):
        with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors[who].address)):
            escrow.requestReturn(order, 0, 0, {"from": actors[who].account})


@pytest.mark.parametrize("reason", [7, 255])
def test_unknown_reason_reverts(shop, delivered, reason):
    order, _ = delivered
    with brownie.reverts(err("ReturnEscrowInvalidReason", reason)):
        shop.request_return(order, reason=reason)


def test_last_reason_is_accepted(shop, escrow, delivered):
    order, _ = delivered
    shop.request_return(order, reason=6)  # Other
    assert escrow.order(order)["reason"] == 6


def test_second_request_reverts(shop, delivered):
    order, _ = delivered
    shop.request_return(order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        shop.request_return(order)


def test_request_for_unknown_order_reverts(shop):
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 42)):
        shop.request_return(42)


# ---------------------------------------------------------------- request return by signature


@pytest.fixture
def sign_request(sign, escrow, escrow_domain, actors):
    def _sign(order, reason=0, signer="buyer", remedy=0, **fields):
        return sign(escrow_domain, "ReturnRequest", actors[signer], contract=escrow, orderId=order, reason=reason, remedy=remedy, **fields)

    return _sign


def submit(escrow, relayer, message, sig):
    return escrow.requestReturnBySig(eip712.call_args("ReturnRequest", message, sig)[:-1], sig, {"from": relayer})


def test_return_request_type_hash_and_domain(escrow, escrow_domain):
    assert bytes(escrow.getReturnRequestTypeHash()) == eip712.type_hash("ReturnRequest")
    assert bytes(escrow.getDomainSeparator()) == escrow_domain.separator


def test_relayed_request_by_signature(shop, escrow, delivered, sign_request, relayer, actors):
    order, _ = delivered
    message, sig = sign_request(order, reason=1)
    tx = submit(escrow, relayer, message, sig)
    ev = tx.events["ReturnRequested"]
    assert (ev["orderId"], ev["buyer"], ev["reason"], ev["statutory"]) == (order, actors["buyer"].address, 1, True)
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    assert escrow.getNonce(actors["buyer"].address) == 1


def test_replayed_request_does_not_apply_twice(shop, escrow, delivered, sign_request, relayer, actors):
    order, _ = delivered
    message, sig = sign_request(order)
    submit(escrow, relayer, message, sig)
    with brownie.reverts(err("SignatureInvalidNonce", actors["buyer"].address, 1, 0)):
        submit(escrow, relayer, message, sig)
    # The used nonce cannot be spent on another order either.
    other = shop.buy()
    shop.deliver(other)
    message, sig = sign_request(other, nonce=0)
    with brownie.reverts(err("SignatureInvalidNonce", actors["buyer"].address, 1, 0)):
        submit(escrow, relayer, message, sig)


def test_request_signed_by_someone_else_reverts(escrow, escrow_domain, delivered, relayer, actors):
    order, _ = delivered
    message = {"buyer": actors["buyer"].address, "orderId": order, "reason": 0, "remedy": 0, "nonce": 0, "deadline": chain.time() + 3600}
    sig = escrow_domain.sign(actors["buyer2"].key, "ReturnRequest", message)
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        submit(escrow, relayer, message, sig)


def test_request_signed_by_non_buyer_reverts(escrow, delivered, sign_request, relayer, actors):
    order, _ = delivered
    message, sig = sign_request(order, signer="buyer2")
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["buyer2"].address)):
        submit(escrow, relayer, message, sig)


def test_request_signed_for_another_contract_reverts(escrow, registry_domain, delivered, relayer, actors):
    order, _ = delivered
    message = {"buyer": actors["buyer"].address, "orderId": order, "reason": 0, "remedy": 0, "nonce": 0, "deadline": chain.time() + 3600}
    sig = registry_domain.sign(actors["buyer"].key, "ReturnRequest", message)
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        submit(escrow, relayer, message, sig)


def test_tampered_request_reverts(escrow, delivered, sign_request, relayer, actors):
    order, _ = delivered
    message, sig = sign_request(order, reason=0)
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        submit(escrow, relayer, {**message, "reason": 2}, sig)


def test_expired_request_reverts(escrow, delivered, sign_request, relayer):
    order, _ = delivered
    deadline = chain.time() + 60
    message, sig = sign_request(order, deadline=deadline)
    next_block_at(deadline + 1)
    with brownie.reverts(err("SignatureExpired", deadline)):
        submit(escrow, relayer, message, sig)


def test_cancelled_request_reverts(escrow, delivered, sign_request, relayer, actors):
    order, _ = delivered
    message, sig = sign_request(order)
    buyer = actors["buyer"].account
    with brownie.reverts(err("SignatureNonceTooLow", 0, 0)):
        escrow.increaseNonce(0, {"from": buyer})
    tx = escrow.increaseNonce(1, {"from": buyer})
    assert tx.events["NonceIncreased"]["newNonce"] == 1
    with brownie.reverts(err("SignatureInvalidNonce", buyer.address, 1, 0)):
        submit(escrow, relayer, message, sig)


def test_relayed_request_obeys_the_window(escrow, delivered, sign_request, relayer):
    order, at = delivered
    message, sig = sign_request(order, deadline=at + 40 * DAY)
    next_block_at(at + 30 * DAY + 1)
    with brownie.reverts(err("ReturnEscrowReturnWindowClosed", order, at + 30 * DAY)):
        submit(escrow, relayer, message, sig)
