"""Constants and helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from returntrace import gs1
from returntrace.escrow import OrderStatus
from returntrace.escrow import Remedy as Remedy  # re-exported: the tests' enums are the model's (returntrace.escrow)

Status = OrderStatus  # the tests' short name for IReturnEscrow.OrderStatus

GTIN = gs1.with_check_digit("0950600013435")  # 09506000134352
GTIN_INT = int(GTIN)
# A second product class of the brand, not hygiene-sealed, sold in the EU, US, CN and market 3
# (which has no policy until a test sets one): see the `plain_gtin` fixture.
PLAIN_GTIN_INT = int(gs1.with_check_digit("0950600013442"))
MARKET_SPARE = 3
GLN_BRAND = int(gs1.with_check_digit("950600000001"))
GLN_CARRIER = int(gs1.with_check_digit("950600000002"))
GLN_WAREHOUSE = int(gs1.with_check_digit("950600000003"))
GLN_INSPECTION = int(gs1.with_check_digit("950600000004"))
GLN_CHARITY = int(gs1.with_check_digit("950600000005"))
MARKET_EU, MARKET_US, MARKET_CN = 0, 1, 2
ZERO32 = b"\x00" * 32
DEFAULT_PRICE = 10**18
DEFAULT_DELIVERY_FEE = 5 * 10**16
DEFAULT_RETURN_FEE = 3 * 10**16
DAY = 24 * 3600


def next_block_at(timestamp: int) -> None:
    """Makes the next mined block (and so the next transaction) carry exactly `timestamp`, and moves
    brownie's clock there too (a reverted transaction does not resync it).

    brownie resyncs its clock from the latest block on a thread it starts for each transaction
    (Chain._add_to_undo_buffer); one still running would put the clock back after it is set here, and a
    message signed next would expire before its block (a busy machine made that race). They end first."""
    import threading
    import time

    from brownie import chain, web3

    # brownie.network.state is not imported by name: brownie's test runner hashes the source of what a test
    # module imports, and that module is compiled.
    resync = type(chain)._add_to_undo_buffer
    for thread in threading.enumerate():
        target = getattr(thread, "_target", None)  # CPython keeps it until the thread has run
        if getattr(target, "__func__", None) is resync:
            thread.join()
    web3.provider.make_request("evm_setNextBlockTimestamp", [int(timestamp)])
    chain._time_offset = int(timestamp) - int(time.time())


def opens_after(moment: int, error: str, call: Callable[[], Any]) -> Any:
    """Checks a time bound to the second: `call` reverts with `error` in a block at `moment` and
    goes through in the block one second later; returns that transaction."""
    import brownie

    next_block_at(moment)
    with brownie.reverts(error):
        call()
    next_block_at(moment + 1)
    return call()


def plain(value: Any) -> Any:
    """A contract return value as plain Python (tuples, ints, bools, str), for comparing with tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return value


def err(name: str, *args: Any) -> str:
    """A custom error as brownie renders its revert message: addresses lower-case, bytes as bytes."""
    rendered = []
    for a in args:
        if isinstance(a, str) and a.startswith("0x") and len(a) == 42:
            a = a.lower()
        rendered.append(str(a))
    return f"{name}: {', '.join(rendered)}"


def next_monday(after: int) -> int:
    """00:00 UTC of the first Monday strictly after `after`: a fixed point of the week, so that a
    test can count a legal period's whole days (and its weekends) by hand. 1970-01-01 was a Thursday."""
    day = int(after) // DAY + 1
    while (day + 3) % 7 != 0:
        day += 1
    return day * DAY
