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

3. "Tx dropped without known replacement". brownie's confirmation thread
   (TransactionReceipt._await_confirmation) asks for the sender's nonce, then for the receipt, and
   calls the transaction dropped when the nonce has passed it but there is no receipt. anvil's
   `eth_sendTransaction` returns before the block is mined, and while it mines anvil shows the
   block's state (the sender's new nonce) before it stores the block's receipts, for up to tens of
   milliseconds (here one send in five read back to back lands in that gap). brownie usually reads
   the transaction already mined, but a heavy one, or one sent while other clients read the node
   (the gateway's relayer and indexer, brownie's own background threads), is still being mined
   when its check runs: brownie then marks the mined transaction dropped, finds no other
   transaction with its nonce, and raises (once in 300 commissions of 200 units sent while three
   clients scan the logs). The fix waits for the receipt (polling every 10 ms, up to 30 s) before
   brownie's check runs, so the check never judges a transaction the node is still mining; one
   never mined still goes to brownie's dropped/replacement logic after the wait.

4. Speed, measured with cProfile over brownie's revert in the gateway's tests: on every revert (each
   test's teardown) brownie asks the node for the code of every contract it tracks, although a
   contract whose deployment block is known and not above the revert height still has its code; the
   patched check asks only for contracts with no known deployment block. And `requests` scans the
   whole environment for proxy settings twice per JSON-RPC call unless `no_proxy` names the host:
   the loopback hosts are added to it (a node on this machine is never reached through a proxy).
   Measured with py-spy over tests/escrow: web3's validation middleware asked the node for its chain
   id twice per call, gas estimate and send (to check a chainId brownie sets from that node), and
   brownie's `@internal` guard on Rpc.snapshot/revert/mine/sleep called `inspect.stack()`, which
   reads the source line of every frame of pytest's deep stack, on each snapshot (one after every
   transaction, for chain.undo) and revert: about a fifth of a contract test's time together. The
   middleware is removed (returntrace/rpc.py does the same for the gateway's clients) and the guard
   looks at its caller's frame alone, as the original's `[1].frame` did.

5. A traceback after the last line of a `brownie run` script (ConnectionResetError in
   `Chain._add_to_undo_buffer`, now and then at the end of `make bench`): brownie files each
   transaction in its undo buffer from a background thread, which reads the block; the script's end
   killed the node while the last one still read it. `Rpc.kill` now lets those threads finish first
   (each bounded by the receipt wait).

6. A reset point other than the chain brownie connected to. brownie's module_isolation resets the chain
   (`chain.reset()`, its snapshot taken at the first reset) before and after every test module, so each
   module redeployed the contracts its tests share (about a second a module, 100 modules).
   `reset_to_here()` moves that point to the chain as it is now: the suite builds its baseline once
   (tests/conftest.py) and every module starts from it. brownie's history and contract registry rewind to
   the reset point's height as before.

Loaded for every `brownie test` as a pytest plugin (tests/conftest.py: `pytest_plugins`).
A `brownie run` script (bench, demo) calls `tools.brownie_anvil.patch()` first.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any


def sync_clock() -> None:
    """Sets brownie's clock offset to anvil's, so chain.time() is the time anvil gives a block now."""
    from brownie import chain, web3

    chain._time_offset = int(web3.provider.make_request("evm_increaseTime", [0])["result"])


def reset_to_here() -> None:
    """Makes the chain as it is now the state chain.reset() returns to (brownie keeps no public setter)."""
    from brownie import chain

    chain.snapshot()  # takes brownie's snapshot with its clock offset, as reset() does its own
    chain._reset_id = chain._snapshot_id
    chain._snapshot_id = None


class _ClockAfterRevert:
    """Registered with brownie's revert registry: called after every revert (and reset)."""

    def _revert(self, height: int) -> None:
        sync_clock()

    def _reset(self) -> None:
        from brownie import web3

        if web3.isConnected():  # also called when the network disconnects
            sync_clock()


_clock_after_revert = _ClockAfterRevert()  # the registry holds weak references


RECEIPT_WAIT = 30.0  # seconds a sent transaction's receipt is awaited before brownie's own check


def patch() -> None:
    from brownie.network import contract, state, transaction
    from brownie.network.rpc import anvil

    if getattr(anvil.mine, "_returntrace_fixed", False):
        return

    def mine(timestamp: int | None = None) -> None:
        anvil._request("evm_mine", [] if timestamp is None else [timestamp])

    mine._returntrace_fixed = True  # type: ignore[attr-defined]
    anvil.mine = mine
    state._revert_register(_clock_after_revert)

    await_confirmation = transaction.TransactionReceipt._await_confirmation

    def receipt_first(self, block_number: int | None = None, required_confs: int = 1) -> None:
        if block_number is None:  # sent, not yet seen in a block
            from brownie import web3
            from web3.exceptions import TimeExhausted

            with contextlib.suppress(TimeExhausted):  # never mined: brownie's dropped/replacement logic decides
                web3.eth.wait_for_transaction_receipt(self.txid, timeout=RECEIPT_WAIT, poll_latency=0.01)
        return await_confirmation(self, block_number, required_confs)

    transaction.TransactionReceipt._await_confirmation = receipt_first
    contract.ContractContainer._revert = _revert_known_deployments
    from brownie import web3

    if web3.middleware_onion.get("validation") is not None:  # kept by brownie's client across connects
        web3.middleware_onion.remove("validation")
    rpc = importlib.import_module("brownie.network.rpc")  # the module: brownie.network.rpc is also an Rpc
    for name, method in list(vars(rpc.Rpc).items()):
        if getattr(method, "__qualname__", "") == "internal.<locals>.wrapped":
            setattr(rpc.Rpc, name, _internal(method.__closure__[0].cell_contents, rpc.chain))
    if not getattr(rpc.Rpc.kill, "_returntrace_fixed", False):
        rpc.Rpc.kill = _after_undo_threads(rpc.Rpc.kill)
    loopback = {"127.0.0.1", "localhost", "::1"}
    listed = {h for key in ("no_proxy", "NO_PROXY") for h in os.environ.get(key, "").split(",") if h.strip()}
    os.environ["no_proxy"] = ",".join(sorted(listed | loopback))


def _internal(fn: Callable, chain: Any) -> Callable:
    """brownie's rpc.internal guard (warn when anything but the chain calls `fn`), reading only the
    caller's frame where brownie's builds inspect.stack() with a source line per frame."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if sys._getframe(1).f_locals.get("self", None) != chain:
            warnings.warn(
                f"rpc.{fn.__name__} should not be called directly, use chain.{fn.__name__} instead",
                FutureWarning,
                stacklevel=2,
            )
        return fn(*args, **kwargs)

    return wrapped


def join_undo_threads(timeout: float = RECEIPT_WAIT) -> None:
    """Wait for brownie's threads that file transactions in its undo buffer (they read the node)."""
    for thread in threading.enumerate():
        # Thread keeps its target until run() ends; brownie starts these with Chain()._add_to_undo_buffer.
        if getattr(getattr(thread, "_target", None), "__name__", "") == "_add_to_undo_buffer":
            thread.join(timeout)


def _after_undo_threads(kill: Callable) -> Callable:
    def kill_after_undo_threads(self: Any, exc: bool = True) -> None:
        join_undo_threads()
        kill(self, exc)

    kill_after_undo_threads._returntrace_fixed = True  # type: ignore[attr-defined]
    return kill_after_undo_threads


def _revert_known_deployments(self: Any, height: int) -> None:
    """brownie's ContractContainer._revert, asking for code only where the deployment block is unknown."""
    from brownie import web3

    def reverted(c: Any) -> bool:
        if c.tx and c.tx.block_number is not None:
            return bool(c.tx.block_number > height)
        return len(web3.eth.get_code(c.address).hex().removeprefix("0x")) <= 2

    for c in [c for c in self._contracts if reverted(c)]:
        self.remove(c)
        c._reverted = True


def pytest_configure(config) -> None:  # pytest plugin hook
    patch()
