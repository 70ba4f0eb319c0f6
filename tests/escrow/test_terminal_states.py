"""Settled, Completed and Cancelled are final: every state-changing call on such an order reverts
with InvalidStatus and no credit moves, whichever path ended the order."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712
from returntrace.policies import Facts, Grade
from tests.support import DAY, Status, err

S, P, U = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED


def end_order(shop, escrow, actors, path):
    """Drives a fresh EU order to a terminal state along `path`; returns (order, status)."""
    buyer = actors["buyer"].account
    if path == "cancelled":
        order = shop.buy()
        chain.sleep(30 * DAY + 5)
        escrow.cancelUndelivered(order, {"from": buyer})
        return order, Status.CANCELLED
    if path == "released":
        order = shop.buy()
        shop.deliver(order)
        chain.sleep(30 * DAY + 5)
        escrow.release(order, {"from": buyer})
        return order, Status.COMPLETED
    if path == "unreturned":
        order = shop.buy()
        shop.deliver(order)
        shop.request_return(order)
        chain.sleep(30 * DAY + 5)
        escrow.releaseUnreturned(order, {"from": buyer})
        return order, Status.COMPLETED
    order = shop.returned()
    if path == "grade-a":
        shop.inspect(order, S | P, Grade.A)
    elif path == "accepted":
        shop.inspect(order, S, Grade.B)
        escrow.acceptInspection(order, {"from": buyer})
    elif path == "finalized":
        shop.inspect(order, U, Grade.C)
        chain.sleep(5 * DAY + 5)
        escrow.finalize(order, {"from": buyer})
    elif path == "resolved":
        shop.inspect(order, U, Grade.A)
        escrow.resolveDispute(order, Grade.C, {"from": actors["arbiter"].account})
    elif path == "uninspected":
        chain.sleep(5 * DAY + 5)
        escrow.claimUninspectedRefund(order, {"from": buyer})
    elif path == "overdue":
        shop.inspect(order, U, Grade.A)
        chain.sleep(14 * DAY + 5)
        escrow.claimOverdueRefund(order, {"from": buyer})
    return order, Status.SETTLED


PATHS = ["cancelled", "released", "unreturned", "grade-a", "accepted", "finalized", "resolved", "uninspected", "overdue"]


@pytest.mark.parametrize("path", PATHS)
def test_terminal_order_rejects_every_transition(shop, escrow, escrow_domain, sign, actors, relayer, path):
    order, status = end_order(shop, escrow, actors, path)
    assert escrow.order(order)["status"] == status
    people = [actors[n].address for n in ("buyer", "brand")]
    credits = [escrow.credits(ZERO_ADDRESS, a) for a in people]
    owed = escrow.totalOwed(ZERO_ADDRESS)

    buyer, anyone, arbiter = actors["buyer"].account, actors["stranger"].account, actors["arbiter"].account
    request, request_sig = sign(escrow_domain, "ReturnRequest", actors["buyer"], contract=escrow, orderId=order, reason=0, remedy=0)
    inspection, inspection_sig = shop.sign_inspection(order, S | P, Grade.A)
    calls = [
        lambda: escrow.release(order, {"from": anyone}),
        lambda: escrow.releaseUnreturned(order, {"from": anyone}),
        lambda: escrow.cancelUndelivered(order, {"from": buyer}),
        lambda: escrow.requestReturn(order, 0, 0, {"from": buyer}),
        lambda: escrow.requestReturnBySig(eip712.call_args("ReturnRequest", request, request_sig)[:-1], request_sig, {"from": relayer}),
        lambda: escrow.submitInspection(eip712.call_args("Inspection", inspection, inspection_sig)[:-1], inspection_sig, {"from": relayer}),
        lambda: escrow.acceptInspection(order, {"from": buyer}),
        lambda: escrow.contest(order, {"from": buyer}),
        lambda: escrow.finalize(order, {"from": anyone}),
        lambda: escrow.resolveDispute(order, Grade.A, {"from": arbiter}),
        lambda: escrow.claimUninspectedRefund(order, {"from": buyer}),
        lambda: escrow.claimOverdueRefund(order, {"from": buyer}),
    ]
    for call in calls:
        with brownie.reverts(err("ReturnEscrowInvalidStatus", order, status)):
            call()

    assert [escrow.credits(ZERO_ADDRESS, a) for a in people] == credits
    assert escrow.totalOwed(ZERO_ADDRESS) == owed
    assert escrow.order(order)["status"] == status
    shop.assert_solvent()
