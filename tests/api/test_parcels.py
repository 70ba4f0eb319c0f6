"""Combined returns through the gateway: POST /v1/aggregations checked as the registry checks it,
relayed with aggregate(); parcels indexed, a packed unit's view verified across its own chain and its
parcel's; the /00/<sscc> page with its content proved on-chain; EPCIS AggregationEvents; partners
closing a unit's lifecycle."""

from __future__ import annotations

import json
import re

from brownie import chain, web3

from api.http.routes.resolver import unit_view
from returntrace import gs1
from returntrace.cli.audit import main as audit_main
from returntrace.escrow import UnitDisposition
from returntrace.vocab import AggregationAction, BizStep, Disposition
from tests.api.indexing import execute
from tests.api.test_audit import _epcis_validator
from tests.api.test_resolver import text_of
from tests.support import GTIN, ZERO32

SSCC = int(gs1.with_check_digit("09506000000012345"))
SSCC18 = f"{SSCC:018d}"
PARCEL = gs1.parcel_id(SSCC)
ADD, DELETE = AggregationAction.ADD, AggregationAction.DELETE


def aggregation(gateway, actor, children, action=ADD, sscc=SSCC, **fields):
    step = BizStep.PACKING if action == ADD else BizStep.UNPACKING
    item = {
        "sscc": sscc,
        "childIds": ["0x" + c.hex() for c in children],
        "action": int(action),
        "bizStep": int(step),
        "disposition": int(Disposition.IN_PROGRESS),
        "location": gateway.actors[actor].gln,
        "eventTime": chain.time(),
        "evidence": ZERO32,
        "bizTransaction": ZERO32,
        **fields,
    }
    return gateway.body("AggregationBatch", actor, aggregations=[item])


def _rejected(gateway, path, body, status, code):
    before = gateway.services.outbox.depth()
    r = gateway.post(path, body)
    assert (r.status_code, r.json()["error"]) == (status, code), r.text
    assert gateway.services.outbox.depth() == before
    return r.json()


def _accepted(gateway, path, body):
    r = gateway.post(path, body)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_intake_checks_every_aggregation_rule(gateway, registry, destined):
    (a,) = gateway.commission("PAR-A")
    gateway.relay()
    b = destined(UnitDisposition.DONATE)  # its settled order sends it to a charity
    bad_sscc = aggregation(gateway, "carrier", [a])
    bad_sscc["aggregations"][0]["sscc"] = str(SSCC + 1)
    _rejected(gateway, "/v1/aggregations", bad_sscc, 400, "invalid_sscc")
    _rejected(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [a], action=3), 400, "invalid_action")
    _rejected(gateway, "/v1/aggregations", aggregation(gateway, "carrier", []), 400, "empty_aggregation")
    _rejected(
        gateway,
        "/v1/aggregations",
        aggregation(gateway, "carrier", [a], bizStep=int(BizStep.COMMISSIONING)),
        400,
        "invalid_step",
    )
    _rejected(gateway, "/v1/aggregations", aggregation(gateway, "inspector", [a]), 403, "role_not_allowed")
    _rejected(
        gateway,
        "/v1/aggregations",
        aggregation(gateway, "carrier", [a], disposition=int(Disposition.DONATED)),
        403,
        "disposition_not_allowed",
    )
    _rejected(
        gateway, "/v1/aggregations", aggregation(gateway, "carrier", [gs1.unit_id(GTIN, "NOBODY")]), 404, "unknown_unit"
    )
    _rejected(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [a], action=DELETE), 409, "not_in_parcel")
    _rejected(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [PARCEL]), 404, "unknown_unit")

    # Packed; the parcel's scan is accepted while the packing is still queued (like a commissioning's).
    packed = _accepted(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [a]))
    scan = _accepted(
        gateway,
        "/v1/events",
        gateway.events_body("carrier", [gateway.event(PARCEL, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)]),
    )
    gateway.relay()
    for mid in (packed, scan):
        assert gateway.client.get(f"/v1/messages/{mid}").json()["status"] == "confirmed"
    assert (
        bytes(registry.parentOf(a)) == PARCEL and registry.parcelSize(PARCEL) == 1 and registry.eventCount(PARCEL) == 2
    )

    gateway.services.indexer.index_once()
    other = int(gs1.with_check_digit("09506000000099999"))
    body = _rejected(
        gateway, "/v1/aggregations", aggregation(gateway, "warehouse", [a, b], sscc=other), 409, "already_packed"
    )
    assert body["sscc"] == SSCC18 and body["parcel"] == "0x" + PARCEL.hex()
    # A charity's donation closes a unit: nothing more on it, here or in a parcel; only partners sign it.
    _rejected(
        gateway,
        "/v1/events",
        gateway.events_body("warehouse", [gateway.event(b, BizStep.RECEIVING, "warehouse", Disposition.DONATED)]),
        403,
        "disposition_not_allowed",
    )
    _accepted(
        gateway,
        "/v1/events",
        gateway.events_body("charity", [gateway.event(b, BizStep.RECEIVING, "charity", Disposition.DONATED)]),
    )
    gateway.relay()
    _rejected(
        gateway,
        "/v1/events",
        gateway.events_body("warehouse", [gateway.event(b, BizStep.STORING, "warehouse")]),
        409,
        "unit_closed",
    )
    _rejected(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [b]), 409, "unit_closed")

    schema = gateway.client.get("/v1/eip712").json()
    assert schema["messages"]["AggregationBatch"]["post"] == "/v1/aggregations"
    assert gateway.client.get(
        f"/v1/signers/{gateway.actors['carrier'].address}/nonce", params={"kind": "AggregationBatch"}
    ).json()["nextNonce"] == registry.getNonce(gateway.actors["carrier"].address)


