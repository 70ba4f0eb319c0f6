"""Deadlines that move money without the other side: the inspection SLA, the statutory refund
deadline, and a return that is never sent back."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace.policies import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from tests.support import DAY, DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, MARKET_CN, MARKET_EU, MARKET_US, Status, err, next_block_at, opens_after

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
S, P, U = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED


def sla_end(escrow, order, sla=5 * DAY):
    return max(escrow.returnReceivedAt(order), escrow.order(order)["requestedAt"]) + sla


def assert_full_refund(tx, escrow, order, buyer):
    ev = tx.events["OrderSettled"]
    assert (ev["orderId"], ev["grade"], ev["refund"], ev["merchantAmount"], ev["points"]) == (order, Grade.NONE, TOTAL, 0, 0)
    o = escrow.order(order)
    assert (o["status"], o["grade"]) == (Status.SETTLED, Grade.NONE)
    assert escrow.credits(ZERO_ADDRESS, buyer) == TOTAL


# ---------------------------------------------------------------- uninspected


@pytest.mark.parametrize("market, sla", [(MARKET_EU, 5 * DAY), (MARKET_US, 7 * DAY)])
def test_uninspected_refund_after_sla(shop, escrow, actors, market, sla):
    order = shop.returned(market=market)
    end = sla_end(escrow, order, sla)
    buyer = actors["buyer"].account
    tx = opens_after(end, err("ReturnEscrowSlaNotElapsed", order, end), lambda: escrow.claimUninspectedRefund(order, {"from": buyer}))
    assert_full_refund(tx, escrow, order, buyer.address)
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


def test_sla_starts_at_request_when_scanned_in_earlier(shop, escrow, actors):
    order = shop.buy()
    shop.deliver(order)
    shop.receive(order)  # the parcel arrives before the buyer files the request
    chain.sleep(2 * DAY)
    tx = shop.request_return(order)
    end = tx.timestamp + 5 * DAY
    assert escrow.returnReceivedAt(order) < tx.timestamp
    next_block_at(end)
    with brownie.reverts(err("ReturnEscrowSlaNotElapsed", order, end)):
        escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})


def test_sla_starts_at_late_receiving_scan(shop, escrow, actors):
    order = shop.buy()
    shop.deliver(order)
    requested = shop.request_return(order).timestamp
    chain.sleep(3 * DAY)
    shop.receive(order)
    received = escrow.returnReceivedAt(order)
    assert received > requested + 2 * DAY
    next_block_at(requested + 5 * DAY + 1)  # past an SLA counted from the request
    with brownie.reverts(err("ReturnEscrowSlaNotElapsed", order, received + 5 * DAY)):
        escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    assert "OrderSettled" in shop.inspect(order, S | P, Grade.A).events


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


# ---------------------------------------------------------------- overdue statutory refund


def test_overdue_refund_not_for_voluntary_market(shop, escrow, actors):
    order = shop.returned(market=MARKET_US)
    chain.sleep(60 * DAY)
    with brownie.reverts(err("ReturnEscrowNotStatutory", order)):
        escrow.claimOverdueRefund(order, {"from": actors["buyer"].account})


def test_overdue_refund_not_for_late_eu_request(shop, escrow, actors):
    order = shop.buy()
    shop.deliver(order)
    chain.sleep(20 * DAY)
    shop.request_return(order)
    shop.receive(order)
    chain.sleep(30 * DAY)
    with brownie.reverts(err("ReturnEscrowNotStatutory", order)):
        escrow.claimOverdueRefund(order, {"from": actors["buyer"].account})


@pytest.mark.parametrize("market, deadline", [(MARKET_EU, 14 * DAY), (MARKET_CN, 7 * DAY)])
def test_overdue_refund_after_statutory_deadline(shop, escrow, actors, market, deadline):
    order = shop.returned(market=market)
    due = escrow.order(order)["requestedAt"] + deadline
    buyer = actors["buyer"].account
    tx = opens_after(due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer}))
    assert_full_refund(tx, escrow, order, buyer.address)
    assert tx.events["OrderSettled"]["statutory"] is True
    shop.assert_solvent()


@pytest.mark.parametrize("contested", [False, True])
def test_overdue_refund_in_dispute(shop, escrow, actors, contested):
    order = shop.returned()
    buyer = actors["buyer"].account
    if contested:
        shop.inspect(order, S, Grade.B)
        escrow.contest(order, {"from": buyer})
    else:
        shop.inspect(order, U, Grade.A)  # mismatch
    assert escrow.order(order)["status"] == Status.DISPUTED
    due = escrow.order(order)["requestedAt"] + 14 * DAY
    tx = opens_after(due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer}))
    assert_full_refund(tx, escrow, order, buyer.address)
    shop.assert_solvent()
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        escrow.resolveDispute(order, Grade.C, {"from": actors["arbiter"].account})


def test_refund_deadline_waits_for_late_receipt(shop, escrow, actors):
    """EU Art. 13(3): the trader may withhold the refund until the goods are back."""
    order = shop.buy()
    shop.deliver(order)
    shop.request_return(order)
    buyer = actors["buyer"].account
    chain.sleep(20 * DAY)
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        escrow.claimOverdueRefund(order, {"from": buyer})
    tx = shop.receive(order)
    received = escrow.returnReceivedAt(order)
    assert received > escrow.order(order)["requestedAt"] + 14 * DAY
    next_block_at(received + 1)
    tx = escrow.claimOverdueRefund(order, {"from": buyer})
    assert_full_refund(tx, escrow, order, buyer.address)


def test_overdue_refund_in_other_states_reverts(shop, escrow, actors):
    buyer = actors["buyer"].account
    active = shop.buy()
    with brownie.reverts(err("ReturnEscrowInvalidStatus", active, Status.ACTIVE)):
        escrow.claimOverdueRefund(active, {"from": buyer})
    inspected = shop.returned()
    shop.inspect(inspected, S, Grade.B)
    chain.sleep(20 * DAY)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", inspected, Status.INSPECTED)):
        escrow.claimOverdueRefund(inspected, {"from": buyer})


def test_only_buyer_claims_overdue_refund(shop, escrow, actors):
    order = shop.returned()
    chain.sleep(15 * DAY)
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["stranger"].address)):
        escrow.claimOverdueRefund(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 99)):
        escrow.claimOverdueRefund(99, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- never sent back


@pytest.fixture
def requested(shop, escrow):
    """An EU return requested but not (yet) scanned in: (order id, release time)."""
    order = shop.buy()
    shop.deliver(order)
    tx = shop.request_return(order)
    return order, tx.timestamp + 30 * DAY


def test_unreturned_unit_releases_escrow_to_merchant(shop, escrow, actors, requested):
    order, after = requested
    stranger = actors["stranger"].account
    tx = opens_after(after, err("ReturnEscrowWindowOpen", order, after), lambda: escrow.releaseUnreturned(order, {"from": stranger}))
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
    chain.sleep(30 * DAY + 5)
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
    chain.sleep(31 * DAY)
    shop.receive(order)
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, escrow.returnReceivedAt(order))):
        escrow.releaseUnreturned(order, {"from": actors["brand"].account})
    tx = shop.inspect(order, S | P, Grade.A)
    assert tx.events["OrderSettled"]["refund"] == TOTAL  # the request was statutory


def test_scan_under_wrong_rma_does_not_block_release(shop, escrow, record, actors, requested):
    order, after = requested
    record(shop.unit(order), BizStep.RECEIVING, "warehouse", Disposition.RETURNED, bizTransaction=escrow.orderRef(order))
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
