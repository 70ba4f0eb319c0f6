"""Intake: every check a signed message passes before it is accepted, and what the relayer does with it."""

from brownie import chain

from returntrace import eip712
from returntrace.vocab import BizStep, Disposition


def test_eip712_schema_matches_the_contracts(gateway, deployment):
    r = gateway.client.get("/v1/eip712")
    assert r.status_code == 200
    data = r.json()
    batch = data["messages"]["EventBatch"]
    assert batch["domain"] == deployment.domain_of("registry").as_json()
    assert batch["typeString"] == eip712.type_string("EventBatch")
    assert data["messages"]["Inspection"]["domain"] == deployment.domain_of("escrow").as_json()
    assert data["vocabulary"]["bizStep"]["8"]["uri"] == "urn:returntrace:bizstep:delivering"


def test_commission_and_events_are_accepted_relayed_and_confirmed(gateway, registry):
    units = gateway.commission("API-1", "API-2")
    body = gateway.events_body(
        "carrier", [gateway.event(u, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT) for u in units]
    )
    r = gateway.post("/v1/events", body)
    assert r.status_code == 202, r.text
    message_id = r.json()["id"]
    assert r.headers["Location"] == f"/v1/messages/{message_id}"
    assert gateway.client.get(f"/v1/messages/{message_id}").json()["status"] == "accepted"

    gateway.relay()
    state = gateway.client.get(f"/v1/messages/{message_id}").json()
    assert state["status"] == "confirmed"
    assert state["block"] > 0 and state["txHash"].startswith("0x")
    assert [registry.eventCount(u) for u in units] == [2, 2]


def test_same_message_twice_gets_the_same_id_and_is_queued_once(gateway, registry):
    (unit,) = gateway.commission("API-DUP")
    body = gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")])
    first, second = gateway.post("/v1/events", body), gateway.post("/v1/events", body)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]
    gateway.relay()
    third = gateway.post("/v1/events", body)
    assert third.status_code == 200 and third.json()["status"] == "confirmed"
    assert registry.eventCount(unit) == 2


def _rejected(gateway, path, body, status, code):
    before = gateway.services.outbox.depth()
    r = gateway.post(path, body)
    assert r.status_code == status, r.text
    assert r.json()["error"] == code, r.json()
    assert gateway.services.outbox.depth() == before  # nothing written


def test_forged_signature_is_401(gateway):
    (unit,) = gateway.commission("API-F")
    body = gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")])
    body["signature"] = gateway.events_body("stranger", [gateway.event(unit, BizStep.DEPARTING, "carrier")])[
        "signature"
    ]
    _rejected(gateway, "/v1/events", body, 401, "invalid_signature")


def test_tampered_event_is_401(gateway):
    (unit,) = gateway.commission("API-T")
    body = gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")])
    body["events"][0]["disposition"] = int(Disposition.DAMAGED)
    _rejected(gateway, "/v1/events", body, 401, "invalid_signature")


def test_valid_signature_from_the_wrong_role_is_403(gateway):
    (unit,) = gateway.commission("API-R")
    _rejected(
        gateway,
        "/v1/events",
        gateway.events_body("carrier", [gateway.event(unit, BizStep.INSPECTING, "carrier")]),
        403,
        "role_not_allowed",
    )
    _rejected(gateway, "/v1/commissions", gateway.commission_body(["X1"], actor="warehouse"), 403, "role_not_allowed")
    _rejected(gateway, "/v1/commissions", gateway.commission_body(["X1"], actor="brand2"), 403, "not_brand_of_product")


def test_used_nonce_is_409(gateway):
    (unit,) = gateway.commission("API-N")
    gateway.relay()
    body = gateway.events_body("brand", [gateway.event(unit, BizStep.SHIPPING, "brand")], nonce=0)
    _rejected(gateway, "/v1/events", body, 409, "nonce_used")


def test_nonce_that_skips_ahead_is_409(gateway):
    (unit,) = gateway.commission("API-S")
    body = gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")], nonce=7)
    r = gateway.post("/v1/events", body)
    assert r.status_code == 409 and r.json()["error"] == "nonce_conflict" and r.json()["expected"] == 0


