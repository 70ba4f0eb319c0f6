"""Exchange-first remedies, defect claims relayed to the ReissueDesk, refund on receipt at an
accredited return center, and what the unit view and the consumer page show of them."""

from __future__ import annotations

from brownie import chain

from api.http.routes.resolver import unit_view
from api.write import refund_on_receipt
from returntrace import eip712
from returntrace.escrow import Facts, Grade
from returntrace.policies import EU
from returntrace.vocab import BizStep, Disposition
from scripts.builder import rma_ref
from tests.api.people import buyer_page
from tests.api.test_resolver import text_of
from tests.support import DEFAULT_DELIVERY_FEE, GTIN, GTIN_INT, MARKET_CN, MARKET_EU, MARKET_US, Remedy, Status

EVIDENCE = "0x" + "ab" * 32


def _return_body(gateway, order_id, remedy, reason=0, actor="buyer"):
    return gateway.body("ReturnRequest", actor, orderId=order_id, reason=reason, remedy=remedy)


def _claim_body(gateway, order_id, evidence=EVIDENCE, actor="buyer", **fields):
    return gateway.body("DefectClaim", actor, orderId=order_id, evidence=evidence, **fields)


def _rejected(r, status, code):
    assert r.status_code == status, r.text
    assert r.json()["error"] == code, r.text


def _serial_of(gateway, unit: bytes) -> str:
    from tests.api.indexing import rows

    return rows(gateway, "SELECT serial FROM idx_units WHERE unit_id = ?", "0x" + unit.hex())[0][0]


def test_return_request_remedy_is_checked_as_the_contract_would(gateway, shop, escrow):
    cn = shop.buy(market=MARKET_CN)
    shop.deliver(cn)
    _rejected(gateway.post("/v1/return-requests", _return_body(gateway, cn, 2)), 400, "invalid_remedy")
    _rejected(gateway.post("/v1/return-requests", _return_body(gateway, 99999, 0)), 404, "unknown_order")
    _rejected(gateway.post("/v1/defect-claims", _claim_body(gateway, 99999)), 404, "unknown_order")
    _rejected(
        gateway.post("/v1/return-requests", _return_body(gateway, cn, Remedy.EXCHANGE)), 403, "exchange_not_offered"
    )
    undelivered = shop.buy(market=MARKET_EU)
    _rejected(
        gateway.post("/v1/return-requests", _return_body(gateway, undelivered, Remedy.EXCHANGE)), 409, "not_delivered"
    )

    eu = shop.buy(market=MARKET_EU)
    shop.deliver(eu)
    _rejected(
        gateway.post("/v1/return-requests", _return_body(gateway, eu, Remedy.EXCHANGE, actor="buyer2")),
        403,
        "not_buyer",
    )
    r = gateway.post("/v1/return-requests", _return_body(gateway, eu, Remedy.EXCHANGE))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert gateway.client.get(f"/v1/messages/{r.json()['id']}").json()["status"] == "confirmed"
    o = escrow.order(eu)
    assert o["status"] == Status.RETURN_REQUESTED and o["remedy"] == Remedy.EXCHANGE


def test_eip712_lists_the_defect_claim_under_the_desk_domain(gateway, deployment):
    schema = gateway.client.get("/v1/eip712").json()
    claim = schema["messages"]["DefectClaim"]
    assert claim["post"] == "/v1/defect-claims" and claim["domain"]["verifyingContract"] == deployment.desk.address
    assert claim["typeString"] == eip712.type_string("DefectClaim")
    assert bytes(deployment.desk.getDefectClaimTypeHash()) == eip712.type_hash("DefectClaim")
    assert "remedy" in [f["name"] for f in schema["messages"]["ReturnRequest"]["types"]["ReturnRequest"]]
    assert schema["vocabulary"]["remedy"]["0"].startswith("refund")


