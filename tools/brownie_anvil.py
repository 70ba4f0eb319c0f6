"""Fix brownie 1.22.2's anvil backend.

1. `chain.mine(timestamp=...)` / `chain.mine(timedelta=...)`: brownie/network/rpc/anvil.py sends
   `evm_mine` with the bare timestamp as JSON-RPC `params` (an int, not a list), and anvil answers
   `Invalid request`, surfaced as `brownie.exceptions.RPCRequestError: Invalid request`. This wraps
   it in a list as the hardhat backend does.

2. `chain.time()` after a snapshot revert. brownie keeps its clock as wall time plus an offset; on
   a revert it restores the offset it had when the snapshot was taken, but anvil's `evm_revert`
   sets anvil's clock to the timestamp of the block it reverts to. So after every revert
   (fn_isolation after each test, hypothesis before each example, chain.undo) `chain.time()` ran
   ahead of the time the next block gets by however long had passed since brownie last synced
   (the module's run time so far), until a transaction resynced it (and that resync runs in a
   background thread, so a read just after the transaction could still be ahead). Event times
   signed from it were then in the chain's future (capped to the block's time, or refused beyond
   TraceRegistry.MAX_CLOCK_SKEW) and `chain.time() - n` was not in the past. An object in brownie's
   revert registry (the one that rewinds TxHistory and contracts) resyncs brownie's offset with
   anvil's (`evm_increaseTime` by 0 answers it) after every revert and reset.

Loaded for every `brownie test` as a pytest plugin (pyproject.toml: `-p tools.brownie_anvil`).
In a `brownie run` script call `tools.brownie_anvil.patch()` before mining with a timestamp.
"""

from __future__ import annotations


def sync_clock() -> None:
    """Sets brownie's clock offset to anvil's, so chain.time() is the time anvil gives a block now."""
    from brownie import chain, web3

    chain._time_offset = int(web3.provider.make_request("evm_increaseTime", [0])["result"])


class _ClockAfterRevert:
    """Registered with brownie's revert registry: called after every revert (and reset)."""

    def _revert(self, height: int) -> None:
        sync_clock()

    def _reset(self) -> None:
        from brownie import web3

        if web3.isConnected():  # also called when the network disconnects
            sync_clock()


_clock_after_revert = _ClockAfterRevert()  # the registry holds weak references


def patch() -> None:
    from brownie.network import state
    from brownie.network.rpc import anvil

    if getattr(anvil.mine, "_returntrace_fixed", False):
        return

    def mine(timestamp: int | None = None) -> None:
        anvil._request("evm_mine", [] if timestamp is None else [timestamp])

    mine._returntrace_fixed = True  # type: ignore[attr-defined]
    anvil.mine = mine
    state._revert_register(_clock_after_revert)


def pytest_configure(config) -> None:  # pytest plugin hook
    patch()
