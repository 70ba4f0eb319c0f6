"""Deadlines that move money without the other side: the inspection SLA, the statutory refund
deadline, a return that is never sent back and one sent back but never received.

Issue 9: every timeout refund is cash; one paid before any inspection leaves the order `Refunded`
(money paid, facts unknown) for a later inspection to decide the unit's fate; the overdue statutory
refund falls due on the law's calendar (`refundDueAt`) and pays what the attested facts give; claims
that rely on a missing scan wait the policy's relay delay beyond their deadline."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace.escrow import Facts, Grade, SettlementPath
from returntrace.policies import CN, EU, US
from returntrace.vocab import BizStep, Disposition
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    MARKET_CN,
    MARKET_EU,
    MARKET_US,
    Remedy,
    Status,
    err,
    next_block_at,
    next_monday,
    opens_after,
)

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
HOUR = 3600
S, P, U = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED
OVERDUE, UNINSPECTED, DISPATCHED = SettlementPath.OVERDUE, SettlementPath.UNINSPECTED, SettlementPath.DISPATCHED
REASON, RULING = b"\x0a" * 32, b"\x0b" * 32


def latest_time():
    """The latest block's time (brownie's own clock may lag the chain after a jump)."""
    return chain[-1].timestamp


def at(t):
    """Scan fields for a scan signed and relayed at `t` (with next_block_at(t)); the deadline is explicit."""
    return {"eventTime": t, "deadline": t + HOUR}


def assert_full_refund(tx, escrow, order, buyer):
    ev = tx.events["OrderSettled"]
    s = ev["settlement"]
    assert (ev["orderId"], ev["path"], ev["grade"]) == (order, UNINSPECTED, Grade.NONE)
    assert (s["refund"], s["merchantAmount"], s["points"], s["voucher"]) == (TOTAL, 0, 0, 0)
    o = escrow.order(order)
    # Refunded, not Settled: the money is paid, the unit's fate waits for an inspection.
    assert (o["status"], o["grade"]) == (Status.REFUNDED, Grade.NONE)
    assert escrow.credits(ZERO_ADDRESS, buyer) == TOTAL


@pytest.fixture
def monday():
    """00:00 UTC of a Monday at least three days ahead."""
    return next_monday(latest_time() + 3 * DAY)


def returned_on(shop, escrow, monday, market=MARKET_EU, received_after=DAY):
    """Delivered on `monday` at 10:00 UTC, return requested at 11:00, received `received_after` the
    request: (order id, request time, receipt time)."""
    order = shop.buy(market=market)
    next_block_at(monday + 10 * HOUR)
    shop.deliver(order, **at(monday + 10 * HOUR))
    requested = monday + 11 * HOUR
    next_block_at(requested)
    shop.request_return(order)
    received = requested + received_after
    next_block_at(received)
    shop.receive(order, **at(received))
    assert escrow.returnReceivedAt(order) == received
    return order, requested, received


# ---------------------------------------------------------------- uninspected


@pytest.mark.parametrize("market, sla", [(MARKET_EU, EU.inspection_sla), (MARKET_US, US.inspection_sla)])
def test_uninspected_refund_after_sla(shop, escrow, actors, market, sla):
    order = shop.returned(market=market)
    end = escrow.returnReceivedAt(order) + sla
    buyer = actors["buyer"].account
    tx = opens_after(
        end, err("ReturnEscrowSlaNotElapsed", order, end), lambda: escrow.claimUninspectedRefund(order, {"from": buyer})
    )
    assert_full_refund(tx, escrow, order, buyer.address)
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


def test_receiving_scan_recorded_before_the_request_is_not_the_receipt(shop, escrow, actors):
    """Issue 9: a receiving scan under the RMA recorded before the buyer asked proves nothing of this
    return (v1 counted it, from the request): no receipt, so no SLA runs and nothing can be inspected."""
    order = shop.buy()
    shop.deliver(order)
    shop.receive(order)  # a scan under the order's RMA before any request
    chain.sleep(2 * DAY)
    shop.request_return(order)
    assert escrow.returnReceivedAt(order) == 0
    chain.sleep(EU.inspection_sla + DAY)
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        shop.inspect(order, S | P, Grade.A)


def test_sla_starts_at_late_receiving_scan(shop, escrow, actors):
    order = shop.buy()
    shop.deliver(order)
    requested = shop.request_return(order).timestamp
    received = requested + 3 * DAY
    next_block_at(received)
    shop.receive(order, **at(received))
    assert escrow.returnReceivedAt(order) == received
    next_block_at(requested + EU.inspection_sla + 1)  # past an SLA counted from the request
    with brownie.reverts(err("ReturnEscrowSlaNotElapsed", order, received + EU.inspection_sla)):
        escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    assert "OrderSettled" in shop.inspect(order, S | P, Grade.A, deadline=requested + EU.inspection_sla + HOUR).events


def test_uninspected_refund_needs_receiving_scan(shop, escrow, actors):
    order = shop.buy()
    shop.deliver(order)
    shop.request_return(order)
    chain.sleep(20 * DAY)
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})


def test_only_buyer_claims_uninspected_refund(shop, escrow, actors):
    order = shop.returned()
    chain.sleep(6 * DAY)
    for who in ("stranger", "brand"):
        with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors[who].address)):
            escrow.claimUninspectedRefund(order, {"from": actors[who].account})


def test_uninspected_refund_after_inspection_reverts(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, S, Grade.B)
    chain.sleep(6 * DAY)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.INSPECTED)):
        escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})


def test_late_inspection_after_a_timeout_refund_decides_only_the_units_fate(shop, escrow, actors):
    """Issue 9: after the timeout refund the inspection moves no money; its facts say where the unit goes."""
    order = shop.returned()
    chain.sleep(EU.inspection_sla + 1)
    escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    owed = escrow.totalOwed(ZERO_ADDRESS)
    tx = shop.inspect(order, U, Grade.C)
    assert "OrderSettled" not in tx.events
    assert (tx.events["DispositionDecided"]["grade"], tx.events["DispositionDecided"]["disposition"]) == (
        Grade.C,
        EU.terms[2].disposition,
    )
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"]) == (Status.SETTLED, U, Grade.C)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    assert escrow.totalOwed(ZERO_ADDRESS) == owed
    shop.assert_solvent()


# ---------------------------------------------------------------- overdue statutory refund


def test_overdue_refund_not_for_voluntary_market(shop, escrow, actors):
    order = shop.returned(market=MARKET_US)
    assert escrow.refundDueAt(order) == 0
    chain.sleep(60 * DAY)
    with brownie.reverts(err("ReturnEscrowNotStatutory", order)):
        escrow.claimOverdueRefund(order, {"from": actors["buyer"].account})


def test_overdue_refund_not_for_late_eu_request(shop, escrow, actors):
    order = shop.buy()
    shop.deliver(order)
    chain.sleep(20 * DAY)
    shop.request_return(order)
    shop.receive(order)
    assert escrow.order(order)["inWithdrawal"] is False
    chain.sleep(30 * DAY)
    with brownie.reverts(err("ReturnEscrowNotStatutory", order)):
        escrow.claimOverdueRefund(order, {"from": actors["buyer"].account})


@pytest.mark.parametrize(
    "market, due_after_monday, refund",
    [
        # EU: 14 whole days from the request (Monday), to 23:59:59 UTC-4 of Monday + 14; price and delivery.
        (MARKET_EU, 15 * DAY + 4 * HOUR - 1, TOTAL),
        # China: 7 whole days from the merchant's receipt (Tuesday 18:00 UTC+8), to 24:00 UTC+8 of
        # Tuesday + 7; the price less the return shipping, the delivery fee is not refunded.
        (MARKET_CN, 9 * DAY - 8 * HOUR - 1, DEFAULT_PRICE - DEFAULT_RETURN_FEE),
    ],
    ids=["EU", "CN"],
)
def test_overdue_refund_after_statutory_deadline(shop, escrow, actors, monday, market, due_after_monday, refund):
    """Issue 9: due on the law's calendar (China counts from the receipt, no longer from the request);
    with nothing attested it pays as grade A with the seal intact (the law's amount, no longer price +
    delivery in every market) and leaves the order Refunded."""
    order, _, _ = returned_on(shop, escrow, monday, market)
    due = monday + due_after_monday
    assert escrow.refundDueAt(order) == due
    buyer = actors["buyer"].account
    tx = opens_after(
        due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer})
    )
    ev = tx.events["OrderSettled"]
    s = ev["settlement"]
    assert (ev["path"], ev["grade"], s["statutory"], s["refund"], s["merchantAmount"], s["points"]) == (
        OVERDUE,
        Grade.NONE,
        True,
        refund,
        TOTAL - refund,
        0,
    )
    assert escrow.order(order)["status"] == Status.REFUNDED
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == refund
    shop.assert_solvent()


@pytest.mark.parametrize("contested", [False, True], ids=["inspection-mismatch", "buyer-contested"])
def test_overdue_refund_in_dispute_pays_by_the_attested_facts(shop, escrow, actors, contested):
    """Issue 9 (attack 3(b)): a dispute still open when the refund falls due is settled by the facts
    attested, never at price + delivery whatever they were."""
    order = shop.returned()
    buyer = actors["buyer"].account
    if contested:
        shop.inspect(order, S, Grade.B)  # seal intact, packaging opened: B, the withdrawal right stands
        escrow.contest(order, {"from": buyer})
        refund, points = TOTAL - DEFAULT_RETURN_FEE, 0
    else:
        shop.inspect(order, U, Grade.A)  # used, seal broken, claimed A: mismatch; the facts give C
        refund, points = 0, DEFAULT_PRICE * EU.terms[2].points_bps // 10_000  # hygiene exception: C terms
    assert escrow.order(order)["status"] == Status.DISPUTED
    due = escrow.refundDueAt(order)
    tx = opens_after(
        due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer})
    )
    ev = tx.events["OrderSettled"]
    assert (ev["path"], ev["grade"], ev["settlement"]["refund"], ev["settlement"]["points"]) == (
        OVERDUE,
        Grade.B if contested else Grade.C,
        refund,
        points,
    )
    assert escrow.order(order)["status"] == Status.SETTLED
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == refund
    shop.assert_solvent()
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})


def test_overdue_refund_of_an_inspected_order_pays_by_the_attested_facts(shop, escrow, actors):
    """Issue 9: an inspected order whose dispute window outlasts the due date may be claimed too
    (v1 refused it), at the amount its facts give."""
    order = shop.returned()
    shop.inspect(order, S, Grade.B)
    due = escrow.refundDueAt(order)
    next_block_at(due + 1)
    ev = escrow.claimOverdueRefund(order, {"from": actors["buyer"].account}).events["OrderSettled"]
    assert (ev["path"], ev["grade"], ev["settlement"]["refund"]) == (OVERDUE, Grade.B, TOTAL - DEFAULT_RETURN_FEE)
    shop.assert_solvent()


def test_refund_is_withheld_until_receipt_and_a_late_return_gives_the_sla(shop, escrow, actors):
    """EU Art. 13(3): the trader may withhold the refund until the goods are back (or their dispatch
    proved). Issue 9: a return that arrives after the 14 days falls due at its receipt + the
    inspection SLA (Art. 14(1): the buyer sent late), no longer at the receiving scan itself."""
    order = shop.buy()
    shop.deliver(order)
    requested = shop.request_return(order).timestamp
    buyer = actors["buyer"].account
    next_block_at(requested + 20 * DAY)
    assert escrow.refundDueAt(order) == 0
    with brownie.reverts(err("ReturnEscrowRefundNotDue", order, 0)):
        escrow.claimOverdueRefund(order, {"from": buyer})
    received = requested + 20 * DAY + HOUR
    next_block_at(received)
    shop.receive(order, **at(received))
    due = received + EU.inspection_sla
    assert escrow.refundDueAt(order) == due
    tx = opens_after(
        due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer})
    )
    ev = tx.events["OrderSettled"]
    assert (ev["path"], ev["settlement"]["refund"]) == (OVERDUE, TOTAL)
    assert escrow.order(order)["status"] == Status.REFUNDED


def test_overdue_refund_in_other_states_reverts(shop, escrow, actors):
    buyer = actors["buyer"].account
    active = shop.buy()
    with brownie.reverts(err("ReturnEscrowInvalidStatus", active, Status.ACTIVE)):
        escrow.claimOverdueRefund(active, {"from": buyer})
    settled = shop.returned()
    shop.inspect(settled, S | P, Grade.A)
    chain.sleep(20 * DAY)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", settled, Status.SETTLED)):
        escrow.claimOverdueRefund(settled, {"from": buyer})


def test_only_buyer_claims_overdue_refund(shop, escrow, actors):
    order = shop.returned()
    next_block_at(escrow.refundDueAt(order) + 1)
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["stranger"].address)):
        escrow.claimOverdueRefund(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 99)):
        escrow.claimOverdueRefund(99, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- never sent back


@pytest.fixture
def requested(shop, escrow):
    """An EU return requested but not (yet) scanned in: (order id, release time). Issue 9: the
    merchant waits the delivery timeout and the relay delay, so a scan signed in time still counts."""
    order = shop.buy()
    shop.deliver(order)
    tx = shop.request_return(order)
    return order, tx.timestamp + EU.delivery_timeout + EU.max_relay_delay


def test_unreturned_unit_releases_escrow_to_merchant(shop, escrow, actors, requested):
    order, after = requested
    stranger = actors["stranger"].account
    tx = opens_after(
        after, err("ReturnEscrowWindowOpen", order, after), lambda: escrow.releaseUnreturned(order, {"from": stranger})
    )
    assert tx.events["OrderCompleted"]["orderId"] == order
    assert tx.events["OrderCompleted"]["merchantAmount"] == TOTAL
    assert escrow.order(order)["status"] == Status.COMPLETED
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


def test_unreturned_release_in_token(shop, escrow, token, actors):
    order = shop.buy(token=token, price=1_000_000, delivery_fee=50_000, return_fee=0)
    shop.deliver(order)
    shop.request_return(order)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 5)
    escrow.releaseUnreturned(order, {"from": actors["stranger"].account})
    assert escrow.credits(token, actors["brand"].address) == 1_050_000
    shop.assert_solvent(token)
    escrow.withdraw(token, {"from": actors["brand"].account})
    shop.assert_solvent(token)


def test_received_unit_is_not_released_to_merchant(shop, escrow, actors, requested):
    order, after = requested
    shop.receive(order)
    received = escrow.returnReceivedAt(order)
    next_block_at(after + 1)
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, received)):
        escrow.releaseUnreturned(order, {"from": actors["brand"].account})


def test_late_receipt_before_release_protects_buyer(shop, escrow, actors, requested):
    """Scanned in after the timeout but before anyone released: the return goes on."""
    order, after = requested
    received = after + DAY
    next_block_at(received)
    shop.receive(order, **at(received))
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, received)):
        escrow.releaseUnreturned(order, {"from": actors["brand"].account})
    tx = shop.inspect(order, S | P, Grade.A, deadline=received + HOUR)
    assert tx.events["OrderSettled"]["settlement"]["refund"] == TOTAL  # the request was statutory


def test_scan_under_wrong_rma_does_not_block_release(shop, escrow, record, actors, requested):
    order, after = requested
    record(
        shop.unit(order), BizStep.RECEIVING, "warehouse", Disposition.RETURNED, bizTransaction=escrow.orderRef(order)
    )
    next_block_at(after + 1)
    tx = escrow.releaseUnreturned(order, {"from": actors["brand"].account})
    assert "OrderCompleted" in tx.events


def test_release_unreturned_in_other_states_reverts(shop, escrow, actors):
    brand = actors["brand"].account
    active = shop.buy()
    shop.deliver(active)
    disputed = shop.returned()
    shop.inspect(disputed, U, Grade.A)
    chain.sleep(40 * DAY)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", active, Status.ACTIVE)):
        escrow.releaseUnreturned(active, {"from": brand})
    with brownie.reverts(err("ReturnEscrowInvalidStatus", disputed, Status.DISPUTED)):
        escrow.releaseUnreturned(disputed, {"from": brand})
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 99)):
        escrow.releaseUnreturned(99, {"from": brand})


# ---------------------------------------------------------------- sent back, never received (issue 9)


def pickup(shop, record, order, t):
    """The carrier's signed pickup scan (Accepting) under the order's RMA at `t`: proof of dispatch."""
    next_block_at(t)
    return record(
        shop.unit(order),
        BizStep.ACCEPTING,
        "carrier",
        Disposition.IN_TRANSIT,
        bizTransaction=shop.d.escrow.rmaRef(order),
        **at(t),
    )


def test_dispatched_refund_after_delivery_timeout_and_relay_delay(shop, escrow, record, actors, requested):
    order, _ = requested
    sent = latest_time() + HOUR
    pickup(shop, record, order, sent)
    assert escrow.dispatchedAt(order) == sent
    due = sent + EU.delivery_timeout + EU.max_relay_delay
    buyer = actors["buyer"].account
    tx = opens_after(
        due, err("ReturnEscrowWindowOpen", order, due), lambda: escrow.claimDispatchedRefund(order, {"from": buyer})
    )
    ev = tx.events["OrderSettled"]
    s = ev["settlement"]
    # As grade A with the seal intact: the EU statutory amount, price and delivery.
    assert (ev["path"], ev["grade"], s["statutory"], s["refund"], s["merchantAmount"]) == (
        DISPATCHED,
        Grade.NONE,
        True,
        TOTAL,
        0,
    )
    assert escrow.order(order)["status"] == Status.REFUNDED
    shop.assert_solvent()


def test_dispatched_refund_of_exchange_stays_cash(shop, escrow, points, record, actors):
    """Every timeout refund is cash (issue 9), even where the buyer had chosen the exchange."""
    order = shop.buy(market=MARKET_US)
    shop.deliver(order)
    shop.request_return(order, remedy=Remedy.EXCHANGE)
    sent = latest_time() + HOUR
    pickup(shop, record, order, sent)
    next_block_at(sent + US.delivery_timeout + US.max_relay_delay + 1)
    s = escrow.claimDispatchedRefund(order, {"from": actors["buyer"].account}).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["points"], s["voucher"]) == (
        DEFAULT_PRICE,
        0,
        0,
    )  # US grade A terms: the price, merchant ships back
    assert points.pointsOf(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == DEFAULT_PRICE
    shop.assert_solvent()


def test_dispatched_refund_needs_a_dispatch_and_no_receipt(shop, escrow, record, actors, requested):
    order, _ = requested
    buyer = actors["buyer"].account
    chain.sleep(40 * DAY)
    with brownie.reverts(err("ReturnEscrowNotDispatched", order)):
        escrow.claimDispatchedRefund(order, {"from": buyer})
    arrived = shop.returned()
    pickup(shop, record, arrived, latest_time() + HOUR)
    chain.sleep(40 * DAY)
    with brownie.reverts(err("ReturnEscrowNotDispatched", arrived)):  # it arrived: the inspection decides
        escrow.claimDispatchedRefund(arrived, {"from": buyer})


def test_only_buyer_claims_dispatched_refund(shop, escrow, record, actors, requested):
    order, _ = requested
    pickup(shop, record, order, latest_time() + HOUR)
    chain.sleep(40 * DAY)
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["brand"].address)):
        escrow.claimDispatchedRefund(order, {"from": actors["brand"].account})


def test_cn_refund_is_not_due_before_the_receipt(shop, escrow, record):
    """China counts its 7 days from the merchant's receipt: a dispatch alone does not make the refund due."""
    order = shop.buy(market=MARKET_CN)
    shop.deliver(order)
    shop.request_return(order)
    pickup(shop, record, order, latest_time() + HOUR)
    chain.sleep(CN.delivery_timeout)
    assert escrow.refundDueAt(order) == 0
