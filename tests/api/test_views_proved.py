"""What the pages show is what the chain proves: a parcel stay decided by chain positions, names only
where they hash to the proved unit id, a replacement link that an unfulfilled reissue undid, the
partner's organisation when it signed, return options that never understate the refund, and
on-chain reads cached per indexed block."""

from __future__ import annotations

import re

from brownie import chain

from api.http.routes.resolver import unit_view
from returntrace.escrow import UnitDisposition
from returntrace.policies import EU
from returntrace.vocab import BizStep, Disposition
from tests.api.indexing import execute, rows
from tests.api.test_parcels import PARCEL, SSCC18, _accepted, _combined_return
from tests.api.test_resolver import text_of
from tests.api.test_return_options import _serial_of
from tests.support import GTIN, GTIN_INT, MARKET_EU, Status

EVIDENCE = "0x" + "ab" * 32


def _labels(gateway, serial):
    view = gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()
    return view["verification"]["verified"], [(e["label"], e["via_parcel"]) for e in view["timeline"]]


def test_a_parcel_scan_moved_in_the_index_stays_in_its_place(gateway):
    _combined_return(gateway)
    verified, before = _labels(gateway, "CMB-1")
    assert verified and ("Departed", True) in before
    # The block is in no hash: moving the scan before the packing must not drop it from the stay.
    execute(
        gateway, "UPDATE idx_events SET block = 0, log_index = 0 WHERE unit_id = ? AND seq = 2", "0x" + PARCEL.hex()
    )
    verified, after = _labels(gateway, "CMB-1")
    assert not verified or after == before, after
    assert after == before


def test_names_are_shown_only_when_they_hash_to_the_unit_id(gateway):
    _, b = _combined_return(gateway)
    execute(gateway, "UPDATE idx_units SET serial = 'FAKE-1' WHERE unit_id = ?", "0x" + b.hex())
    parcel = gateway.client.get(f"/00/{SSCC18}", headers={"accept": "application/json"}).json()
    assert [(m["unit_id"], m["serial"], m["link"]) for m in parcel["contents"]] == [("0x" + b.hex(), None, None)]
    html = text_of(gateway.client.get(f"/00/{SSCC18}").text)
    assert "FAKE-1" not in html and "name not verified" in html


def test_donation_names_the_charitys_organisation_when_it_signed(gateway, registry, admin, actors, destined):
    unit = destined(UnitDisposition.DONATE, serial="DON-ORG")  # returned, graded B and settled: a charity's
    _accepted(
        gateway,
        "/v1/events",
        gateway.events_body("charity", [gateway.event(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)]),
    )
    gateway.relay()
    charity = actors["charity"]
    registry.setActor(
        charity.address, charity.roles, actors["stranger"].gln, {"from": admin}
    )  # it joins another organisation later
    gateway.services.indexer.index_once()
    view = unit_view(gateway.services, GTIN, "DON-ORG")
    assert view.fate["organization"] == f"{charity.gln:013d}" and view.fate["organizationAtEvent"]
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/DON-ORG").text)
    assert re.search(
        rf"Donated to organisation GLN {charity.gln:013d} on .* \(the partner's organisation when it signed\)", page
    ), page


def test_return_options_show_what_the_refund_on_receipt_pays(gateway, shop, deployment, escrow, admin, actors):
    warehouse = actors["warehouse"]
    deployment.registry.setReturnCenter(warehouse.gln, warehouse.gln, 1 << MARKET_EU, {"from": admin})
    order_id = shop.buy(market=MARKET_EU)  # the hygiene-sealed product: quote(A) without facts would say less
    shop.deliver(order_id)
    gateway.services.indexer.index_once()
    serial = _serial_of(gateway, shop.unit(order_id))
    shown = int(
        gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()["return_status"][
            "return_options"
        ]["refund"]
    )
    shop.request_return(order_id)
    shop.receive(order_id)
    tx = escrow.releaseRefundOnReceipt(order_id, {"from": admin})
    assert escrow.order(order_id)["status"] == Status.REFUNDED
    assert shown == tx.events["OrderSettled"]["settlement"]["refund"] > 0  # the release's settlement follows it


def test_a_replacement_link_undone_by_an_unfulfilled_reissue_is_not_shown(
    gateway, shop, deployment, commission, actors
):
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    deployment.desk.claimDefect(order_id, EVIDENCE, {"from": actors["buyer"].account})
    commission("REPL-GONE")
    deployment.desk.linkReplacement(order_id, GTIN_INT, "REPL-GONE", {"from": actors["brand"].account})
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 60)  # past the EU preset's delivery timeout and relay delay
    chain.mine()
    deployment.desk.claimUnfulfilledReissue(order_id, {"from": actors["buyer"].account})
    gateway.services.indexer.index_once()
    original = _serial_of(gateway, shop.unit(order_id))
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/{original}").text)
    assert "Replaced by" not in page
    assert (
        "Replacement not delivered in time — return the defective unit for a full refund" in page
    )  # the EU policy wants it back
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/REPL-GONE").text)
    assert "Replacement for" not in page and "not verified" not in page


def test_order_reads_are_cached_per_indexed_block(gateway, shop):
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    gateway.services.indexer.index_once()
    serial = _serial_of(gateway, shop.unit(order_id))
    first = gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()[
        "return_status"
    ]["return_options"]
    links = gateway.services.unit_views.links
    links.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # the node goes away: the same block answers from the cache
    again = gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()[
        "return_status"
    ]["return_options"]
    assert again == first and first is not None


def test_a_products_brand_or_seal_changed_in_the_index_is_not_verified(gateway, actors):
    """The attack: the index names another brand for the product, or drops its hygiene seal (a buyer then
    expects a return the law does not give); the unit's history still matches its record."""
    from tests.api.indexing import journey

    journey(gateway, ["BRAND-1"])
    gateway.services.indexer.index_once()
    path = f"/01/{GTIN}/21/BRAND-1"
    view = gateway.client.get(path, headers={"accept": "application/json"}).json()
    brand, sealed = view["brand"], view["hygiene_sealed"]
    assert view["verification"]["verified"] and brand == actors["brand"].address
    other = actors["carrier"].address
    (flags,) = rows(gateway, "SELECT class_flags FROM idx_products WHERE gtin = ?", GTIN)[0]
    for tampering, params in (("brand = ?", (other,)), ("class_flags = ?", (flags ^ 1,))):
        execute(gateway, f"UPDATE idx_products SET {tampering} WHERE gtin = ?", *params, GTIN)
        view = gateway.client.get(path, headers={"accept": "application/json"}).json()
        assert (view["brand"], view["hygiene_sealed"]) != (brand, sealed), tampering
        assert not view["verification"]["verified"], tampering
        assert view["verification"]["reason"].startswith("mismatch: TraceRegistry.product"), view["verification"]
        assert "Not verified: mismatch: TraceRegistry.product" in text_of(gateway.client.get(path).text)
        execute(gateway, "UPDATE idx_products SET brand = ?, class_flags = ? WHERE gtin = ?", brand, flags, GTIN)
        assert gateway.client.get(path, headers={"accept": "application/json"}).json()["verification"]["verified"]