def test_expired_deadline_is_410(gateway):
    (unit,) = gateway.commission("API-E")
    body = gateway.events_body(
        "carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")], deadline=chain.time() + 5
    )
    _rejected(gateway, "/v1/events", body, 410, "expired")


def test_unknown_unit_is_404(gateway):
    body = gateway.events_body("carrier", [gateway.event(b"\x42" * 32, BizStep.DEPARTING, "carrier")])
    _rejected(gateway, "/v1/events", body, 404, "unknown_unit")


def test_events_on_a_unit_whose_commissioning_is_still_queued_are_accepted(gateway, registry):
    (unit,) = gateway.commission("API-Q")
    r = gateway.post("/v1/events", gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")]))
    assert r.status_code == 202
    gateway.relay()
    assert registry.eventCount(unit) == 2


def test_invalid_gtin_serial_and_gln_are_400(gateway):
    bad_gtin = gateway.commission_body(["S1"])
    bad_gtin["units"][0]["gtin"] = "09506000134353"
    _rejected(gateway, "/v1/commissions", bad_gtin, 400, "invalid_gtin")
    bad_serial = gateway.commission_body(["has space"])
    _rejected(gateway, "/v1/commissions", bad_serial, 400, "invalid_serial")
    (unit,) = gateway.commission("API-G")
    bad_gln = gateway.events_body(
        "carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier", location=9506000000012)]
    )
    _rejected(gateway, "/v1/events", bad_gln, 400, "invalid_gln")


def test_unit_already_commissioned_is_409(gateway):
    gateway.commission("API-U")
    _rejected(gateway, "/v1/commissions", gateway.commission_body(["API-U"]), 409, "unit_exists")


def test_malformed_bodies_are_422_and_wrong_content_type_415(gateway):
    assert (
        gateway.client.post(
            "/v1/events", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert gateway.client.post("/v1/events", json={"signer": "0x1"}).json()["error"] == "invalid_request"
    r = gateway.client.post(
        "/v1/events", content=b"signer=1", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"


def test_message_refused_by_the_chain_fails_with_the_contract_error(gateway, registry):
    (unit,) = gateway.commission("API-C")
    gateway.relay()
    r = gateway.post("/v1/events", gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")]))
    assert r.status_code == 202
    registry.increaseNonce(5, {"from": gateway.actors["carrier"].account})  # the carrier cancels it
    gateway.relay()
    state = gateway.client.get(f"/v1/messages/{r.json()['id']}").json()
    assert state["status"] == "failed"
    assert state["error"].startswith("SignatureInvalidNonce(")


def test_messages_of_many_signers_share_one_transaction(gateway, registry):
    units = gateway.commission("M-1", "M-2")
    gateway.relay()
    ids = []
    for actor, step in (("carrier", BizStep.DEPARTING), ("warehouse", BizStep.STORING), ("brand", BizStep.SHIPPING)):
        ids.append(
            gateway.post(
                "/v1/events", gateway.events_body(actor, [gateway.event(u, step, actor) for u in units])
            ).json()["id"]
        )
    gateway.relay()
    states = [gateway.client.get(f"/v1/messages/{i}").json() for i in ids]
    assert {s["status"] for s in states} == {"confirmed"}
    assert len({s["txHash"] for s in states}) == 1
    assert [registry.eventCount(u) for u in units] == [4, 4]


def test_next_nonce_counts_queued_messages(gateway):
    (unit,) = gateway.commission("API-NN")
    carrier = gateway.actors["carrier"].address
    assert gateway.client.get(f"/v1/signers/{carrier}/nonce", params={"kind": "EventBatch"}).json()["nextNonce"] == 0
    gateway.post("/v1/events", gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")]))
    assert gateway.client.get(f"/v1/signers/{carrier}/nonce", params={"kind": "EventBatch"}).json()["nextNonce"] == 1
    assert gateway.client.get("/v1/signers/nonsense/nonce", params={"kind": "EventBatch"}).status_code == 400
