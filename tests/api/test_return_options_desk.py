"""The options /v1/assistant/assess lists for a unit with an order: each kind the contract accepts
now, in the order the reason asks for, with the escrow's own amounts (`quote` per grade) at the
stated block, the window's deadline, and a prefilled message that the buyer signs as is and the
gateway relays to the chain."""

from __future__ import annotations

import pytest
from brownie import chain, web3
from eth_account import Account

from returntrace.escrow import Facts, Grade, Remedy, ReturnReason
from returntrace.policies import CN, EU, US
from tests.api.test_assistant_api import Says, assess, refused, sold, use_assistant
from tests.support import MARKET_CN, MARKET_EU, MARKET_US, Status

GRADE_FACTS = {
    "A": Facts.SEAL_INTACT | Facts.PACKAGING_INTACT,
    "B": Facts.PACKAGING_INTACT,
    "C": Facts.USED,
}


def options_for(gateway, actors, unit, reason, buyer="buyer", person=False, **said):
    use_assistant(gateway, Says(reason, **said))
    r = assess(gateway, "what the buyer wrote", unit=unit, buyer=actors[buyer].address, person=person)
    assert r.status_code == 200, r.text
    return r.json()


def kinds(data) -> list[str]:
    return [o["kind"] for o in data["options"]]


def option(data, kind: str) -> dict:
    return next(o for o in data["options"] if o["kind"] == kind)


def quoted(escrow, order_id: int, block: int) -> dict[str, dict]:
    """The escrow's quote per grade at `block`, as the options must state it."""
    return {g: escrow.quote(order_id, int(Grade[g]), f, 0, block_identifier=block) for g, f in GRADE_FACTS.items()}


def signed_body(actors, message: dict, buyer: str = "buyer") -> dict:
    """What a wallet makes of the prefilled typed data: the message and its eth_signTypedData_v4 signature."""
    typed = message["typedData"]
    signature = Account.sign_typed_data(actors[buyer].key, full_message=typed).signature
    return {**typed["message"], "signature": "0x" + bytes(signature).hex()}


@pytest.fixture
def return_center(deployment, actors, admin):
    warehouse = actors["warehouse"]
    deployment.registry.setReturnCenter(warehouse.gln, warehouse.gln, 1 << MARKET_EU, {"from": admin})
    return warehouse.gln


def test_size_fit_in_the_eu_puts_the_exchange_first_with_the_quoted_amounts(
    gateway, shop, escrow, actors, return_center
):
    order_id, unit = sold(shop, MARKET_EU)
    data = options_for(gateway, actors, unit, "size_fit")
    assert kinds(data) == ["exchange", "withdrawal", "refund_on_receipt", "person"]
    block = data["block"]["number"]
    assert data["block"]["hash"] == "0x" + bytes(web3.eth.get_block(block)["hash"]).hex()
    q = quoted(escrow, order_id, block)
    exchange = option(data, "exchange")
    assert exchange["gets"]["bonusBps"] == EU.exchange_bonus_bps
    assert [(g["grade"], int(g["voucher"])) for g in exchange["gets"]["byGrade"]] == [
        (g, EU.exchange_voucher(q[g]["refund"])) for g in "ABC"
    ]
    withdrawal = option(data, "withdrawal")
    assert withdrawal["statutory"] is True and withdrawal["withdrawalForm"] is True
    assert [(g["grade"], int(g["refund"]), int(g["points"])) for g in withdrawal["gets"]["byGrade"]] == [
        (g, q[g]["refund"], q[g]["points"]) for g in "ABC"
    ]
    assert q["A"]["refund"] > q["B"]["refund"]  # the grades differ: the table is not one number repeated
    on_receipt = option(data, "refund_on_receipt")
    assert on_receipt["returnCenters"] == [f"{return_center:013d}"]
    assert int(on_receipt["gets"]["refund"]) == q["A"]["refund"]
    assert exchange["deadline"] == escrow.returnWindowCloses(order_id, block_identifier=block)
    assert withdrawal["deadline"] <= exchange["deadline"]  # the law's 14 days end before the policy's 30
    # The coarse reason shown before signing: size_fit is OTHER on-chain; the withdrawal needs none.
    assert exchange["message"]["reason"] == {"code": int(ReturnReason.OTHER), "name": "other"}
    assert exchange["message"]["remedy"] == "exchange"
    assert withdrawal["message"]["reason"] == {"code": int(ReturnReason.WITHDRAWAL), "name": "withdrawal"}


