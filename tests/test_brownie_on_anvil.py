"""What the suite relies on from brownie on anvil, fixed in tools/brownie_anvil.py: a clock that
is not ahead of the chain after a snapshot revert, no false "Tx dropped without known
replacement" for a transaction the node is still storing, no round trip or stack read a
transaction does not need, and a node that outlives brownie's filing of the last transaction."""

from __future__ import annotations

import inspect
import threading
import time

import pytest
from brownie import accounts, chain, rpc, web3

from returntrace.vocab import BizStep, Disposition
from tests.support import GTIN_INT
from tools import brownie_anvil

PO = b"\x05" * 32


def anvil_clock() -> int:
    """The time anvil gives a block mined now (its offset from wall time, answered by a zero increase)."""
    return int(time.time()) + int(web3.provider.make_request("evm_increaseTime", [0])["result"])


def test_chain_time_is_not_ahead_of_the_chain_after_a_revert(registry, admin, commission, record):
    # anvil's revert sets its clock back to the block it reverts to; brownie restored the offset
    # it had at the snapshot, so chain.time() ran ahead by the time since it last synced.
    admin.transfer(accounts[2], 1)
    time.sleep(3)  # the rest of a test that takes three seconds
    chain.revert()  # as fn_isolation does after it
    ours, anvils = chain.time(), anvil_clock()
    assert ours <= anvils, f"chain.time() {ours - anvils} s ahead of the time the next block gets"
    unit = commission()
    signed = chain.time()
    record(unit, BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=PO, eventTime=signed)
    assert registry.milestoneAt(unit, PO, 0) == signed  # not in the chain's future, so not capped


def test_a_transaction_the_node_is_still_storing_is_not_called_dropped(monkeypatch, admin):
    # While anvil mines a block it already answers the sender's new nonce but not yet the
    # receipt; brownie, asking for the nonce and then the receipt, called the mined transaction
    # dropped. Here the node keeps that gap open for 0.3 s after each send.
    provider = web3.provider
    real = provider.make_request
    storing_until: dict[str, float] = {}

    def make_request(method, params):
        response = real(method, params)
        if method == "eth_sendTransaction" and "result" in response:
            storing_until[response["result"].lower()] = time.monotonic() + 0.3
        elif (
            method in ("eth_getTransactionReceipt", "eth_getTransactionByHash")
            and response.get("result")
            and storing_until.get(str(params[0]).lower(), 0) > time.monotonic()
        ):
            if method == "eth_getTransactionReceipt":
                return {**response, "result": None}
            return {
                **response,
                "result": {**response["result"], "blockHash": None, "blockNumber": None, "transactionIndex": None},
            }
        return response

    monkeypatch.setattr(provider, "make_request", make_request)
    monkeypatch.setattr(provider, "_request_func_cache", (None, None))  # web3 rebuilds it around make_request
    before = web3.eth.get_balance(accounts[2].address)
    tx = admin.transfer(accounts[2], 1)
    assert tx.status == 1 and web3.eth.get_balance(accounts[2].address) == before + 1


def test_a_transaction_asks_no_chain_id(monkeypatch, admin):
    # web3's validation middleware asked for it twice per send, call and gas estimate (to check a
    # chainId brownie sets from the same node): tools/brownie_anvil.py, 4.
    asked: list[str] = []
    real = web3.provider.make_request
    monkeypatch.setattr(
        web3.provider, "make_request", lambda method, params: asked.append(method) or real(method, params)
    )
    monkeypatch.setattr(web3.provider, "_request_func_cache", (None, None))  # web3 rebuilds it around make_request
    tx = admin.transfer(accounts[2], 1)  # sent and confirmed on this thread before it returns
    assert tx.status == 1 and "eth_sendTransaction" in asked and "eth_chainId" not in asked, asked


def test_snapshots_and_reverts_read_no_stack(monkeypatch):
    # brownie's guard on Rpc.snapshot, revert and mine called inspect.stack(), a source line per
    # frame of pytest's deep stack, on every snapshot (one after each transaction) and revert.
    def no_stack(*args, **kwargs):
        raise AssertionError("inspect.stack() read")

    height = chain.height
    monkeypatch.setattr(inspect, "stack", no_stack)
    chain.snapshot()  # this test sends nothing, so fn_isolation's revert to this one is the same state
    chain.mine()
    chain.revert()
    assert chain.height == height


def test_calling_the_rpc_directly_still_warns():
    with pytest.warns(FutureWarning, match="use chain.sleep instead"):
        rpc.sleep(0)


def test_the_node_is_killed_only_after_brownie_filed_its_transactions():
    """A script's end kills the node; brownie's undo thread for the last transaction may still be
    reading its block (a ConnectionResetError traceback after the script's output)."""
    assert getattr(type(rpc).kill, "_returntrace_fixed", False)
    done: list[str] = []
    release = threading.Event()

    def _add_to_undo_buffer() -> None:  # brownie's thread target, known by its name
        release.wait(10)
        done.append("filed")

    threading.Thread(target=_add_to_undo_buffer, daemon=True).start()
    threading.Timer(0.2, release.set).start()
    brownie_anvil._after_undo_threads(lambda _rpc, _exc: done.append("killed"))(rpc)
    assert done == ["filed", "killed"]


def test_a_reset_returns_to_the_suites_baseline(baseline, admin):
    """brownie's module_isolation resets the chain before and after each module: to the baseline the suite
    built once (tests/conftest.py), its contracts and products in place, what the module did gone."""
    spent = admin.balance()
    admin.transfer(accounts[2], "1 ether")
    baseline.registry.setReturnCenter(4012345000009, 4012345000009, 1, {"from": admin})
    chain.reset()  # what module_isolation calls between modules
    chain.snapshot()  # fn_isolation reverts to a snapshot after this test; reset dropped its own
    assert admin.balance() == spent
    assert baseline.registry.returnCenter(4012345000009)[0] == 0  # the module's write is gone
    assert web3.eth.get_code(baseline.escrow.address)
    assert baseline.registry.product(GTIN_INT)[0] == baseline.actors["brand"].address  # the baseline's product
