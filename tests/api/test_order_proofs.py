"""What the page proves of an order on-chain (v2): the carrier's proof that a return was sent back
(the escrow's dispatchedAt) and the refund it earns when the parcel never arrives, and the order's
status, facts and grade against ReturnEscrow.order at the indexed block."""

from __future__ import annotations

import json

from brownie import chain

from api.http.pages.consumer_page import format_time
from returntrace.escrow import Facts, Grade
from returntrace.policies import EU
from returntrace.vocab import BizStep, Disposition
from scripts.builder import rma_ref
from tests.api.indexing import execute, rows
from tests.api.people import buyer_page
from tests.api.test_resolver import text_of
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, GTIN, MARKET_EU, Status


def _json(gateway, serial: str) -> dict:
    gateway.services.indexer.index_once()
    return gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()["return_status"]


def _page(gateway, serial: str) -> str:
    """The page as the order's buyer reads it (its amounts and what settled them are the parties')."""
    return text_of(buyer_page(gateway, f"/01/{GTIN}/21/{serial}").text)


def test_a_return_sent_back_and_never_received_is_refunded_on_the_carriers_proof(gateway, shop, escrow, actors):
    order_id = shop.buy(market=MARKET_EU, serial="SENT-1")
    shop.deliver(order_id)
    shop.request_return(order_id)
    chain.sleep(3600)  # the pickup an hour after the request: its signed time is the proof's time
    chain.mine()
    pickup = gateway.event(
        shop.unit(order_id),
        BizStep.ACCEPTING,
        "carrier",
        Disposition.IN_TRANSIT,
        bizTransaction=rma_ref(escrow, order_id),
    )
    r = gateway.post("/v1/events", gateway.events_body("carrier", [pickup]))
    assert r.status_code == 202, r.text
    gateway.relay()

    rs = _json(gateway, "SENT-1")
    assert rs["status"] == "return_requested" and rs["settlement"] is None
    assert rs["dispatched_at"] == escrow.dispatchedAt(order_id) == pickup["eventTime"]
    assert (
        f"Sent back A carrier's scan proves the return was sent on {format_time(pickup['eventTime'])[0]} (checked "
        "on-chain)" in _page(gateway, "SENT-1")
    )

    # Never received: after the delivery timeout and the relay delay the buyer is refunded as for grade A.
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 60)
    chain.mine()
    tx = escrow.claimDispatchedRefund(order_id, {"from": actors["buyer"].account})
    assert tx.events["OrderSettled"]["path"] == 6  # Dispatched
    rs = _json(gateway, "SENT-1")
    assert rs["status"] == "refunded" and escrow.order(order_id)["status"] == Status.REFUNDED
    assert rs["dispatched_at"] is None  # shown while the return travels
    parts = rs["settlement"]["parts"]
    assert (parts["kind"], parts["verified"], parts["grade"], parts["statutory"]) == ("dispatched", True, None, True)
    assert int(parts["refund"]) == DEFAULT_PRICE + DEFAULT_DELIVERY_FEE and parts["deductions"] == []
    assert (rs["settlement"]["grade"], rs["settlement"]["disposition"]) == (None, "pending")
    page = _page(gateway, "SENT-1")
    assert "Buyer protection: a carrier's scan proves the unit was sent back; it never arrived" in page
    assert "Where the unit goes Decided by its inspection" in page

    # The parcel turns up: its inspection only decides where the unit goes, by the grade its facts give.
    mismatch = gateway.post("/v1/inspections", gateway.inspection_body(order_id, Facts.PACKAGING_INTACT, Grade.A))
    assert (mismatch.status_code, mismatch.json()["error"]) == (409, "grade_mismatch"), mismatch.text
    r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, Facts.PACKAGING_INTACT, Grade.B))
    assert r.status_code == 202, r.text
    gateway.relay()
    rs = _json(gateway, "SENT-1")
    assert rs["status"] == "settled" and escrow.order(order_id)["status"] == Status.SETTLED
    assert (rs["settlement"]["grade"], rs["settlement"]["disposition"], rs["settlement"]["parts"]["kind"]) == (
        "B",
        "donate",
        "dispatched",
    )
    assert int(rs["settlement"]["refund"]) == DEFAULT_PRICE + DEFAULT_DELIVERY_FEE  # the money moved once