def _combined_return(gateway):
    """Two units packed, the parcel scanned twice, unpacked, the units received: all through the gateway."""
    a, b = gateway.commission("CMB-1", "CMB-2")
    gateway.relay()
    steps = [  # bodies made one after the other: each takes the signer's next nonce
        ("/v1/aggregations", lambda: aggregation(gateway, "carrier", [a, b])),
        (
            "/v1/events",
            lambda: gateway.events_body(
                "carrier", [gateway.event(PARCEL, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)]
            ),
        ),
        (
            "/v1/events",
            lambda: gateway.events_body(
                "carrier", [gateway.event(PARCEL, BizStep.ARRIVING, "carrier", Disposition.IN_TRANSIT)]
            ),
        ),
        ("/v1/aggregations", lambda: aggregation(gateway, "warehouse", [a], action=DELETE)),
        (
            "/v1/events",
            lambda: gateway.events_body(
                "warehouse", [gateway.event(a, BizStep.RECEIVING, "warehouse", Disposition.RETURNED)]
            ),
        ),
    ]
    for path, body in steps:
        _accepted(gateway, path, body())
        gateway.relay()
    gateway.services.indexer.index_once()
    return a, b


def test_packed_unit_view_parcel_page_epcis_and_integrity(gateway, manifest, capsys):
    a, b = _combined_return(gateway)
    view = gateway.client.get(f"/01/{GTIN}/21/CMB-1", headers={"accept": "application/json"}).json()
    assert view["verification"]["verified"], view["verification"]
    assert [(e["label"], e["via_parcel"], e["parcel"]) for e in view["timeline"]] == [
        ("Made", False, None),
        ("Packed in parcel", False, SSCC18),
        ("Departed", True, SSCC18),
        ("Arrived", True, SSCC18),
        ("Unpacked from parcel", False, SSCC18),
        ("Received at return center", False, None),
    ]
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/CMB-1").text)
    assert f"Packed in parcel {SSCC18}" in page and f"via parcel {SSCC18}" in page and "Verified on-chain" in page

    # The parcel's page: its history and what is still in it (CMB-2), proved on-chain.
    parcel = gateway.client.get(f"/00/{SSCC18}", headers={"accept": "application/json"}).json()
    assert parcel["verification"]["verified"] and parcel["contents_verified"] and parcel["onchain_size"] == 1
    assert [m["serial"] for m in parcel["contents"]] == ["CMB-2"]
    html = gateway.client.get(f"/00/{SSCC18}").text
    assert f'href="{gateway.services.settings.public_url}/01/{GTIN}/21/CMB-2"' in html and "proved on-chain" in text_of(
        html
    )
    assert gateway.client.get(f"/00/{SSCC18}/qr.svg").headers["content-type"] == "image/svg+xml"
    assert (
        gateway.client.get(f"/00/{SSCC + 1:018d}", headers={"accept": "application/json"}).json()["error"]
        == "invalid_sscc"
    )
    assert gateway.client.get("/00/095060000000999995", headers={"accept": "application/json"}).status_code in (
        400,
        404,
    )
    unknown = gs1.with_check_digit("09506000000077777")
    assert (
        gateway.client.get(f"/00/{unknown}", headers={"accept": "application/json"}).json()["error"] == "unknown_parcel"
    )

    # Audit: the unit's events include its aggregation links; EPCIS has the parcel's AggregationEvents.
    events = gateway.client.get("/v1/audit/events", params={"gtin": GTIN, "serial": "CMB-1"}).json()["events"]
    assert [e["aggregation"]["action"] for e in events if "aggregation" in e] == ["ADD", "DELETE"]
    assert events[1]["aggregation"]["childIds"] == ["0x" + a.hex(), "0x" + b.hex()]
    doc = gateway.client.get("/v1/audit/epcis", params={"limit": 1000}).json()
    errors = list(_epcis_validator().iter_errors(doc))
    assert not errors, [e.message for e in errors[:5]]
    aggregations = [e for e in doc["epcisBody"]["eventList"] if e["type"] == "AggregationEvent"]
    assert [(e["action"], e["bizStep"]) for e in aggregations] == [("ADD", "packing"), ("DELETE", "unpacking")]
    assert aggregations[0]["parentID"] == f"https://id.gs1.org/00/{SSCC18}"
    assert aggregations[0]["childEPCs"] == [
        f"https://id.gs1.org/01/{GTIN}/21/CMB-1",
        f"https://id.gs1.org/01/{GTIN}/21/CMB-2",
    ]
    scans = [e for e in doc["epcisBody"]["eventList"] if e.get("epcList") == [f"https://id.gs1.org/00/{SSCC18}"]]
    assert [e["bizStep"] for e in scans] == ["departing", "arriving"]

    # Integrity: parcels apart from units, the same as the auditor CLI's from a node alone.
    report = gateway.client.get("/v1/audit/integrity").json()
    assert report["units"] == {"total": 2, "verified": 2, "mismatched": 0} and report["parcels"] == {
        "total": 1,
        "verified": 1,
        "mismatched": 0,
    }
    capsys.readouterr()
    code = audit_main(
        [
            "--rpc",
            web3.provider.endpoint_uri,
            "--manifest",
            str(manifest),
            "--block",
            str(report["block"]),
            "integrity",
            "--json",
        ]
    )
    cli = json.loads(capsys.readouterr().out)
    assert code == 0 and {k: cli[k] for k in ("units", "parcels", "events", "mismatches")} == {
        k: report[k] for k in ("units", "parcels", "events", "mismatches")
    }

    # An altered parcel scan in the index breaks the unit's verification (and the parcel's).
    execute(
        gateway,
        "UPDATE idx_events SET biz_step = ? WHERE unit_id = ? AND seq = 2",
        int(BizStep.SHIPPING),
        "0x" + PARCEL.hex(),
    )
    tampered = unit_view(gateway.services, GTIN, "CMB-1").verification
    assert not tampered.verified and tampered.reason.startswith(f"parcel {SSCC18}: ") and "altered" in tampered.reason
    assert not gateway.client.get(f"/00/{SSCC18}", headers={"accept": "application/json"}).json()["verification"][
        "verified"
    ]
    report = gateway.client.get("/v1/audit/integrity").json()
    assert report["parcels"]["mismatched"] == 1 and report["mismatches"][0]["sscc"] == SSCC18


def test_consumer_page_says_where_a_partner_took_the_unit(gateway, destined):
    unit = destined(UnitDisposition.DONATE, serial="DON-1")  # returned, graded B and settled: a charity's
    _accepted(
        gateway,
        "/v1/events",
        gateway.events_body("charity", [gateway.event(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)]),
    )
    gateway.relay()
    gateway.services.indexer.index_once()
    view = unit_view(gateway.services, GTIN, "DON-1")
    assert view.verification.verified and view.closed and view.fate["kind"] == "donated"
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/DON-1").text)
    org = f"{gateway.actors['charity'].gln:013d}"
    assert re.search(rf"Donated to organisation GLN {org} on \d+ \w+ \d{{4}}", page), page
    assert "Lifecycle closed" in page
