"""Inspections through the gateway (v2): an inspector independent of both parties, and the diminished
value of a used unit, attested, shown and deducted as the law allows."""

from __future__ import annotations

from dataclasses import replace

import brownie

from returntrace.escrow import Facts, Grade
from returntrace.policies import EU
from returntrace.vocab import Role
from tests.api.people import buyer_page
from tests.api.test_resolver import text_of
from tests.api.test_return_options import _serial_of
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    MARKET_EU,
    PLAIN_GTIN_INT,
    Status,
    err,
    next_block_at,
)

SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT


def _rejected(gateway, body, status, code):
    before = gateway.services.outbox.depth()
    r = gateway.post("/v1/inspections", body)
    assert (r.status_code, r.json()["error"]) == (status, code), r.text
    assert gateway.services.outbox.depth() == before  # nothing stored


def test_the_buyer_and_inspectors_of_the_buyers_organisation_may_not_inspect(gateway, shop, registry, admin, actors):
    buyer, buyer2, house = actors["buyer"], actors["buyer2"], actors["inspector2"]
    registry.setActor(
        buyer.address, Role.INSPECTOR, buyer.gln, {"from": admin}
    )  # the buyer is an accredited inspector too
    registry.setActor(buyer2.address, 0, house.gln, {"from": admin})  # the other buyer works for inspector2's house
    own = shop.returned(market=MARKET_EU)
    colleague = shop.buy(market=MARKET_EU, buyer="buyer2")
    shop.deliver(colleague)
    shop.request_return(colleague, buyer="buyer2")
    shop.receive(colleague)

    _rejected(gateway, gateway.inspection_body(own, SEALED, Grade.A, "buyer"), 403, "inspector_not_independent")
    _rejected(
        gateway, gateway.inspection_body(colleague, SEALED, Grade.A, "inspector2"), 403, "inspector_not_independent"
    )
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", house.address, house.gln)):  # as the escrow would
        shop.inspect(colleague, SEALED, Grade.A, "inspector2")

    # An inspector of neither party's organisation grades both.
    for order_id, inspector in ((own, "inspector2"), (colleague, "inspector")):
        r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, SEALED, Grade.A, inspector))
        assert r.status_code == 202, r.text
    gateway.relay()
    assert [shop.d.escrow.order(o)["status"] for o in (own, colleague)] == [Status.SETTLED, Status.SETTLED]


def test_the_diminished_value_of_a_used_unit_is_shown_and_deducted_within_the_cap(
    gateway, shop, escrow, actors, plain_gtin
):
    """EU, within the 14 days, a product without a hygiene seal: use keeps the right of withdrawal; the
    price comes back less the attested diminished value, at most the policy's 30 % (Art. 14(2)),
    delivery too (Art. 13(1)); the grade C terms' points come on top, the buyer bears the return shipping."""
    assert plain_gtin == PLAIN_GTIN_INT and EU.max_diminished_bps == 3_000
    cap = DEFAULT_PRICE * EU.max_diminished_bps // 10_000
    for attested in (DEFAULT_PRICE // 10, DEFAULT_PRICE * 4 // 10):  # under the cap, over it
        order_id = shop.returned(market=MARKET_EU, gtin=plain_gtin)
        r = gateway.post(
            "/v1/inspections", gateway.inspection_body(order_id, Facts.USED, Grade.C, diminishedValue=attested)
        )
        assert r.status_code == 202, r.text
        gateway.relay()
        assert escrow.order(order_id)["diminishedValue"] == attested
        escrow.acceptInspection(order_id, {"from": actors["buyer"].account})
        gateway.services.indexer.index_once()

        serial = _serial_of(gateway, shop.unit(order_id))
        rs = gateway.client.get(
            f"/01/{PLAIN_GTIN_INT:014d}/21/{serial}", headers={"accept": "application/json"}
        ).json()["return_status"]
        assert rs["inspection"]["diminishedValue"] == str(attested) and rs["inspection"]["derivedGrade"] == "C"
        deducted = min(attested, cap)
        parts = rs["settlement"]["parts"]
        assert (parts["kind"], parts["verified"], parts["statutory"], parts["basis"], parts["grade"]) == (
            "graded",
            True,
            True,
            "statutory",
            "C",
        )
        assert parts["deductions"] == [
            {"reason": "diminished_value", "amount": str(deducted)},
            {"reason": "return_shipping", "amount": str(DEFAULT_RETURN_FEE)},
        ]
        assert int(parts["refund"]) == DEFAULT_PRICE - deducted + DEFAULT_DELIVERY_FEE - DEFAULT_RETURN_FEE
        assert int(parts["points"]) == DEFAULT_PRICE * EU.terms[2].points_bps // 10_000
        page = text_of(buyer_page(gateway, f"/01/{PLAIN_GTIN_INT:014d}/21/{serial}").text)
        assert f"− {deducted / 10**18:.2f} ETH: diminished value of a used unit (the law allows this deduction)" in page


def test_a_second_opinion_from_the_first_inspectors_house_is_refused_before_queueing(
    gateway, shop, registry, admin, actors
):
    """Above the currency's dual-inspection threshold the second opinion must come from another house:
    a colleague of the first inspector is refused at the gateway, as the escrow refuses it."""
    first, colleague = actors["inspector"], actors["buyer2"]
    registry.setActor(
        colleague.address, Role.INSPECTOR, first.gln, {"from": admin}
    )  # same house as the first inspector
    order_id = shop.returned(market=MARKET_EU, price=6 * 10**18)  # above NATIVE.dual_inspection_above (5 coins)
    r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, SEALED, Grade.A, "inspector"))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert shop.d.escrow.order(order_id)["status"] == Status.SECOND_INSPECTION

    _rejected(gateway, gateway.inspection_body(order_id, SEALED, Grade.A, "buyer2"), 403, "inspector_not_independent")
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", colleague.address, first.gln)):
        shop.inspect(order_id, SEALED, Grade.A, "buyer2")
    r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, SEALED, Grade.A, "inspector2"))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert shop.d.escrow.order(order_id)["status"] == Status.SETTLED