def test_defect_claim_is_checked_relayed_and_a_replacement_linked_both_ways(
    gateway, shop, deployment, escrow, commission, actors
):
    order_id = shop.buy(market=MARKET_EU)
    _rejected(gateway.post("/v1/defect-claims", _claim_body(gateway, order_id)), 409, "not_delivered")
    shop.deliver(order_id)
    _rejected(
        gateway.post("/v1/defect-claims", _claim_body(gateway, order_id, evidence="0x" + "00" * 32)),
        400,
        "evidence_required",
    )
    _rejected(gateway.post("/v1/defect-claims", _claim_body(gateway, order_id, actor="buyer2")), 403, "not_buyer")
    forged = _claim_body(gateway, order_id)
    forged["evidence"] = "0x" + "cd" * 32
    _rejected(gateway.post("/v1/defect-claims", forged), 401, "invalid_signature")

    r = gateway.post("/v1/defect-claims", _claim_body(gateway, order_id))
    assert r.status_code == 202, r.text
    assert gateway.nonce("DefectClaim", "buyer") == 1
    gateway.relay()
    assert gateway.client.get(f"/v1/messages/{r.json()['id']}").json()["status"] == "confirmed"
    assert escrow.order(order_id)["status"] == Status.REISSUE_APPROVED  # 1 coin: at the auto-approval limit

    replacement = commission("REPL-0001")
    deployment.desk.linkReplacement(order_id, GTIN_INT, "REPL-0001", {"from": actors["brand"].account})
    gateway.services.indexer.index_once()

    original_serial = _serial_of(gateway, shop.unit(order_id))
    view = unit_view(gateway.services, GTIN, original_serial)
    rs = view.return_status
    assert rs.status == "reissue_approved"
    assert rs.defect_claim["autoApproved"] and rs.defect_claim["evidence"] == EVIDENCE
    assert rs.reissue["verified"] and rs.reissue["replacement"]["serial"] == "REPL-0001"
    assert rs.reissue["replacement"]["link"].endswith(f"/01/{GTIN}/21/REPL-0001")

    other = unit_view(gateway.services, GTIN, "REPL-0001")
    assert other.unit_id == "0x" + replacement.hex()
    assert other.replacement_for["verified"] and other.replacement_for["orderId"] == order_id
    assert other.replacement_for["original"]["serial"] == original_serial

    page = gateway.client.get(f"/01/{GTIN}/21/{original_serial}", headers={"accept": "text/html"}).text
    assert "Replaced by" in page and f"/01/{GTIN}/21/REPL-0001" in page and "Defect claim" in page
    page = gateway.client.get(f"/01/{GTIN}/21/REPL-0001", headers={"accept": "text/html"}).text
    assert "Replacement for" in page and f"/01/{GTIN}/21/{original_serial}" in page
    data = gateway.client.get(f"/01/{GTIN}/21/REPL-0001", headers={"accept": "application/json"}).json()
    assert data["replacement_for"]["verified"]


def _receive_through_gateway(gateway, shop, order_id):
    event = gateway.event(
        shop.unit(order_id),
        BizStep.RECEIVING,
        "warehouse",
        Disposition.RETURNED,
        bizTransaction=rma_ref(shop.d.escrow, order_id),
    )
    r = gateway.post("/v1/events", gateway.events_body("warehouse", [event]))
    assert r.status_code == 202, r.text
    gateway.relay()


