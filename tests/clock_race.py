"""Clock races made reproducible: a pytest plugin (tests/conftest.py: `pytest_plugins`) that does on purpose
what a slow or loaded machine does by chance.

Two clocks run during a test. anvil mines each block at its own clock (wall time plus an offset
that `evm_increaseTime`, a pinned timestamp and a snapshot revert move); brownie's `chain.time()`
is wall time plus an offset that brownie resyncs from the latest block after every transaction
it sends, and restores from the snapshot after a revert. So:

- a wall-clock second can pass between signing a message (`eventTime = chain.time()`) and the
  block that records it: the signed time is then a second or more before the block's;
- a snapshot revert sets anvil's clock back to the block it reverts to; brownie restores the
  offset it had at the snapshot, so unless something resyncs it (tools/brownie_anvil.py does)
  `chain.time()` then runs ahead of the next block by however long has passed since brownie's
  last sync.

A test that holds only when neither happens is flaky. With these variables set, every test
meets them every time:

    RT_CLOCK_TICK=n   after every EIP-712 signature and before every transaction brownie
                      sends, the chain's clock moves on n seconds (anvil and brownie alike, as a
                      wall-clock tick does; a pinned next-block timestamp stays pinned)
    RT_CLOCK_AHEAD=n  every test ends as if it had run n seconds longer: fn_isolation's revert
                      restores brownie's offset n seconds further ahead of anvil's clock (what
                      an n-second test does to the next one)

    RT_CLOCK_TICK=1 RT_CLOCK_AHEAD=120 brownie test tests/escrow -p no:randomly

Left unset (the default) nothing is patched.
"""

from __future__ import annotations

import os

import pytest

TICK = int(os.environ.get("RT_CLOCK_TICK") or 0)
AHEAD = int(os.environ.get("RT_CLOCK_AHEAD") or 0)


def tick(seconds: int) -> None:
    """The wall clock moves on `seconds`: anvil's next block and brownie's chain.time() both."""
    from brownie import chain, web3

    web3.provider.make_request("evm_increaseTime", [seconds])
    chain._time_offset += seconds


def _patch_ticks(seconds: int) -> None:
    from brownie.network import account

    from returntrace import eip712

    sign = eip712.Domain.sign
    make_transaction = account._PrivateKeyAccount._make_transaction

    def sign_then_tick(self, *args, **kwargs):
        signature = sign(self, *args, **kwargs)
        tick(seconds)
        return signature

    def tick_then_send(self, *args, **kwargs):
        tick(seconds)
        return make_transaction(self, *args, **kwargs)

    eip712.Domain.sign = sign_then_tick
    account._PrivateKeyAccount._make_transaction = tick_then_send


def pytest_configure(config) -> None:
    if TICK:
        _patch_ticks(TICK)


def pytest_report_header(config) -> str | None:
    if TICK or AHEAD:
        return f"clock races forced: RT_CLOCK_TICK={TICK} RT_CLOCK_AHEAD={AHEAD}"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    """Runs before the test's fixtures are finalised, so before fn_isolation's revert."""
    if AHEAD:
        from brownie import chain

        if chain._snapshot_id in chain._snapshot_time_offsets:
            chain._snapshot_time_offsets[chain._snapshot_id] += AHEAD
    yield
