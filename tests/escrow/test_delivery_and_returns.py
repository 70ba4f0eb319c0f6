"""Delivery clocks: release after the return period, cancellation of undelivered orders, return
requests (direct and relayed with the buyer's EIP-712 signature).

Statutory periods run in whole days on the law's calendar (Regulation 1182/71; China's Civil Code
Art. 201-203): the day of delivery does not count, the period ends at midnight of its last day in the
market's latest time zone, and a last day on a weekend or a registered holiday moves to the next
working day. Tests deliver at a chosen moment of a known week and count the days by hand."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712
from returntrace.policies import EU
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
    next_monday,
    opens_after,
)

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
HOUR = 3600


def latest_time():
    """The latest block's time: what the chain says now (brownie's own clock may lag after a jump)."""
    return chain[-1].timestamp


def deliver_at(shop, order, t):
    """The carrier's delivery scan, signed and relayed at `t` (the deadline is explicit: brownie's
    clock may lag the block time that next_block_at set until its background resync)."""
    next_block_at(t)
    shop.deliver(order, eventTime=t, deadline=t + HOUR)


@pytest.fixture
def monday():
    """00:00 UTC of a Monday far enough ahead that a delivery on the Saturday before it follows the purchase."""
    return next_monday(latest_time() + 3 * DAY)


@pytest.fixture
def delivered(shop, escrow, monday):
    """An EU order delivered on Monday at 10:00 UTC (06:00 in UTC-4, the Union's latest time zone):
    (order id, delivery time). Its 14 days end with the Monday two weeks later, 23:59:59 in UTC-4."""
    order = shop.buy()
    deliver_at(shop, order, monday + 10 * HOUR)
    assert escrow.deliveredAt(order) == monday + 10 * HOUR
    return order, monday + 10 * HOUR


# ---------------------------------------------------------------- delivery


def test_delivery_scan_starts_the_clock_at_its_event_time(shop, escrow):
    order = shop.buy()
    assert escrow.deliveredAt(order) == 0
    assert escrow.returnWindowCloses(order) == 0
    purchased = escrow.order(order)["purchasedAt"]
    # Signed half a day after the purchase, relayed a day after it: within the policy's relay delay.
    next_block_at(purchased + DAY)
    shop.deliver(order, eventTime=purchased + DAY // 2)
    assert escrow.deliveredAt(order) == purchased + DAY // 2


def test_delivery_relayed_later_than_the_relay_delay_counts_from_its_recording(shop, escrow):
    """A scan held back longer than maxRelayDelay cannot date itself back: it counts at its
    recording less the delay (here a day), so a late relay cannot shorten the buyer's period."""
    order = shop.buy()
    purchased = escrow.order(order)["purchasedAt"]
    next_block_at(purchased + 5 * DAY)
    shop.deliver(order, eventTime=purchased + DAY)
    assert EU.max_relay_delay == DAY
    assert escrow.deliveredAt(order) == purchased + 4 * DAY


def test_delivery_never_counts_before_purchase(shop, escrow):
    order = shop.buy()
    purchased = escrow.order(order)["purchasedAt"]
    next_block_at(purchased + 60)
    shop.deliver(order, eventTime=purchased - 3 * DAY)
    assert escrow.deliveredAt(order) == purchased


def test_delivery_scan_for_another_order_does_not_count(shop, escrow, record):
    order = shop.buy()
    other = shop.buy()
    shop.deliver(other)
    record(
        shop.unit(order), BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=escrow.orderRef(other)
    )
    assert escrow.deliveredAt(order) == 0


# ---------------------------------------------------------------- release


@pytest.mark.parametrize(
    "market, closes_after_monday",
    [
        # EU: the 30-day voluntary window outlasts the 14 statutory days (Monday + 14, 23:59:59 UTC-4).
        (MARKET_EU, 30 * DAY + 10 * HOUR),
        # US: no statutory period; the policy's 30 days from the delivery scan.
        (MARKET_US, 30 * DAY + 10 * HOUR),
        # China: 7 whole days end with Monday + 7 at 24:00 in UTC+8 (16:00 UTC), later than delivery + 7 x 24 h.
        (MARKET_CN, 7 * DAY + 16 * HOUR - 1),
    ],
    ids=["EU", "US", "CN"],
)
def test_release_pays_merchant_after_return_period(shop, escrow, actors, monday, market, closes_after_monday):
    order = shop.buy(market=market)
    deliver_at(shop, order, monday + 10 * HOUR)
    closes = monday + closes_after_monday
    assert escrow.returnWindowCloses(order) == closes
    tx = opens_after(
        closes,
        err("ReturnEscrowWindowOpen", order, closes),
        lambda: escrow.release(order, {"from": actors["stranger"].account}),
    )
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


def test_cancel_undelivered_refunds_buyer_after_timeout_and_relay_delay(shop, escrow, actors):
    """Issue 9: a delivery scan signed before the timeout may still be relayed within the policy's
    relay delay, so the buyer cancels only after delivery timeout + maxRelayDelay."""
    order = shop.buy()
    after = escrow.order(order)["purchasedAt"] + EU.delivery_timeout + EU.max_relay_delay
    buyer = actors["buyer"].account
    tx = opens_after(
        after, err("ReturnEscrowWindowOpen", order, after), lambda: escrow.cancelUndelivered(order, {"from": buyer})
    )
    assert tx.events["OrderCancelled"]["orderId"] == order
    assert tx.events["OrderCancelled"]["refund"] == TOTAL
    assert escrow.order(order)["status"] == Status.CANCELLED
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


def test_cancel_delivered_order_reverts(shop, escrow, delivered, actors):
    order, at = delivered
    chain.sleep(32 * DAY)
    with brownie.reverts(err("ReturnEscrowAlreadyDelivered", order, at)):
        escrow.cancelUndelivered(order, {"from": actors["buyer"].account})


def test_only_buyer_cancels(shop, escrow, actors):
    order = shop.buy()
    chain.sleep(32 * DAY)
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
    assert (ev["orderId"], ev["buyer"], ev["reason"], ev["inWithdrawal"], ev["remedy"]) == (
        order,
        actors["buyer"].address,
        3,
        True,
        0,
    )
    o = escrow.order(order)
    assert o["status"] == Status.RETURN_REQUESTED
    assert (o["reason"], o["inWithdrawal"], o["requestedAt"]) == (3, True, tx.timestamp)


# Issue 9 (Regulation 1182/71): the 14 days are whole days ending at midnight of the last day in the
# Union's latest time zone (UTC-4), a Saturday or Sunday end moving to Monday, no longer 14 x 24 h
# from the scan. Each delivery below ends its period on the Monday two weeks after `monday`,
# 23:59:59 in UTC-4, that is `monday` + 15 days + 4 h - 1 s in UTC.
STATUTORY_END = 15 * DAY + 4 * 3600 - 1
DELIVERIES = {
    "monday-morning": 10 * 3600,  # Monday 06:00 local: day 14 is a Monday
    "saturday": -2 * DAY + 14 * 3600,  # Saturday 10:00 local: day 14 is a Saturday, moved to Monday
    "monday-evening-local": DAY + 2 * 3600,  # Tuesday 02:00 UTC is still Monday 22:00 in UTC-4
}


@pytest.mark.parametrize("delivery", DELIVERIES.values(), ids=DELIVERIES.keys())
def test_last_second_of_statutory_period_is_in_withdrawal(shop, escrow, monday, delivery):
    order = shop.buy()
    deliver_at(shop, order, monday + delivery)
    next_block_at(monday + STATUTORY_END)
    assert shop.request_return(order).events["ReturnRequested"]["inWithdrawal"] is True
    assert escrow.order(order)["inWithdrawal"] is True


@pytest.mark.parametrize("delivery", DELIVERIES.values(), ids=DELIVERIES.keys())
def test_request_after_statutory_period_is_voluntary(shop, escrow, monday, delivery):
    order = shop.buy()
    deliver_at(shop, order, monday + delivery)
    next_block_at(monday + STATUTORY_END + 1)
    assert shop.request_return(order).events["ReturnRequested"]["inWithdrawal"] is False
    assert escrow.order(order)["inWithdrawal"] is False


def test_statutory_period_ending_on_a_holiday_ends_the_next_working_day(
    shop, escrow, policies, admin, delivered, monday
):
    order, _ = delivered
    # The law admin registers day 14 (the Monday, counted in days since 1970-01-01) as a public holiday.
    policies.setHoliday(MARKET_EU, (monday + 14 * DAY) // DAY, True, {"from": admin})
    next_block_at(monday + STATUTORY_END + DAY)  # Tuesday 23:59:59 in UTC-4
    assert shop.request_return(order).events["ReturnRequested"]["inWithdrawal"] is True


def test_request_at_the_edge_of_return_window(shop, escrow, delivered):
    order, at = delivered
    assert escrow.returnWindowCloses(order) == at + 30 * DAY  # the voluntary window outlasts the statutory one
    next_block_at(at + 30 * DAY)
    tx = shop.request_return(order)
    assert tx.timestamp == at + 30 * DAY
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


def test_request_after_return_window_reverts(shop, escrow, delivered):
    order, at = delivered
    next_block_at(at + 30 * DAY + 1)
    with brownie.reverts(err("ReturnEscrowReturnWindowClosed", order, at + 30 * DAY)):
        shop.request_return(order)


def test_cn_return_period_is_seven_whole_days(shop, escrow, monday):
    """China (Civil Code Art. 201): seven days from the day after delivery, ending at 24:00 (UTC+8)
    of the seventh: Monday + 7 at 16:00 UTC, later than delivery + 7 x 24 h (issue 9)."""
    order = shop.buy(market=MARKET_CN)
    deliver_at(shop, order, monday + 10 * HOUR)
    closes = monday + 7 * DAY + 16 * HOUR - 1
    assert escrow.returnWindowCloses(order) == closes
    next_block_at(closes)
    assert shop.request_return(order).events["ReturnRequested"]["inWithdrawal"] is True


def test_cn_request_after_the_seventh_day_reverts(shop, escrow, monday):
    order = shop.buy(market=MARKET_CN)
    deliver_at(shop, order, monday + 10 * HOUR)
    closes = monday + 7 * DAY + 16 * HOUR - 1
    next_block_at(closes + 1)
    with brownie.reverts(err("ReturnEscrowReturnWindowClosed", order, closes)):
        shop.request_return(order)


def test_cn_period_ending_on_a_sunday_ends_on_monday(shop, escrow, monday):
    order = shop.buy(market=MARKET_CN)
    deliver_at(shop, order, monday - DAY + 2 * HOUR)  # Sunday 10:00 in UTC+8: day 7 is a Sunday
    closes = monday + 7 * DAY + 16 * HOUR - 1  # the next Monday, 24:00 in UTC+8
    assert escrow.returnWindowCloses(order) == closes


def test_us_request_is_never_statutory(shop, escrow):
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    assert shop.request_return(order).events["ReturnRequested"]["inWithdrawal"] is False


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
        fields.setdefault("deadline", latest_time() + HOUR)
        return sign(
            escrow_domain, "ReturnRequest", actors[signer], orderId=order, reason=reason, remedy=remedy, **fields
        )

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
    assert (ev["orderId"], ev["buyer"], ev["reason"], ev["inWithdrawal"]) == (order, actors["buyer"].address, 1, True)
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
    message = {
        "buyer": actors["buyer"].address,
        "orderId": order,
        "reason": 0,
        "remedy": 0,
        "nonce": 0,
        "deadline": latest_time() + HOUR,
    }
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
    message = {
        "buyer": actors["buyer"].address,
        "orderId": order,
        "reason": 0,
        "remedy": 0,
        "nonce": 0,
        "deadline": latest_time() + HOUR,
    }
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
    deadline = latest_time() + 60
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