def test_the_order_state_is_proved_on_chain_and_a_tampered_row_is_not(gateway, shop, escrow):
    order_id = shop.returned(market=MARKET_EU, serial="PROOF-1")
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    assert escrow.order(order_id)["status"] == Status.SETTLED
    rs = _json(gateway, "PROOF-1")
    block = gateway.services.indexer.indexed_block()
    assert rs["status"] == "settled" and rs["proof"] == {"verified": True, "block": block, "reason": None}
    assert f"Order state checked on-chain at block {block:,}" in _page(gateway, "PROOF-1")

    for tampering in ("status = 'refunded'", "grade = 2", "facts = 2"):  # each of the three proved fields
        execute(gateway, f"UPDATE idx_orders SET {tampering} WHERE order_id = ?", order_id)
        rs = _json(gateway, "PROOF-1")
        assert not rs["proof"]["verified"], tampering
        expected = (
            f"mismatch: ReturnEscrow.order({order_id}) (status, facts, grade) on-chain at block {block} is "
            "('settled', 3, 1)"
        )
        assert rs["proof"]["reason"].startswith(expected), rs["proof"]
        assert "Order state not verified: mismatch: ReturnEscrow.order" in _page(gateway, "PROOF-1")
        execute(gateway, "UPDATE idx_orders SET status = 'settled', facts = 3, grade = 1 WHERE order_id = ?", order_id)
    assert _json(gateway, "PROOF-1")["proof"]["verified"]  # the row as the chain has it again


def test_an_order_row_moved_to_another_unit_or_repriced_is_not_proved(gateway, shop, escrow):
    """The attack: the operator's index gives a unit another unit's settled order, or changes an order's
    terms (price, currency, reason, …); status, facts and grade still match ReturnEscrow.order."""
    other = shop.buy(market=MARKET_EU, serial="PROOF-B")  # an order the attacker's order will outrank
    order_id = shop.returned(market=MARKET_EU, serial="PROOF-A")
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    assert _json(gateway, "PROOF-A")["proof"]["verified"] and _json(gateway, "PROOF-B")["order_id"] == other

    unit_b = "0x" + shop.unit(other).hex()
    execute(gateway, "UPDATE idx_orders SET unit_id = ? WHERE order_id = ?", unit_b, order_id)
    rs = _json(gateway, "PROOF-B")
    assert rs["order_id"] == order_id and rs["status"] == "settled"  # unit B now shows A's refund
    assert not rs["proof"]["verified"], rs["proof"]
    assert "unit" in rs["proof"]["reason"], rs["proof"]
    execute(gateway, "UPDATE idx_orders SET unit_id = ? WHERE order_id = ?", "0x" + shop.unit(order_id).hex(), order_id)
    assert _json(gateway, "PROOF-A")["proof"]["verified"]

    (kept,) = rows(gateway, "SELECT price, delivery_fee, currency, reason FROM idx_orders WHERE order_id = ?", order_id)
    for tampering in (
        f"price = '{DEFAULT_PRICE * 2}'",
        "delivery_fee = '0'",
        f"currency = '{escrow.address}'",
        "reason = 3",
    ):
        execute(gateway, f"UPDATE idx_orders SET {tampering} WHERE order_id = ?", order_id)
        rs = _json(gateway, "PROOF-A")
        assert not rs["proof"]["verified"], tampering
        assert rs["proof"]["reason"].startswith(f"mismatch: ReturnEscrow.order({order_id}) (unit, buyer"), rs["proof"]
        execute(
            gateway,
            "UPDATE idx_orders SET price = ?, delivery_fee = ?, currency = ?, reason = ? WHERE order_id = ?",
            *kept,
            order_id,
        )
        assert _json(gateway, "PROOF-A")["proof"]["verified"], tampering


