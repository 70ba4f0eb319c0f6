"""Auditor API: filtered and paginated events, the EPCIS 2.0 export validated against GS1's JSON
schema, and the integrity report, which catches an altered index row and a chain that is down."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import jsonschema
from brownie import chain
from fastapi.testclient import TestClient

from api.http.routes.resolver import unit_view
from api.main import create_app
from returntrace import gs1
from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from tests.api.indexing import execute, journey, rows
from tests.support import GTIN

ROOT = Path(__file__).resolve().parents[2]
EPCIS_SCHEMA = ROOT / "standards" / "gs1" / "epcis" / "EPCIS-JSON-Schema.json"


def _indexed(gateway, serials, **kw):
    units = journey(gateway, serials, **kw)
    gateway.services.indexer.index_once()
    return units


def _all_pages(gateway, path, **params):
    events, cursor, pages = [], None, 0
    while True:
        r = gateway.client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        events += body["events"]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            return events, pages


# ---------------------------------------------------------------------------------------------
# filters and pagination


def test_filters_by_unit_signer_step_time_and_block(gateway):
    start = chain.time()
    units = _indexed(gateway, ["AUD-1", "AUD-2", "AUD-3"], pause=50)
    everything = gateway.client.get("/v1/audit/events", params={"limit": 1000}).json()
    assert everything["count"] == 15 and everything["nextCursor"] is None
    assert everything["indexedBlock"] == chain.height
    positions = [(e["block"], e["logIndex"]) for e in everything["events"]]
    assert positions == sorted(positions)

    by_unit = gateway.client.get("/v1/audit/events", params={"gtin": GTIN, "serial": "AUD-2"}).json()["events"]
    assert [e["seq"] for e in by_unit] == [1, 2, 3, 4, 5] and {e["serial"] for e in by_unit} == {"AUD-2"}
    by_id = gateway.client.get("/v1/audit/events", params={"unitId": "0x" + units[1].hex()}).json()["events"]
    assert by_id == by_unit

    carrier = gateway.actors["carrier"].address
    by_signer = gateway.client.get("/v1/audit/events", params={"signer": carrier.lower()}).json()["events"]
    assert (
        len(by_signer) == 9
        and {e["signer"] for e in by_signer} == {carrier}
        and {e["signerRole"] for e in by_signer} == {"carrier"}
    )

    by_name = gateway.client.get("/v1/audit/events", params={"bizStep": "customs_clearing"}).json()["events"]
    by_number = gateway.client.get("/v1/audit/events", params={"bizStep": int(BizStep.CUSTOMS_CLEARING)}).json()[
        "events"
    ]
    by_uri = gateway.client.get(
        "/v1/audit/events", params={"bizStep": "urn:returntrace:bizstep:customs_clearing"}
    ).json()["events"]
    assert len(by_name) == 3 and by_name == by_number == by_uri
    assert (
        by_name[0]["bizStepUri"] == "urn:returntrace:bizstep:customs_clearing"
        and by_name[0]["label"] == "Cleared customs"
    )

    # Event time: steps are 50 s apart; the window holds the departing and customs scans.
    departed = next(e for e in by_unit if e["bizStep"] == "departing")["eventTime"]
    window = {"from": departed, "to": datetime.utcfromtimestamp(departed + 75).isoformat() + "Z"}
    in_window = gateway.client.get("/v1/audit/events", params=window).json()["events"]
    assert {e["bizStep"] for e in in_window} == {"departing", "customs_clearing"} and len(in_window) == 6
    assert all(e["eventTime"] >= start for e in everything["events"])

    # Block range: exactly the delivery scans' block.
    delivered_block = next(e for e in by_unit if e["bizStep"] == "delivering")["block"]
    in_block = gateway.client.get(
        "/v1/audit/events", params={"fromBlock": delivered_block, "toBlock": delivered_block}
    ).json()["events"]
    assert {e["bizStep"] for e in in_block} == {"delivering"} and len(in_block) == 3

    combined = gateway.client.get(
        "/v1/audit/events", params={"signer": carrier, "gtin": GTIN, "serial": "AUD-3", "bizStep": "delivering"}
    ).json()["events"]
    assert len(combined) == 1 and combined[0]["disposition"] == "delivered"


def test_cursor_pagination_walks_every_event_once(gateway):
    _indexed(gateway, ["PAGE-1", "PAGE-2", "PAGE-3", "PAGE-4"])
    everything = gateway.client.get("/v1/audit/events", params={"limit": 1000}).json()["events"]
    paged, pages = _all_pages(gateway, "/v1/audit/events", limit=3)
    assert pages == 7  # 20 events, 3 a page
    assert paged == everything
    filtered, _ = _all_pages(gateway, "/v1/audit/events", limit=2, signer=gateway.actors["carrier"].address)
    assert len(filtered) == 12 and len({(e["txHash"], e["logIndex"]) for e in filtered}) == 12


def test_bad_queries_are_400_or_422(gateway):
    _indexed(gateway, ["BAD-1"])
    first = gateway.client.get("/v1/audit/events", params={"limit": 2}).json()
    cases = [
        ({"unitId": "0x1234"}, 400, "invalid_unit_id"),
        ({"gtin": GTIN}, 400, "invalid_unit"),
        ({"gtin": "09506000134353", "serial": "X"}, 400, "invalid_gtin"),
        ({"gtin": GTIN, "serial": "has space"}, 400, "invalid_serial"),
        ({"signer": "carrier"}, 400, "invalid_address"),
        ({"bizStep": "dancing"}, 400, "invalid_biz_step"),
        ({"bizStep": "99"}, 400, "invalid_biz_step"),
        ({"from": "yesterday"}, 400, "invalid_time"),
        ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ({"cursor": first["nextCursor"], "bizStep": "shipping"}, 400, "invalid_cursor"),  # another query's cursor
        ({"limit": 1001}, 422, "invalid_request"),
        ({"limit": 0}, 422, "invalid_request"),
        ({"fromBlock": -1}, 422, "invalid_request"),
    ]
    for params, status, code in cases:
        for path in ("/v1/audit/events", "/v1/audit/epcis"):
            r = gateway.client.get(path, params=params)
            assert (r.status_code, r.json()["error"]) == (status, code), (path, params, r.text)


# ---------------------------------------------------------------------------------------------
# EPCIS 2.0


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _epcis_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(EPCIS_SCHEMA.read_text())
    checker = jsonschema.FormatChecker()
    # jsonschema checks "uri" and "date-time" only with optional packages; these are RFC 3986 / RFC 3339.
    checker.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.match(value)))
    checker.checks("date-time")(
        lambda value: (
            not isinstance(value, str)
            or (bool(_DATE_TIME.match(value)) and bool(datetime.fromisoformat(value.replace("Z", "+00:00"))))
        )
    )
    return jsonschema.Draft7Validator(schema, format_checker=checker)


def test_epcis_export_validates_against_gs1_schema(gateway, shop, escrow):
    _indexed(gateway, ["EPC-1", "EPC-2"])
    order_id = shop.returned()
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A, evidence=b"\x0e" * 32)
    gateway.services.indexer.index_once()

    r = gateway.client.get("/v1/audit/epcis", params={"limit": 1000})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    validator = _epcis_validator()
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

    # The checker is really checking: a broken export fails.
    broken = json.loads(json.dumps(doc))
    broken["epcisBody"]["eventList"][0]["epcList"] = ["not a uri"]
    assert not validator.is_valid(broken)

    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0"
    assert (
        doc["@context"][0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
        and doc["@context"][1]["rt"] == "urn:returntrace:epcis:"
    )
    events = doc["epcisBody"]["eventList"]
    lifecycle = [e for e in events if e["bizStep"] != "urn:returntrace:bizstep:settling"]
    (settled,) = [
        e for e in events if e["bizStep"] == "urn:returntrace:bizstep:settling"
    ]  # grade A: settled at the inspection
    assert len(lifecycle) == 10 + 3 and events.index(settled) == len(events) - 1
    assert (
        settled["rt:escrowEvent"] == "OrderSettled"
        and settled["rt:orderId"] == order_id
        and settled["rt:settlement"]["rt:kind"] == "graded"
    )
    first = events[0]
    assert first["type"] == "ObjectEvent" and first["action"] == "ADD" and first["bizStep"] == "commissioning"
    assert first["epcList"] == [f"https://id.gs1.org/01/{GTIN}/21/EPC-1"]
    assert first["readPoint"]["id"] == f"https://id.gs1.org/414/{gateway.actors['brand'].gln:013d}"
    assert first["eventID"] == f"urn:returntrace:event:{chain.id}:{first['rt:txHash']}:{first['rt:logIndex']}" and len(
        {e["eventID"] for e in events}
    ) == len(events)
    assert all(
        e["rt:eventHash"].startswith("ni:///sha-256;") and e["rt:eventHash"].endswith("?ver=CBV2.0") for e in events
    )
    assert first["eventTimeZoneOffset"] == "+00:00" and first["eventTime"].endswith("Z")
    assert "disposition" not in first and first["rt:signer"] == gateway.actors["brand"].address and first["rt:seq"] == 1
    steps = [e["bizStep"] for e in events if e["epcList"][0].endswith("EPC-1")]
    assert steps == [
        "commissioning",
        "shipping",
        "departing",
        "urn:returntrace:bizstep:customs_clearing",
        "urn:returntrace:bizstep:delivering",
    ]
    delivered = [e for e in events if e["bizStep"] == "urn:returntrace:bizstep:delivering"]
    assert {e["disposition"] for e in delivered} == {"urn:returntrace:disp:delivered"}

    # The order flow: the delivery scan names the purchase order, the receiving scan the RMA.
    order_events = [e for e in lifecycle if "bizTransactionList" in e]
    (po,) = [e["bizTransactionList"][0] for e in order_events if e["bizStep"] == "urn:returntrace:bizstep:delivering"]
    (rma,) = [e for e in order_events if e["bizStep"] == "receiving"]
    assert po == {
        "bizTransaction": f"urn:returntrace:bt:po:{chain.id}:{escrow.address.lower()}:{order_id}",
        "type": "po",
    }
    assert rma["bizTransactionList"][0]["type"] == "rma" and rma["disposition"] == "returned"
    assert rma["rt:bizTransactionRef"] == "0x" + bytes(escrow.rmaRef(order_id)).hex()

    # The same selection, paginated: the next page is in a Link header; a filtered export is the filtered events.
    page = gateway.client.get("/v1/audit/epcis", params={"limit": 4})
    assert 'rel="next"' in page.headers["link"] and page.json()["rt:nextCursor"]
    assert not list(validator.iter_errors(page.json()))
    one = gateway.client.get("/v1/audit/epcis", params={"gtin": GTIN, "serial": "EPC-2"}).json()
    assert [e["rt:seq"] for e in one["epcisBody"]["eventList"]] == [1, 2, 3, 4, 5]


def test_an_exported_event_never_changes_what_the_index_learns_later_is_a_new_event(gateway, shop, escrow):
    """An event's content and hash are fixed once its log is on-chain: the settlement that follows
    is an event of its own; a scan signed with an order's reference before that order existed stays
    a bare reference (what it named at its position), though the order exists now."""
    order_id = shop.buy()
    unit = shop.unit(order_id)
    shop.deliver(order_id)
    future = escrow.orderRef(order_id + 1)  # a carrier signs the next order's reference before it is placed
    r = gateway.post(
        "/v1/events",
        gateway.events_body(
            "carrier",
            [gateway.event(unit, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT, bizTransaction=bytes(future))],
        ),
    )
    assert r.status_code == 202, r.text
    gateway.relay()
    shop.request_return(order_id)
    shop.receive(order_id)
    gateway.services.indexer.index_once()
    key = {"unitId": "0x" + unit.hex()}
    before = gateway.client.get("/v1/audit/epcis", params=key).json()["epcisBody"]["eventList"]
    early = next(e for e in before if e["bizStep"] == "departing")
    assert early["bizTransactionList"] == [
        {"bizTransaction": f"urn:returntrace:bt:ref:0x{bytes(future).hex()}", "type": "urn:returntrace:btt:ref"}
    ]

    shop.buy()  # the order that reference names now exists
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)  # settles
    gateway.services.indexer.index_once()
    after = gateway.client.get("/v1/audit/epcis", params=key).json()["epcisBody"]["eventList"]
    assert after[: len(before)] == before  # word for word, hashes included
    (settled,) = after[len(before) :]
    assert settled["bizStep"] == "urn:returntrace:bizstep:settling" and settled["rt:escrowEvent"] == "OrderSettled"
    assert settled["eventID"] not in {e["eventID"] for e in before}
    listed = gateway.client.get("/v1/audit/events", params=key).json()["events"]
    assert (
        next(e for e in listed if e["bizStep"] == "departing")["bizTransaction"]["type"] is None
    )  # the JSON list says the same


# ---------------------------------------------------------------------------------------------
# integrity


def test_integrity_report_all_verified(gateway, shop):
    _indexed(gateway, ["INT-1", "INT-2"])
    shop.returned()
    gateway.services.indexer.index_once()
    r = gateway.client.get("/v1/audit/integrity")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["block"] == gateway.services.indexer.indexed_block()
    assert report["units"] == {"total": 3, "verified": 3, "mismatched": 0}
    assert report["events"] == 5 + 5 + 3 and report["mismatches"] == [] and report["orders"] == 1


def test_tampered_index_row_is_caught_by_the_page_and_the_integrity_report(gateway):
    (unit, other) = _indexed(gateway, ["TAMPER-1", "TAMPER-2"])
    key = "0x" + unit.hex()
    # An operator (or a broken disk) turns the delivery into a customs scan in the database.
    execute(
        gateway, "UPDATE idx_events SET biz_step = ? WHERE unit_id = ? AND seq = 5", int(BizStep.CUSTOMS_CLEARING), key
    )

    view = unit_view(gateway.services, GTIN, "TAMPER-1")
    assert not view.verification.verified
    assert (
        "an event was altered" in view.verification.reason
        and f"block {view.verification.block}" in view.verification.reason
    )
    assert view.verification.onchain_count == view.verification.rebuilt_count == 5
    assert unit_view(gateway.services, GTIN, "TAMPER-2").verification.verified

    report = gateway.client.get("/v1/audit/integrity").json()
    assert report["units"] == {"total": 2, "verified": 1, "mismatched": 1}
    (m,) = report["mismatches"]
    assert m["unitId"] == key and m["serial"] == "TAMPER-1" and "an event was altered" in m["reason"]
    assert m["rebuiltRecord"] != m["onchainRecord"]

    # A deleted row is a missing event.
    execute(gateway, "DELETE FROM idx_events WHERE unit_id = ? AND seq = 3", "0x" + other.hex())
    report = gateway.client.get("/v1/audit/integrity").json()
    reasons = {m["serial"]: m["reason"] for m in report["mismatches"]}
    assert "events are missing" in reasons["TAMPER-2"] and report["units"]["mismatched"] == 2


def test_dead_chain_gives_unverified_views_and_503_integrity_never_500(gateway, gateway_settings):
    _indexed(gateway, ["DEAD-1"])
    gateway.client.__exit__(None, None, None)
    dead = gateway_settings.replace(rpc_url="http://127.0.0.1:9")  # nothing listens on the discard port
    with TestClient(create_app(dead)) as client:
        view = unit_view(client.app.state.services, GTIN, "DEAD-1")
        assert view is not None and len(view.timeline) == 5
        assert not view.verification.verified and view.verification.reason.startswith("chain unreachable")
        assert view.verification.block is not None and view.verification.onchain_count is None
        assert unit_view(client.app.state.services, GTIN, "NOT-THERE") is None
        r = client.get(f"/01/{GTIN}/21/DEAD-1", headers={"accept": "application/json"})
        assert r.status_code == 200 and r.json()["verification"]["verified"] is False
        r = client.get("/v1/audit/integrity")
        assert r.status_code == 503 and r.json()["error"] == "chain_unavailable"
        assert client.get("/v1/audit/events").status_code == 200  # the index still answers
        assert client.get("/v1/audit/epcis").status_code == 200


def test_unit_id_in_every_format(gateway):
    (unit,) = _indexed(gateway, ["FMT-1"])
    assert gs1.unit_id(GTIN, "FMT-1") == unit
    upper = "0x" + unit.hex().upper()
    assert gateway.client.get("/v1/audit/events", params={"unitId": upper}).json()["count"] == 5


def test_evidence_is_named_by_cid_and_checked_against_it(gateway, tmp_path, shop):
    """A real EvidenceStore: the page and the export name evidence by CID, the integrity report
    finds a file altered on disk or gone."""
    from returntrace.cid import digest_of

    state = gateway.services
    store = state.evidence
    photo = store.put(b"\xff\xd8\xff" + b"inspection photo of unit EV-1", "image/jpeg")
    report = store.put(b"%PDF-1.7 receiving report", "application/pdf")
    unknown = b"\x5a" * 32  # evidence the store never saw
    (unit,) = journey(gateway, ["EV-1"], steps=())
    events = [
        gateway.event(unit, BizStep.RECEIVING, "warehouse", Disposition.RETURNED, evidence=digest_of(report.cid)),
        gateway.event(unit, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE, evidence=unknown),
    ]
    assert gateway.post("/v1/events", gateway.events_body("warehouse", events)).status_code == 202
    gateway.relay()
    order_id = shop.returned()
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A, evidence=digest_of(photo.cid))
    state.indexer.index_once()

    view = unit_view(state, GTIN, "EV-1")
    assert [e.evidence for e in view.timeline] == [None, report.cid, "0x" + unknown.hex()]
    (serial,) = rows(gateway, "SELECT serial FROM idx_units WHERE unit_id = ?", "0x" + shop.unit(order_id).hex())[0]
    assert unit_view(state, GTIN, serial).return_status.inspection["evidence"] == photo.cid
    exported = gateway.client.get("/v1/audit/epcis", params={"gtin": GTIN, "serial": "EV-1"}).json()["epcisBody"][
        "eventList"
    ]
    exported_doc = gateway.client.get("/v1/audit/epcis", params={"gtin": GTIN, "serial": "EV-1"}).json()
    assert exported[1]["rt:evidenceDigest"] == "0x" + digest_of(report.cid).hex() and "rt:evidence" not in exported[1]
    # The CIDs the store knows are beside the events (the store may learn one later; an event never changes).
    assert exported_doc["rt:evidenceFiles"] == {"0x" + digest_of(report.cid).hex(): report.cid}
    listed = gateway.client.get("/v1/audit/events", params={"gtin": GTIN, "serial": "EV-1"}).json()["events"]
    assert listed[1]["evidence"] == {"digest": "0x" + digest_of(report.cid).hex(), "cid": report.cid}

    ev = gateway.client.get("/v1/audit/integrity").json()["evidence"]
    assert ev["checked"] and (ev["referenced"], ev["present"], ev["missing"], ev["corrupt"]) == (3, 2, 1, 0)
    assert ev["problems"][0]["digest"] == "0x" + unknown.hex() and ev["problems"][0]["references"][0]["seq"] == 3

    # The receiving report is altered on disk: the report says corrupt, naming where it is used.
    blob = next(p for p in (Path(store.folder) / "blobs").rglob(report.cid))
    blob.write_bytes(b"%PDF-1.7 a different report")
    ev = gateway.client.get("/v1/audit/integrity").json()["evidence"]
    assert (ev["present"], ev["missing"], ev["corrupt"]) == (1, 1, 1)
    corrupt = next(p for p in ev["problems"] if p["status"] == "corrupt")
    assert corrupt["cid"] == report.cid and corrupt["references"] == [{"unitId": "0x" + unit.hex(), "seq": 2}]