def test_after_a_lapsed_two_house_dispute_the_new_first_house_is_the_one_kept_out(
    gateway, shop, escrow, policies, admin
):
    """Attack on the gateway's memory: two houses disagree on a high-value return, the arbiter stays
    silent and the dispute lapses with nothing attested, so the return is inspected afresh within its
    SLA (a policy whose arbiter decides in a day, inside the five-day SLA). The new first opinion comes
    from the house that gave the second one before. The gateway keeps out that house's colleague, not
    the first round's house, as the escrow does: the fair second opinion is relayed, the unfair one
    never queued."""
    policies.setPolicy(MARKET_EU, replace(EU, arbiter_timeout=DAY).as_tuple(), {"from": admin})
    order_id = shop.returned(market=MARKET_EU, price=6 * 10**18)  # above NATIVE.dual_inspection_above
    for actor, facts, grade in (("inspector", SEALED, Grade.A), ("inspector2", Facts.USED, Grade.C)):  # they disagree
        r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, facts, grade, actor))
        assert r.status_code == 202, r.text
        gateway.relay()
    o = escrow.order(order_id)
    assert (o["status"], o["grade"]) == (Status.DISPUTED, Grade.NONE)
    next_block_at(o["disputedAt"] + DAY + 1)  # the arbiter's day is over
    escrow.settleLapsedDispute(order_id, {"from": admin})
    assert escrow.order(order_id)["status"] == Status.RETURN_REQUESTED  # inspected afresh, within the SLA

    r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, SEALED, Grade.A, "inspector2"))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert escrow.order(order_id)["status"] == Status.SECOND_INSPECTION
    _rejected(
        gateway, gateway.inspection_body(order_id, SEALED, Grade.A, "inspector2"), 403, "inspector_not_independent"
    )
    r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, SEALED, Grade.A, "inspector"))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert escrow.order(order_id)["status"] == Status.SETTLED


def test_an_inspection_during_a_dispute_opened_before_any_is_taken_and_relayed(gateway, shop, escrow, actors):
    """A buyer's dispute opened before the inspection keeps no inspector out at the gateway either: the
    attestation goes to the chain for the arbiter (the order stays disputed); one whose grade contradicts
    its facts, or a second one, is refused before queueing, as the escrow refuses it."""
    order_id = shop.returned()
    escrow.openDispute(order_id, {"from": actors["buyer"].account})
    used = Facts.USED
    _rejected(gateway, gateway.inspection_body(order_id, used, Grade.A, "inspector"), 409, "grade_mismatch")
    r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, used, Grade.C, "inspector"))
    assert r.status_code == 202, r.text
    gateway.relay()
    o = escrow.order(order_id)
    assert (o["status"], o["facts"], o["grade"]) == (Status.DISPUTED, used, Grade.C)
    _rejected(gateway, gateway.inspection_body(order_id, used, Grade.C, "inspector2"), 409, "order_not_returned")


def test_after_a_failed_inspection_the_inspectors_later_ones_fail_and_are_signed_again_from_the_chain_nonce(
    gateway, shop, escrow
):
    """Nonces are sequential: an inspection the chain refuses (its order settled by another house's
    inspection before the relay) leaves its nonce unused, so the same inspector's next queued one
    fails too, naming the nonce the chain expects. Signed again from the nonce the gateway now gives,
    it is relayed and settles its order; nothing is left stuck."""
    first, later = shop.returned(market=MARKET_EU), shop.returned(market=MARKET_EU)
    posted = [gateway.post("/v1/inspections", gateway.inspection_body(o, SEALED, Grade.A)) for o in (first, later)]
    assert [r.status_code for r in posted] == [202, 202], [r.text for r in posted]
    nonce = posted[0].json()["nonce"]
    assert posted[1].json()["nonce"] == nonce + 1
    shop.inspect(first, SEALED, Grade.A, inspector="inspector2")  # settled before the relay
    assert escrow.order(first)["status"] == Status.SETTLED
    gateway.relay()

    states = [gateway.client.get(f"/v1/messages/{r.json()['id']}").json() for r in posted]
    assert [s["status"] for s in states] == ["failed", "failed"]
    assert states[0]["error"].startswith("ReturnEscrowInvalidStatus(")
    assert states[1]["error"] == (
        f"SignatureInvalidNonce({gateway.actors['inspector'].address}, {nonce}, {nonce + 1})"
    ), states[1]["error"]
    assert gateway.nonce("Inspection", "inspector") == nonce  # the chain's: sign the later one again

    again = gateway.post("/v1/inspections", gateway.inspection_body(later, SEALED, Grade.A))
    assert (again.status_code, again.json()["nonce"]) == (202, nonce), again.text
    gateway.relay()
    assert gateway.client.get(f"/v1/messages/{again.json()['id']}").json()["status"] == "confirmed"
    assert escrow.order(later)["status"] == Status.SETTLED