def test_a_settlement_altered_so_that_its_parts_still_add_up_is_not_proved(gateway, shop):
    """The attack: the index's copy of OrderSettled says the buyer got less back and the merchant more,
    every part changed so that they still add up (the parts' own check passes)."""
    order_id = shop.returned(market=MARKET_EU, serial="PROOF-S")
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    rs = _json(gateway, "PROOF-S")
    refund = int(rs["settlement"]["parts"]["refund"])
    assert rs["proof"]["verified"] and rs["settlement"]["parts"]["verified"] and refund > 0

    (row,) = rows(gateway, "SELECT args FROM idx_escrow_events WHERE order_id = ? AND name = 'OrderSettled'", order_id)
    args = json.loads(row[0])
    s, cut = args["settlement"], 10**17
    for part, change in (("priceRefunded", -cut), ("refund", -cut), ("merchantAmount", cut)):
        s[part] = str(int(s[part]) + change)
    execute(
        gateway,
        "UPDATE idx_escrow_events SET args = ? WHERE order_id = ? AND name = 'OrderSettled'",
        json.dumps(args),
        order_id,
    )
    rs = _json(gateway, "PROOF-S")
    assert int(rs["settlement"]["parts"]["refund"]) == refund - cut and rs["settlement"]["parts"]["verified"]
    assert not rs["proof"]["verified"], rs["proof"]
    assert "OrderSettled" in rs["proof"]["reason"], rs["proof"]
    assert "Order state not verified: mismatch:" in _page(gateway, "PROOF-S")


def test_an_order_awaiting_a_second_opinion_or_disputed_is_proved_as_it_stands(gateway, shop, escrow):
    """Honest states in which the escrow holds an inspection's claimed grade that no decision has made the
    order's yet (a high-value return awaiting a second house; an inspection whose grade contradicts its
    facts, disputed): the page shows no grade for the order, and proves its status and facts."""
    waiting = shop.buy(market=MARKET_EU, price=6 * 10**18, serial="TWO-1")  # above the dual-inspection threshold
    disputed = shop.buy(market=MARKET_EU, serial="TWO-2")
    for order_id in (waiting, disputed):
        shop.deliver(order_id)
        shop.request_return(order_id)
        shop.receive(order_id)
    shop.inspect(waiting, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    shop.inspect(disputed, Facts.USED, Grade.A)  # its facts give C
    assert escrow.order(waiting)["status"] == Status.SECOND_INSPECTION
    assert escrow.order(disputed)["status"] == Status.DISPUTED

    for serial, status in (("TWO-1", "second_inspection"), ("TWO-2", "disputed")):
        rs = _json(gateway, serial)
        assert rs["status"] == status
        assert rs["proof"]["verified"], rs["proof"]

    # The claim shown stays proved: an index that changes it is caught.
    execute(gateway, "UPDATE idx_orders SET claimed_grade = 3 WHERE order_id = ?", waiting)
    assert not _json(gateway, "TWO-1")["proof"]["verified"]


def test_a_final_settling_log_is_read_from_the_node_once(gateway, shop, monkeypatch):
    """A settled order's proof compares the index's copy of its settling log with the node's: once the log is
    REORG_DEPTH blocks deep it is the same at every later block, so it is read once, not at each new one."""
    from brownie import chain as brownie_chain

    from api.chain.blocks import BlockRef
    from api.chain.cache import PerBlock
    from api.chain.guard import NodeGuard
    from api.chain.proofs import REORG_DEPTH, BlockReads
    from returntrace import logs

    order_id = shop.returned(market=MARKET_EU)
    tx = shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    assert "OrderSettled" in tx.events
    w3 = gateway.services.chain.w3
    receipt = w3.eth.get_transaction_receipt(tx.txid)
    brownie_chain.mine(REORG_DEPTH + 2)
    reads = BlockReads.of(gateway.services.chain, NodeGuard(), PerBlock())
    asked: list[int] = []
    fetch = logs.raw_logs
    monkeypatch.setattr(logs, "raw_logs", lambda *a, **k: asked.append(1) or fetch(*a, **k))
    found = []
    for n in (tx.block_number + REORG_DEPTH, tx.block_number + REORG_DEPTH + 1):
        at = BlockRef(n, "0x" + bytes(w3.eth.get_block(n)["hash"]).hex())
        found.append([reads.escrow_log(tx.block_number, int(e["logIndex"]), at) for e in receipt["logs"]])
    settled = [entry for entry in found[0] if entry is not None and entry.name == "OrderSettled"]
    assert len(settled) == 1 and found[0] == found[1]
    assert len(asked) == len(receipt["logs"])  # each log once, at the first of the two blocks