def test_the_prefilled_exchange_is_signed_as_is_and_reaches_the_chain(gateway, shop, escrow, actors):
    order_id, unit = sold(shop, MARKET_EU)
    data = options_for(gateway, actors, unit, "size_fit")
    message = option(data, "exchange")["message"]
    assert message["post"] == "/v1/return-requests"
    typed = message["typedData"]
    schema = gateway.client.get("/v1/eip712").json()["messages"]["ReturnRequest"]
    assert typed["types"] == schema["types"] and typed["domain"] == schema["domain"]
    assert typed["message"]["buyer"] == actors["buyer"].address and typed["message"]["orderId"] == order_id
    r = gateway.post(message["post"], signed_body(actors, message))
    assert r.status_code == 202, r.text
    gateway.relay()
    o = escrow.order(order_id)
    assert o["status"] == Status.RETURN_REQUESTED and o["remedy"] == Remedy.EXCHANGE
    assert o["reason"] == ReturnReason.OTHER


def test_changed_mind_in_the_eu_offers_the_statutory_right_first(gateway, shop, actors, return_center):
    _, unit = sold(shop, MARKET_EU)
    data = options_for(gateway, actors, unit, "changed_mind")
    assert kinds(data) == ["withdrawal", "refund_on_receipt", "exchange", "person"]
    first = data["options"][0]
    assert first["statutory"] is True and "legal right" in first["title"] and "no reason" in first["title"]


def test_changed_mind_in_the_us_is_a_policy_return_with_no_statutory_right(gateway, shop, escrow, actors):
    order_id, unit = sold(shop, MARKET_US)
    data = options_for(gateway, actors, unit, "changed_mind")
    assert kinds(data) == ["policy_return", "exchange", "person"]  # no US return center accredited here
    ret = option(data, "policy_return")
    assert ret["statutory"] is False
    assert ret["message"]["reason"]["name"] == "no_longer_needed"
    q = quoted(escrow, order_id, data["block"]["number"])
    assert [int(g["refund"]) for g in ret["gets"]["byGrade"]] == [q[g]["refund"] for g in "ABC"]
    assert option(data, "exchange")["gets"]["bonusBps"] == US.exchange_bonus_bps


def test_after_a_rejected_claim_no_claim_is_offered_but_the_return_is(gateway, shop, deployment, actors):
    """The desk takes one defect claim per order: once the arbiter rejected it, the options offer no reissue or
    replacement (a claim the gateway and the chain would refuse, after the buyer uploaded a photo for it),
    and still the return."""
    order_id, unit = sold(shop, MARKET_EU, price=2 * 10**18)  # above the auto-approval limit
    deployment.desk.claimDefect(order_id, "0x" + "ab" * 32, {"from": actors["buyer"].account})
    deployment.desk.decideDefectClaim(order_id, False, {"from": actors["arbiter"].account})
    data = options_for(gateway, actors, unit, "defective")
    assert "reissue" not in kinds(data) and "replacement" not in kinds(data)
    assert "withdrawal" in kinds(data)


def test_china_offers_no_exchange_where_its_policy_has_none(gateway, shop, actors):
    assert not CN.exchange_offered
    _, unit = sold(shop, MARKET_CN)
    data = options_for(gateway, actors, unit, "size_fit")
    assert "exchange" not in kinds(data)
    assert kinds(data)[0] == "withdrawal"  # China's seven days without a reason


def test_defective_puts_the_reissue_first_and_its_claim_reaches_the_desk(gateway, shop, deployment, actors):
    order_id, unit = sold(shop, MARKET_EU)
    data = options_for(gateway, actors, unit, "defective")
    assert kinds(data) == ["reissue", "withdrawal", "exchange", "person"]
    claim = data["options"][0]["message"]
    assert claim["kind"] == "DefectClaim" and claim["fill"] == ["evidence"] and claim["post"] == "/v1/defect-claims"
    claim["typedData"]["message"]["evidence"] = "0x" + "ab" * 32  # the uploaded photo's digest
    r = gateway.post(claim["post"], signed_body(actors, claim))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert deployment.escrow.order(order_id)["status"] in (Status.DEFECT_CLAIMED, Status.REISSUE_APPROVED)
    # A defect's return request carries the coarse reason that makes the merchant pay the shipping.
    assert option(data, "exchange")["message"]["reason"]["name"] == "defective"


