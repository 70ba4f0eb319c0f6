"""The inspection preview (GET /v1/inspection-preview, issue 12 §2): the grade the contract derives from
the ticked facts, what the buyer and the merchant get (the escrow's own quote), the order's grade terms
and the Inspection prefilled for the signed-in inspector, which, signed as is, settles the order."""

from __future__ import annotations

import hashlib

from eth_account import Account

from returntrace.escrow import Facts, Grade
from returntrace.policies import EU
from returntrace.vocab import BizStep, Disposition
from scripts.builder import rma_ref
from tests.api.people import as_, sign_in
from tests.api.test_return_options import _serial_of
from tests.support import GTIN, MARKET_EU, Status

SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT


def _preview(gateway, token, serial, facts, **params):
    return gateway.client.get(
        "/v1/inspection-preview",
        params={"gtin": GTIN, "serial": serial, "facts": facts, **params},
        headers=as_(token) if token else {},
    )


def test_the_preview_quotes_the_derived_grade_and_its_message_settles_the_order(gateway, shop, escrow):
    order_id = shop.returned(market=MARKET_EU)
    gateway.services.indexer.index_once()
    serial = _serial_of(gateway, shop.unit(order_id))
    inspector = gateway.actors["inspector"]
    token = sign_in(gateway.client, inspector)

    for facts, grade in ((SEALED, Grade.A), (Facts.PACKAGING_INTACT, Grade.B), (Facts.USED, Grade.C)):
        r = _preview(gateway, token, serial, facts, diminishedValue=7)
        assert r.status_code == 200, r.text
        p = r.json()
        quote = escrow.quote(order_id, grade, facts, 7)  # the escrow's own view, at the same facts and value
        assert (p["orderId"], p["grade"], p["status"]) == (order_id, grade.name, "return_requested")
        assert p["buyer"] == {"refund": str(quote["refund"]), "points": str(quote["points"]), "voucher": "0"}
        assert p["merchant"]["amount"] == str(quote["merchantAmount"])
        assert p["facts"] == {"bits": facts, "names": Facts.names(facts)}
        assert p["then"] == ("settles" if grade == Grade.A else "buyer_may_contest")
    terms = p["terms"]["byGrade"]
    assert [(t["grade"], t["refundBps"], t["pointsBps"]) for t in terms] == [
        (g, t.refund_bps, t.points_bps) for g, t in zip("ABC", EU.terms, strict=True)
    ]

    # The grade-A scan and attestation, their evidence filled in, signed as is by the inspector: the
    # unit's history shows the inspection scan and the order settles at A.
    preview = _preview(gateway, token, serial, SEALED).json()
    message, scan = preview["message"], preview["scan"]
    assert message["kind"] == "Inspection" and message["post"] == "/v1/inspections" and message["fill"] == ["evidence"]
    assert scan["kind"] == "EventBatch" and scan["fill"] == ["events[0].evidence"]
    evidence = "0x" + hashlib.sha256(b"inspection record").hexdigest()
    typed = message["typedData"]
    assert typed["message"]["inspector"] == inspector.address and typed["message"]["grade"] == Grade.A
    typed["message"]["evidence"] = evidence
    event = scan["typedData"]["message"]["events"][0]
    assert event["bizStep"] == BizStep.INSPECTING and event["disposition"] == Disposition.CONFORMANT
    assert event["bizTransaction"] == "0x" + rma_ref(escrow, order_id).hex() and event["location"] == inspector.gln
    event["evidence"] = evidence
    for signed in (scan, message):
        sig = Account.sign_typed_data(inspector.key, full_message=signed["typedData"]).signature.hex()
        r = gateway.post(signed["post"], {**signed["typedData"]["message"], "signature": "0x" + sig.removeprefix("0x")})
        assert r.status_code == 202, r.text
    gateway.relay()
    o = escrow.order(order_id)
    assert (o["status"], o["grade"], o["facts"]) == (Status.SETTLED, Grade.A, SEALED)
    gateway.services.indexer.index_once()
    view = gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()
    inspected = [e for e in view["timeline"] if e["step"] == "inspecting"]
    assert len(inspected) == 1 and inspected[0]["signer"] == inspector.address

    # Settled: no inspection is taken any more.
    r = _preview(gateway, token, serial, SEALED)
    assert (r.status_code, r.json()["error"]) == (409, "order_not_returned")


def test_bad_input_and_strangers_get_a_reason_and_no_preview(gateway, shop):
    returned = shop.returned(market=MARKET_EU)
    active = shop.buy(market=MARKET_EU)
    gateway.services.indexer.index_once()
    serial, active_serial = (_serial_of(gateway, shop.unit(o)) for o in (returned, active))
    inspector = sign_in(gateway.client, gateway.actors["inspector"])
    carrier = sign_in(gateway.client, gateway.actors["carrier"])  # neither inspector nor a party
    buyer = sign_in(gateway.client, gateway.actors["buyer"])

    cases = [
        (None, serial, SEALED, {}, 401, "not_signed_in"),
        (carrier, serial, SEALED, {}, 403, "not_a_party"),
        (inspector, serial, 16, {}, 400, "invalid_facts"),
        (inspector, serial, SEALED, {"diminishedValue": 2**96}, 400, "invalid_diminished_value"),
        (inspector, "NEVER-MADE", SEALED, {}, 404, "unknown_unit"),
        (inspector, active_serial, SEALED, {}, 409, "order_not_returned"),
    ]
    for token, s, facts, extra, status, code in cases:
        r = _preview(gateway, token, s, facts, **extra)
        assert (r.status_code, r.json()["error"]) == (status, code), (code, r.text)
    bad_gtin = gateway.client.get(
        "/v1/inspection-preview", params={"gtin": "12345", "serial": serial, "facts": 3}, headers=as_(inspector)
    )
    assert (bad_gtin.status_code, bad_gtin.json()["error"]) == (400, "invalid_unit")

    # The order's buyer sees the preview, with no message to sign: it is not the inspector.
    r = _preview(gateway, buyer, serial, SEALED)
    assert r.status_code == 200 and r.json()["grade"] == "A" and r.json()["message"] is None