def test_refund_is_released_on_receipt_at_an_accredited_return_center_only(
    gateway, shop, deployment, escrow, admin, actors
):
    warehouse = actors["warehouse"]
    deployment.registry.setReturnCenter(warehouse.gln, warehouse.gln, 1 << MARKET_EU, {"from": admin})
    eu, us = shop.buy(market=MARKET_EU), shop.buy(market=MARKET_US)
    for order_id in (eu, us):
        shop.deliver(order_id)
        shop.request_return(order_id, remedy=Remedy.REFUND)
    r = gateway.post(f"/v1/orders/{eu}/release-refund-on-receipt", {})
    _rejected(r, 409, "not_returned")

    _receive_through_gateway(gateway, shop, eu)
    _receive_through_gateway(gateway, shop, us)

    assert escrow.order(eu)["status"] == Status.REFUNDED
    released = gateway.client.get(f"/v1/messages/{refund_on_receipt.message_id(gateway.services.chain, eu)}").json()
    assert released["kind"] == "ReleaseRefundOnReceipt" and released["status"] == "confirmed"
    assert escrow.order(us)["status"] == Status.RETURN_REQUESTED  # the US market has no accredited return center here
    assert (
        gateway.client.get(f"/v1/messages/{refund_on_receipt.message_id(gateway.services.chain, us)}").status_code
        == 404
    )

    again = gateway.post(f"/v1/orders/{eu}/release-refund-on-receipt", {})  # idempotent: the same message
    assert again.status_code == 200 and again.json()["id"] == released["id"]
    _rejected(gateway.post(f"/v1/orders/{us}/release-refund-on-receipt", {}), 409, "center_not_accredited")
    _rejected(gateway.post("/v1/orders/99999/release-refund-on-receipt", {}), 404, "unknown_order")

    gateway.services.indexer.index_once()
    view = unit_view(gateway.services, GTIN, _serial_of(gateway, shop.unit(eu)))
    rs = view.return_status
    assert rs.status == "refunded" and rs.remedy == "refund"
    assert rs.refund_on_receipt["location"] == f"{warehouse.gln:013d}" and int(rs.refund_on_receipt["refund"]) > 0
    page = buyer_page(gateway, f"/01/{GTIN}/21/{_serial_of(gateway, shop.unit(eu))}").text
    assert "Refund released" in page and f"{warehouse.gln:013d}" in page

    # The inspection that follows only decides the unit's fate, and ends the order.
    shop.inspect(eu, Facts.PACKAGING_INTACT, int(Grade.B))
    gateway.services.indexer.index_once()
    rs = unit_view(gateway.services, GTIN, _serial_of(gateway, shop.unit(eu))).return_status
    assert rs.status == "settled" and escrow.order(eu)["status"] == Status.SETTLED
    assert rs.settlement.disposition == "donate" and rs.refund_on_receipt is not None


def test_a_chain_refusal_of_the_release_is_recorded_not_retried(gateway, shop, deployment, admin, actors):
    warehouse = actors["warehouse"]
    deployment.registry.setReturnCenter(warehouse.gln, warehouse.gln, 1 << MARKET_EU, {"from": admin})
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    shop.request_return(order_id)
    shop.receive(order_id)
    r = gateway.post(f"/v1/orders/{order_id}/release-refund-on-receipt", {})
    assert r.status_code == 202, r.text
    deployment.escrow.releaseRefundOnReceipt(order_id, {"from": admin})  # someone else was faster
    gateway.relay()
    failed = gateway.client.get(f"/v1/messages/{r.json()['id']}").json()
    assert failed["status"] == "failed" and "ReturnEscrowInvalidStatus" in failed["error"]
    assert gateway.post(f"/v1/orders/{order_id}/release-refund-on-receipt", {}).json()["status"] == "failed"


def test_page_offers_the_exchange_first_and_shows_a_pending_second_inspection(gateway, shop, escrow):
    eu = shop.buy(market=MARKET_EU)
    shop.deliver(eu)
    cn = shop.buy(market=MARKET_CN)
    shop.deliver(cn)
    big = shop.buy(market=MARKET_EU, price=6 * 10**18)  # above the EU preset's dual-inspection threshold
    shop.deliver(big)
    shop.request_return(big)
    shop.receive(big)
    shop.inspect(big, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    assert escrow.order(big)["status"] == Status.SECOND_INSPECTION
    gateway.services.indexer.index_once()

    serial = _serial_of(gateway, shop.unit(eu))
    data = gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()
    options = data["return_status"]["return_options"]
    assert options["exchangeOffered"] and options["exchangeBonusBps"] == 500
    assert int(options["voucher"]) == int(options["refund"]) * 105 // 100
    page = buyer_page(gateway, f"/01/{GTIN}/21/{serial}").text
    assert "Exchange for a voucher worth" in page and "(+5 % bonus)" in page
    assert page.index("Exchange for a voucher worth") < page.index("Refund 1.0")
    assert "<script" not in page

    page = buyer_page(gateway, f"/01/{GTIN}/21/{_serial_of(gateway, shop.unit(cn))}").text
    assert "Exchange for a voucher" not in page and "Refund 0.97 ETH" in page  # CN: cash only, return shipping deducted

    serial = _serial_of(gateway, shop.unit(big))
    data = gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()
    assert data["return_status"]["status"] == "second_inspection"
    assert data["return_status"]["second_inspection"]["pending"]
    page = gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "text/html"}).text
    assert "Second inspection by an independent inspector pending" in page