@pytest.mark.parametrize("reason", ["wrong_item", "damaged_in_transit"])
def test_a_wrong_or_damaged_item_puts_the_replacement_first(gateway, shop, actors, reason):
    _, unit = sold(shop, MARKET_EU)
    data = options_for(gateway, actors, unit, reason)
    assert kinds(data)[0] == "replacement" and "reissue" not in kinds(data)
    assert option(data, "withdrawal")["message"]["reason"]["name"] == "withdrawal"
    assert option(data, "exchange")["message"]["reason"]["name"] == reason


def test_baby_rejected_puts_the_exchange_first(gateway, shop, actors):
    _, unit = sold(shop, MARKET_EU)
    assert kinds(options_for(gateway, actors, unit, "baby_rejected"))[0] == "exchange"


def test_a_safety_concern_goes_to_a_person_only_and_urgently(gateway, shop, actors):
    _, unit = sold(shop, MARKET_EU)
    data = options_for(gateway, actors, unit, "safety_concern", handoff=True, why=("safety_concern",), urgent=True)
    assert kinds(data) == ["person"] and data["optionsWhy"] == "safety_concern"
    assert data["handoff"] == {"needed": True, "why": ["safety_concern"], "urgent": True}


def test_an_unsure_assessment_orders_by_default_with_the_person_first(gateway, shop, actors):
    _, unit = sold(shop, MARKET_EU)
    data = options_for(gateway, actors, unit, "defective", confidence=0.3, handoff=True, why=("low_confidence",))
    # A reason the model is unsure of neither orders the options nor opens the reissue.
    assert kinds(data) == ["person", "exchange", "withdrawal"]


def test_only_what_the_contract_accepts_now(gateway, shop, escrow, actors):
    _, undelivered = sold(shop, MARKET_EU, deliver=False)
    refused(assess(gateway, unit=undelivered, buyer=actors["buyer"].address), 409, "not_delivered")
    data = options_for(gateway, actors, undelivered, "size_fit", person=True)
    assert kinds(data) == ["person"] and data["optionsWhy"] == "not_delivered"

    order_id, unit = sold(shop, MARKET_EU)
    block = chain.height
    closes = escrow.returnWindowCloses(order_id)
    chain.sleep(closes - chain[block].timestamp + 1)
    chain.mine()
    cases_before = gateway.services.cases.store.of_buyer(actors["buyer"].address)
    r = assess(gateway, unit=unit, buyer=actors["buyer"].address)
    refused(r, 409, "return_window_closed")
    assert gateway.services.cases.store.of_buyer(actors["buyer"].address) == cases_before  # nothing stored
    data = options_for(gateway, actors, unit, "size_fit", person=True)
    assert kinds(data) == ["person"] and data["optionsWhy"] == "return_window_closed" and data["case"] is not None

    requested, unit = sold(shop, MARKET_EU)
    shop.request_return(requested)
    data = options_for(gateway, actors, unit, "size_fit")
    assert kinds(data) == ["dispute", "person"] and data["optionsWhy"] == "order_not_active"
    dispute = option(data, "dispute")["message"]
    assert dispute == {
        "kind": "transaction",
        "to": escrow.address,
        "function": "openDispute(uint256)",
        "args": [requested],
    }
    escrow.openDispute(requested, {"from": actors["buyer"].account})  # the contract takes it, as listed
    assert escrow.order(requested)["status"] == Status.DISPUTED


def test_an_inspected_order_may_be_contested_until_its_dispute_window_closes(gateway, shop, escrow, actors):
    order_id, unit = sold(shop, MARKET_EU)
    shop.returned(order_id)
    shop.inspect(order_id, Facts.PACKAGING_INTACT, Grade.B)
    assert escrow.order(order_id)["status"] == Status.INSPECTED
    data = options_for(gateway, actors, unit, "size_fit")
    assert kinds(data) == ["dispute", "person"]
    dispute = option(data, "dispute")
    deadline = escrow.order(order_id)["disputeDeadline"]
    assert dispute["deadline"] == deadline and dispute["message"]["function"] == "contest(uint256)"
    chain.sleep(deadline - chain[-1].timestamp + 1)
    chain.mine()
    assert kinds(options_for(gateway, actors, unit, "size_fit")) == ["person"]
