"""Who may close a unit, through the gateway (v2): a brand decommissions only its own stock (POST
/v1/decommissions), a partner takes only a unit whose settled order sends it there. Everything the
chain would refuse is refused before it is queued, with the rule's own code."""

from __future__ import annotations

import re

from brownie import ZERO_ADDRESS

from api.http.routes.resolver import unit_view
from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from tests.api.test_resolver import text_of
from tests.api.test_return_options import _serial_of
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, GTIN, GTIN_INT, MARKET_EU


def _rejected(gateway, path, body, status, code):
    before = gateway.services.outbox.depth()
    r = gateway.post(path, body)
    assert (r.status_code, r.json()["error"]) == (status, code), r.text
    assert gateway.services.outbox.depth() == before  # nothing stored
    return r.json()


def _accepted(gateway, path, body) -> str:
    r = gateway.post(path, body)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_a_brand_decommissions_its_own_unsold_unit(gateway, registry):
    (unit,) = gateway.commission("DEC-1")
    gateway.relay()
    message_id = _accepted(gateway, "/v1/decommissions", gateway.decommission_body(["DEC-1"]))
    # Queued, it closes the unit already: nothing more is accepted on it.
    _rejected(
        gateway,
        "/v1/events",
        gateway.events_body("warehouse", [gateway.event(unit, BizStep.STORING, "warehouse")]),
        409,
        "unit_closed",
    )
    _rejected(gateway, "/v1/decommissions", gateway.decommission_body(["DEC-1"]), 409, "unit_closed")
    gateway.relay()
    state = gateway.client.get(f"/v1/messages/{message_id}").json()
    assert (state["kind"], state["status"]) == ("DecommissionBatch", "confirmed"), state
    assert registry.isClosed(unit)

    gateway.services.indexer.index_once()
    view = unit_view(gateway.services, GTIN, "DEC-1")
    assert view.verification.verified and view.closed and view.verification.closed
    assert view.fate["kind"] == "decommissioned" and view.fate["signer"] == gateway.actors["brand"].address
    assert [(e.step, e.label, e.disposition) for e in view.timeline] == [
        ("commissioning", "Made", None),
        ("decommissioning", "Decommissioned", "inactive"),
    ]
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/DEC-1").text)
    assert re.search(
        rf"Taken out of circulation on \d+ \w+ \d{{4}}, \d\d:\d\d UTC at location {gateway.actors['brand'].gln:013d}",
        page,
    ), page
    assert "Lifecycle closed: the registry accepts no further event for this unit (checked on-chain)" in page


def test_decommissionings_the_chain_would_refuse_are_refused_before_queueing(gateway, shop, escrow, actors):
    listed, held = gateway.commission("DEC-LISTED", "DEC-OTHER")
    gateway.relay()
    escrow.list(
        GTIN_INT,
        "DEC-LISTED",
        MARKET_EU,
        ZERO_ADDRESS,
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
        {"from": actors["brand"].account},
    )
    shop.buy(market=MARKET_EU, serial="DEC-SOLD")  # an open order: the buyer's, not the brand's stock

    # Listed for sale, or sold and not back: not the brand's stock to close.
    for serial in ("DEC-LISTED", "DEC-SOLD"):
        _rejected(gateway, "/v1/decommissions", gateway.decommission_body([serial]), 403, "closing_not_allowed")
    # Another brand's product; a partner's dispositions; a signer that is no brand.
    _rejected(
        gateway,
        "/v1/decommissions",
        gateway.decommission_body(["DEC-OTHER"], actor="brand2"),
        403,
        "not_brand_of_product",
    )
    for disposition in (Disposition.DONATED, Disposition.RECYCLED):
        _rejected(
            gateway,
            "/v1/decommissions",
            gateway.decommission_body(["DEC-OTHER"], disposition=disposition),
            400,
            "invalid_disposition",
        )
    _rejected(
        gateway,
        "/v1/decommissions",
        gateway.decommission_body(["DEC-OTHER"], actor="warehouse"),
        403,
        "role_not_allowed",
    )
    # Decommissioning is no step of an EventBatch, whoever signs it.
    for actor in ("brand", "warehouse"):
        event = gateway.event(held, BizStep.DECOMMISSIONING, actor, Disposition.INACTIVE)
        _rejected(gateway, "/v1/events", gateway.events_body(actor, [event]), 400, "invalid_step")

    # Delisted, the unit is the brand's stock again.
    escrow.delist(listed, {"from": actors["brand"].account})
    _accepted(gateway, "/v1/decommissions", gateway.decommission_body(["DEC-LISTED", "DEC-OTHER"]))
    gateway.relay()
    assert all(gateway.services.chain.registry.functions.isClosed(u).call() for u in (listed, held))


def test_a_charity_takes_a_unit_only_after_a_settlement_that_donates_it(gateway, shop, escrow, actors):
    def donate(actor: str, disposition: Disposition) -> dict:
        return gateway.events_body(actor, [gateway.event(unit, BizStep.RECEIVING, actor, disposition)])

    order_id = shop.returned(market=MARKET_EU, serial="DON-WAIT")
    unit = shop.unit(order_id)
    shop.inspect(order_id, Facts.PACKAGING_INTACT, Grade.B)  # EU grade B (seal broken, unused): donate, once settled
    # Inspected, not settled: the buyer may still contest the grade.
    _rejected(gateway, "/v1/events", donate("charity", Disposition.DONATED), 403, "closing_not_allowed")

    escrow.acceptInspection(order_id, {"from": actors["buyer"].account})
    # Settled: the grade terms send it to a charity, not to a recycler.
    _rejected(gateway, "/v1/events", donate("recycler", Disposition.RECYCLED), 403, "closing_not_allowed")
    message_id = _accepted(gateway, "/v1/events", donate("charity", Disposition.DONATED))
    gateway.relay()
    assert gateway.client.get(f"/v1/messages/{message_id}").json()["status"] == "confirmed"

    gateway.services.indexer.index_once()
    view = unit_view(gateway.services, GTIN, _serial_of(gateway, unit))
    assert view.verification.verified and view.closed
    assert view.fate["kind"] == "donated" and view.fate["organization"] == f"{actors['charity'].gln:013d}"
    assert view.return_status.settlement.disposition == "donate"
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/DON-WAIT").text)
    assert re.search(rf"Donated to organisation GLN {actors['charity'].gln:013d} on \d+ \w+ \d{{4}}", page), page


def test_a_charity_may_not_take_stock_nobody_bought(gateway):
    (unit,) = gateway.commission("DON-STOCK")
    gateway.relay()
    body = gateway.events_body("charity", [gateway.event(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)])
    _rejected(gateway, "/v1/events", body, 403, "closing_not_allowed")