def test_inspector_of_the_merchants_organisation_is_refused_before_queueing(gateway, shop, registry, admin, actors):
    order = shop.returned(market=MARKET_EU)
    # A stranger accredited as an inspector, but inside the brand's organisation.
    registry.setActor(actors["stranger"].address, 8, actors["brand"].gln, {"from": admin})
    body = gateway.inspection_body(
        order, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A, "stranger", evidence=EVIDENCE
    )
    _rejected(gateway.post("/v1/inspections", body), 403, "inspector_not_independent")
    independent = gateway.inspection_body(order, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A, evidence=EVIDENCE)
    assert gateway.post("/v1/inspections", independent).status_code == 202


def test_a_rejected_claim_is_not_claimed_again_but_the_return_stays_open(gateway, shop, deployment, escrow, actors):
    """The desk takes one defect claim per order (a claim re-filed after each rejection would hold the
    merchant's money for ever): the gateway refuses a second one before queueing it, as the chain would,
    and still takes the buyer's return request."""
    order_id = shop.buy(market=MARKET_EU, price=2 * 10**18)  # above the auto-approval limit
    shop.deliver(order_id)
    deployment.desk.claimDefect(order_id, EVIDENCE, {"from": actors["buyer"].account})
    deployment.desk.decideDefectClaim(order_id, False, {"from": actors["arbiter"].account})
    assert escrow.order(order_id)["status"] == Status.ACTIVE
    _rejected(gateway.post("/v1/defect-claims", _claim_body(gateway, order_id)), 409, "claim_rejected")
    r = gateway.post("/v1/return-requests", _return_body(gateway, order_id, Remedy.REFUND))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert escrow.order(order_id)["status"] == Status.RETURN_REQUESTED


def test_a_claim_nobody_decided_becomes_a_return_at_the_brands_expense(gateway, shop, deployment, escrow, actors):
    """Silence never approves a defect claim: once the SLA passes undecided, anyone turns it into a
    return of the unit (reason defective), which the brand pays for whatever the inspection finds."""
    order_id = shop.buy(market=MARKET_EU, price=2 * 10**18)  # above the auto-approval limit
    shop.deliver(order_id)
    deployment.desk.claimDefect(order_id, EVIDENCE, {"from": actors["buyer"].account})
    gateway.services.indexer.index_once()
    serial = _serial_of(gateway, shop.unit(order_id))
    assert unit_view(gateway.services, GTIN, serial).return_status.status == "defect_claimed"
    chain.sleep(EU.inspection_sla + 60)
    chain.mine()
    deployment.desk.returnUndecidedClaim(order_id, {"from": actors["stranger"].account})
    gateway.services.indexer.index_once()
    rs = unit_view(gateway.services, GTIN, serial).return_status
    assert rs.status == "return_requested" and escrow.order(order_id)["status"] == Status.RETURN_REQUESTED
    assert rs.reason == "defective" and rs.reissue is None
    assert rs.defect_claim["returnedUndecided"] and rs.defect_claim["decided"] and not rs.defect_claim["approved"]
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "text/html"}).text)
    assert (
        "Defect claim Reported with photo evidence — the brand did not decide in time: returned at the brand's expense"
        in page
    )

    # Received and found defective: price and delivery back, no return shipping deducted.
    shop.receive(order_id)
    shop.inspect(order_id, Facts.DEFECTIVE | Facts.PACKAGING_INTACT, Grade.A)
    gateway.services.indexer.index_once()
    parts = unit_view(gateway.services, GTIN, serial).return_status.settlement.parts
    assert (parts["kind"], parts["verified"], parts["deductions"]) == ("graded", True, [])
    assert int(parts["refund"]) == 2 * 10**18 + DEFAULT_DELIVERY_FEE and parts["merchantAmount"] == "0"
