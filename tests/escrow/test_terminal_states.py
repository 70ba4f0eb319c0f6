"""Settled, Completed and Cancelled are final: every state-changing call on such an order reverts
with InvalidStatus and no credit moves, whichever path ended the order. An order refunded before any
inspection (Refunded) is final for the money and waits only for the inspection that decides the unit's fate."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712
from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from scripts.builder import rma_ref
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_EU,
    Status,
    err,
    next_block_at,
)

S, P, U = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED
REASON, EVIDENCE = b"\x0a" * 32, b"\x0e" * 32


def dispatch(shop, record, order):
    """The carrier picks the return up: its accepting scan under the RMA proves the dispatch."""
    return record(
        shop.unit(order),
        BizStep.ACCEPTING,
        "carrier",
        Disposition.IN_TRANSIT,
        bizTransaction=rma_ref(shop.d.escrow, order),
    )


def refund_before_inspection(shop, escrow, record, actors, path):
    """Drives a fresh EU order to `Refunded` (paid before any inspection) along `path`."""
    buyer = actors["buyer"].account
    if path == "uninspected":
        order = shop.returned()
        chain.sleep(5 * DAY + 5)  # past the inspection SLA after the receipt
        escrow.claimUninspectedRefund(order, {"from": buyer})
    elif path == "dispatched":
        order = shop.buy()
        shop.deliver(order)
        shop.request_return(order)
        dispatch(shop, record, order)
        chain.sleep(31 * DAY + 5)  # sent back, never received within the delivery timeout and the relay delay
        escrow.claimDispatchedRefund(order, {"from": buyer})
    assert escrow.order(order)["status"] == Status.REFUNDED
    return order


def end_order(shop, escrow, record, actors, path):
    """Drives a fresh EU order to a terminal state along `path`; returns (order, status)."""
    buyer = actors["buyer"].account
    if path == "cancelled":
        order = shop.buy()
        chain.sleep(31 * DAY + 5)  # the delivery timeout and the relay delay
        escrow.cancelUndelivered(order, {"from": buyer})
        return order, Status.CANCELLED
    if path == "released":
        order = shop.buy()
        shop.deliver(order)
        next_block_at(escrow.returnWindowCloses(order) + 1)
        escrow.release(order, {"from": buyer})
        return order, Status.COMPLETED
    if path == "unreturned":
        order = shop.buy()
        shop.deliver(order)
        shop.request_return(order)
        chain.sleep(31 * DAY + 5)  # the delivery timeout and the relay delay
        escrow.releaseUnreturned(order, {"from": buyer})
        return order, Status.COMPLETED
    if path in ("uninspected", "dispatched"):
        # Refunded first; the inspection that follows decides the unit's fate and ends the order.
        order = refund_before_inspection(shop, escrow, record, actors, path)
        shop.inspect(order, S | P, Grade.A)
        return order, Status.SETTLED
    order = shop.returned()
    if path == "grade-a":
        shop.inspect(order, S | P, Grade.A)
    elif path == "accepted":
        shop.inspect(order, S, Grade.B)
        escrow.acceptInspection(order, {"from": buyer})
    elif path == "finalized":
        shop.inspect(order, U, Grade.C)
        chain.sleep(5 * DAY + 5)  # past the dispute window
        escrow.finalize(order, {"from": buyer})
    elif path == "resolved":
        shop.inspect(order, U, Grade.A)  # the claimed grade is not the facts': disputed
        escrow.resolveDispute(order, U, 0, REASON, EVIDENCE, {"from": actors["arbiter"].account})
    elif path == "lapsed":
        shop.inspect(order, U, Grade.A)
        chain.sleep(14 * DAY + 5)  # past the arbiter timeout
        escrow.settleLapsedDispute(order, {"from": buyer})
    elif path == "overdue":
        shop.inspect(order, U, Grade.A)
        next_block_at(escrow.refundDueAt(order) + 1)
        escrow.claimOverdueRefund(order, {"from": buyer})
    return order, Status.SETTLED


def every_transition(shop, escrow, escrow_domain, sign, actors, relayer, order, inspection=True):
    """Every state-changing call a party could try on `order`, as the party entitled to try it."""
    buyer, anyone, arbiter = actors["buyer"].account, actors["stranger"].account, actors["arbiter"].account
    brand = actors["brand"].account
    request, request_sig = sign(escrow_domain, "ReturnRequest", actors["buyer"], orderId=order, reason=0, remedy=0)
    calls = [
        lambda: escrow.release(order, {"from": anyone}),
        lambda: escrow.releaseUnreturned(order, {"from": anyone}),
        lambda: escrow.cancelUndelivered(order, {"from": buyer}),
        lambda: escrow.requestReturn(order, 0, 0, {"from": buyer}),
        lambda: escrow.requestReturnBySig(
            eip712.call_args("ReturnRequest", request, request_sig)[:-1], request_sig, {"from": relayer}
        ),
        lambda: escrow.chooseRemedy(order, 0, {"from": buyer}),
        lambda: escrow.acceptInspection(order, {"from": buyer}),
        lambda: escrow.contest(order, {"from": buyer}),
        lambda: escrow.finalize(order, {"from": anyone}),
        lambda: escrow.openDispute(order, {"from": brand}),
        lambda: escrow.resolveDispute(order, S | P, 0, REASON, EVIDENCE, {"from": arbiter}),
        lambda: escrow.settleLapsedDispute(order, {"from": anyone}),
        lambda: escrow.claimUninspectedRefund(order, {"from": buyer}),
        lambda: escrow.claimOverdueRefund(order, {"from": buyer}),
        lambda: escrow.claimDispatchedRefund(order, {"from": buyer}),
        lambda: escrow.releaseRefundOnReceipt(order, {"from": anyone}),
    ]
    if inspection:
        message, sig = shop.sign_inspection(order, S | P, Grade.A)
        calls.append(
            lambda: escrow.submitInspection(eip712.call_args("Inspection", message, sig)[:-1], sig, {"from": relayer})
        )
    return calls


PATHS = [
    "cancelled",
    "released",
    "unreturned",
    "grade-a",
    "accepted",
    "finalized",
    "resolved",
    "lapsed",
    "uninspected",
    "dispatched",
    "overdue",
]


@pytest.mark.parametrize("path", PATHS)
def test_terminal_order_rejects_every_transition(shop, escrow, escrow_domain, sign, record, actors, relayer, path):
    order, status = end_order(shop, escrow, record, actors, path)
    assert escrow.order(order)["status"] == status
    people = [actors[n].address for n in ("buyer", "brand")]
    credits = [escrow.credits(ZERO_ADDRESS, a) for a in people]
    owed = escrow.totalOwed(ZERO_ADDRESS)

    for call in every_transition(shop, escrow, escrow_domain, sign, actors, relayer, order):
        with brownie.reverts(err("ReturnEscrowInvalidStatus", order, status)):
            call()

    assert [escrow.credits(ZERO_ADDRESS, a) for a in people] == credits
    assert escrow.totalOwed(ZERO_ADDRESS) == owed
    assert escrow.order(order)["status"] == status
    shop.assert_solvent()


@pytest.mark.parametrize("path", ["uninspected", "dispatched"])
def test_refunded_order_waits_only_for_the_units_inspection(
    shop, escrow, registry, escrow_domain, sign, record, actors, relayer, path
):
    """Changed rule (issue 9 item 9): a refund paid by a timeout, without any inspection, no longer
    sends the unit back to stock: the order stays Refunded until an inspection decides the unit's fate.
    Every money transition is refused meanwhile, and that inspection moves no money."""
    order = refund_before_inspection(shop, escrow, record, actors, path)
    people = [actors[n].address for n in ("buyer", "brand")]
    credits = [escrow.credits(ZERO_ADDRESS, a) for a in people]
    owed = escrow.totalOwed(ZERO_ADDRESS)

    for call in every_transition(shop, escrow, escrow_domain, sign, actors, relayer, order, inspection=False):
        with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.REFUNDED)):
            call()
    # The unit is not stock while its condition is unknown.
    serial = shop.last_serial  # the one unit this test listed
    assert shop.unit(order) == bytes(registry.unitIdOf(GTIN_INT, serial))
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", shop.unit(order), order)):
        escrow.list(
            GTIN_INT,
            serial,
            MARKET_EU,
            ZERO_ADDRESS,
            DEFAULT_PRICE,
            DEFAULT_DELIVERY_FEE,
            DEFAULT_RETURN_FEE,
            {"from": actors["brand"].account},
        )

    # A disposition-only inspection must claim the grade its facts give: it cannot open a dispute.
    with brownie.reverts(err("ReturnEscrowGradeMismatch", order, Grade.A, Grade.C)):
        shop.inspect(order, U, Grade.A)
    tx = shop.inspect(
        order, U, Grade.C, nonce=escrow.getNonce(actors["inspector"].address)
    )  # the refused one used no nonce
    assert (tx.events["DispositionDecided"]["grade"], tx.events["DispositionDecided"]["disposition"]) == (
        Grade.C,
        2,
    )  # recycle
    assert "OrderSettled" not in tx.events
    assert escrow.order(order)["status"] == Status.SETTLED
    assert [escrow.credits(ZERO_ADDRESS, a) for a in people] == credits
    assert escrow.totalOwed(ZERO_ADDRESS) == owed
    shop.assert_solvent()
