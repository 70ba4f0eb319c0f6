"""Refund on receipt submitted by the relayer: whichever of the return request and the receiving
scan is confirmed last triggers it (a scan counts only if recorded no earlier than the request);
reading its condition never holds a confirmation back; and the confirmation path reads little per scan."""

from __future__ import annotations

from brownie import chain
from web3.exceptions import Web3RPCError

from api.write import refund_on_receipt
from returntrace import history
from returntrace.vocab import BizStep, Disposition, Milestone
from scripts.builder import rma_ref
from tests.support import MARKET_EU, Remedy, Status, next_block_at


def _accredit(deployment, admin, actors):
    warehouse = actors["warehouse"]
    deployment.registry.setReturnCenter(warehouse.gln, warehouse.gln, 1 << MARKET_EU, {"from": admin})


def _scan(gateway, shop, order_id, disposition=Disposition.RETURNED):
    event = gateway.event(
        shop.unit(order_id),
        BizStep.RECEIVING,
        "warehouse",
        disposition,
        bizTransaction=rma_ref(shop.d.escrow, order_id),
    )
    r = gateway.post("/v1/events", gateway.events_body("warehouse", [event]))
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _status(gateway, message_id):
    return gateway.client.get(f"/v1/messages/{message_id}").json()["status"]


def _received_recorded_at(shop, order_id) -> int:
    """When the registry recorded the return center's receiving scan under the order's RMA."""
    milestone = shop.d.registry.milestone(
        shop.unit(order_id), rma_ref(shop.d.escrow, order_id), Milestone.RETURN_RECEIVED
    )
    return milestone["recordedAt"]


def test_a_return_request_confirmed_after_the_scan_releases_the_refund(
    gateway, shop, deployment, escrow, admin, actors
):
    """The escrow counts a receiving scan recorded no earlier than the return request. The return
    center's scan mined just before the buyer's request, in the same second, is one: only the
    request's confirmation can then trigger the release."""
    _accredit(deployment, admin, actors)
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    same_second = chain.time() + 60
    next_block_at(same_second)
    shop.receive(order_id)  # the return center scanned the parcel before the buyer's request was mined
    r = gateway.post(
        "/v1/return-requests",
        gateway.body("ReturnRequest", "buyer", orderId=order_id, reason=0, remedy=int(Remedy.REFUND)),
    )
    assert r.status_code == 202, r.text
    next_block_at(same_second)
    gateway.relay()
    assert escrow.order(order_id)["requestedAt"] == same_second == _received_recorded_at(shop, order_id)
    assert _status(gateway, r.json()["id"]) == "confirmed"
    assert _status(gateway, refund_on_receipt.message_id(gateway.services.chain, order_id)) == "confirmed"
    assert escrow.order(order_id)["status"] == Status.REFUNDED


def test_a_scan_recorded_before_the_return_request_releases_nothing(gateway, shop, deployment, escrow, admin, actors):
    """A receiving scan recorded a second before the buyer asked proves nothing of this return (the
    escrow ignores it): the request's confirmation stores no release and the manual one is refused."""
    _accredit(deployment, admin, actors)
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    scanned = chain.time() + 60
    next_block_at(scanned)
    shop.receive(order_id)
    r = gateway.post(
        "/v1/return-requests",
        gateway.body("ReturnRequest", "buyer", orderId=order_id, reason=0, remedy=int(Remedy.REFUND)),
    )
    assert r.status_code == 202, r.text
    next_block_at(scanned + 1)
    gateway.relay()
    assert (escrow.order(order_id)["requestedAt"], _received_recorded_at(shop, order_id)) == (scanned + 1, scanned)
    assert _status(gateway, r.json()["id"]) == "confirmed"
    assert (
        gateway.client.get(f"/v1/messages/{refund_on_receipt.message_id(gateway.services.chain, order_id)}").status_code
        == 404
    )
    assert escrow.order(order_id)["status"] == Status.RETURN_REQUESTED and escrow.returnReceivedAt(order_id) == 0
    r = gateway.client.post(f"/v1/orders/{order_id}/release-refund-on-receipt")
    assert (r.status_code, r.json()["error"]) == (409, "not_returned"), r.text


