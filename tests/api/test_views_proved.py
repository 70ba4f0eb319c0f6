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


def test_a_history_altered_in_the_index_is_never_shown_verified(gateway, actors):
    """The attacks on the timeline's rows, each undone before the next: an event deleted, one inserted, a pair
    reordered, a field changed (time, location, disposition, signer), a row taken from another unit. Each
    struct hash is recomputed from the row's fields, so the rebuilt chain no longer meets unitRecord."""
    from tests.api.indexing import JOURNEY, journey

    (a,) = ("0x" + u.hex() for u in journey(gateway, ["HIST-A"]))
    (b,) = ("0x" + u.hex() for u in journey(gateway, ["HIST-B"], steps=JOURNEY[:1]))  # B: made and shipped
    gateway.services.indexer.index_once()
    execute(gateway, "CREATE TABLE kept AS SELECT * FROM idx_events")
    columns = "unit_id, seq, kind, signer, signer_roles, biz_step, disposition, location, event_time, evidence, "
    columns += "biz_transaction, block, tx_hash, log_index, struct_hash, record, sscc, action, child_ids"
    inserted = columns.replace("seq,", "6,").replace("tx_hash,", "tx_hash || 'x',")  # a second delivery
    returned = int(Disposition.RETURNED)
    attacks = {
        "deleted": ["DELETE FROM idx_events WHERE unit_id = ?1 AND seq = 3"],
        "inserted": [f"INSERT INTO idx_events ({columns}) SELECT {inserted} FROM kept WHERE unit_id = ?1 AND seq = 4"],
        "reordered": [
            "UPDATE idx_events SET seq = -3 WHERE unit_id = ?1 AND seq = 3",
            "UPDATE idx_events SET seq = 3 WHERE unit_id = ?1 AND seq = 4",
            "UPDATE idx_events SET seq = 4 WHERE unit_id = ?1 AND seq = -3",
        ],
        "time": ["UPDATE idx_events SET event_time = event_time - 86400 WHERE unit_id = ?1 AND seq = 5"],
        "location": ["UPDATE idx_events SET location = location + 1 WHERE unit_id = ?1 AND seq = 4"],
        "disposition": [f"UPDATE idx_events SET disposition = {returned} WHERE unit_id = ?1 AND seq = 5"],
        "signer": [f"UPDATE idx_events SET signer = '{actors['brand'].address}' WHERE unit_id = ?1 AND seq = 4"],
        "another unit's row": [  # B's shipping in place of A's delivery
            "DELETE FROM idx_events WHERE unit_id = ?1 AND seq = 5",
            "UPDATE idx_events SET unit_id = ?1, seq = 5 WHERE unit_id = ?2 AND seq = 2",
        ],
    }
    path = f"/01/{GTIN}/21/HIST-A"
    for name, statements in attacks.items():
        for sql in statements:
            execute(gateway, sql, a, b) if "?2" in sql else execute(gateway, sql, a)
        view = gateway.client.get(path, headers={"accept": "application/json"}).json()
        assert not view["verification"]["verified"], name
        assert view["verification"]["reason"].startswith("mismatch:"), (name, view["verification"])
        assert "Not verified: mismatch:" in text_of(gateway.client.get(path).text), name
        execute(gateway, "DELETE FROM idx_events")
        execute(gateway, f"INSERT INTO idx_events ({columns}) SELECT {columns} FROM kept")
        assert gateway.client.get(path, headers={"accept": "application/json"}).json()["verification"]["verified"]
    report = gateway.client.get("/v1/audit/integrity").json()
    assert report["units"]["mismatched"] == 0