def test_a_failing_follow_up_check_never_holds_the_confirmation(
    gateway, shop, deployment, escrow, admin, actors, monkeypatch
):
    _accredit(deployment, admin, actors)
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    shop.request_return(order_id)
    reader = gateway.services.relayer.reader

    def pruned(_units):  # what a non-archive node answers for old state, or any other failure
        raise Web3RPCError("missing trie node")

    monkeypatch.setattr(reader, "last_orders", pruned)
    scan = _scan(gateway, shop, order_id)
    gateway.relay()
    assert _status(gateway, scan) == "confirmed"
    assert escrow.order(order_id)["status"] == Status.RETURN_REQUESTED  # no follow-up; the manual endpoint remains
    monkeypatch.undo()
    r = gateway.client.post(f"/v1/orders/{order_id}/release-refund-on-receipt")  # no body needed
    assert r.status_code == 202, r.text
    gateway.relay()
    assert escrow.order(order_id)["status"] == Status.REFUNDED


def test_confirmation_reads_only_returns_and_batches_last_orders(gateway, shop, deployment, admin, actors, monkeypatch):
    _accredit(deployment, admin, actors)
    orders = [shop.buy(market=MARKET_EU) for _ in range(3)]
    for o in orders:
        shop.deliver(o)
        shop.request_return(o)
    reader = gateway.services.relayer.reader
    calls: list[int] = []
    original = reader.last_orders
    monkeypatch.setattr(reader, "last_orders", lambda units: calls.append(len(units)) or original(units))

    _scan(gateway, shop, orders[0], Disposition.IN_PROGRESS)  # a receiving scan that is no return: nothing read
    gateway.relay()
    assert calls == []

    events = [
        gateway.event(
            shop.unit(o), BizStep.RECEIVING, "warehouse", Disposition.RETURNED, bizTransaction=rma_ref(shop.d.escrow, o)
        )
        for o in orders[1:]
    ]
    assert gateway.post("/v1/events", gateway.events_body("warehouse", events)).status_code == 202
    gateway.relay()
    assert calls == [2]  # one batched lastOrderOf read for the whole session
    assert all(shop.d.escrow.order(o)["status"] == Status.REFUNDED for o in orders[1:])
    # A policy version is read once, then cached for good.
    assert len(reader.policies) == 1


def test_release_is_refused_after_the_inspection_sla_and_node_errors_are_503(
    gateway, shop, deployment, admin, actors, monkeypatch
):
    _accredit(deployment, admin, actors)
    order_id = shop.returned(market=MARKET_EU)
    chain.sleep(6 * 24 * 3600)  # the EU preset's SLA is 5 days
    chain.mine()
    gateway.services.reader.now.clear()
    r = gateway.client.post(f"/v1/orders/{order_id}/release-refund-on-receipt")
    assert (r.status_code, r.json()["error"]) == (409, "sla_elapsed"), r.text

    def down(*_a, **_k):
        raise Web3RPCError("node error")

    monkeypatch.setattr(refund_on_receipt, "releasable", down)
    r = gateway.client.post(f"/v1/orders/{order_id + 1000}/release-refund-on-receipt")
    assert (r.status_code, r.json()["error"]) == (503, "chain_unavailable"), r.text


def test_closed_units_are_remembered_and_not_read_again(gateway, monkeypatch):
    reader = gateway.services.reader
    reader.roles.ttl = reader.open_units.ttl = (
        0  # open units are read again every time: only the memory of closed ones spares a read
    )
    (unit,) = gateway.commission("CLOSED-CACHE")
    gateway.relay()
    r = gateway.post(
        "/v1/decommissions", gateway.decommission_body(["CLOSED-CACHE"])
    )  # the brand takes it out of circulation
    assert r.status_code == 202, r.text
    gateway.relay()
    body = gateway.events_body("warehouse", [gateway.event(unit, BizStep.STORING, "warehouse")])
    assert gateway.post("/v1/events", body).json()["error"] == "unit_closed"
    reads: list[int] = []
    original = history.read_records
    monkeypatch.setattr(
        history,
        "read_records",
        lambda registry, ids, block, *a: reads.append(len(ids)) or original(registry, ids, block, *a),
    )
    assert gateway.post("/v1/events", body).json()["error"] == "unit_closed"
    assert reads == []
