"""ReissueDesk: defect claims with evidence, auto-approval under the policy's limit, the decision
above it, the replacement linked and reserved, completed by its delivery scan or refunded on timeout."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712, gs1
from returntrace.policies import EU
from returntrace.vocab import BizStep, Disposition
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, GTIN_INT, MARKET_EU, Status, ZERO32, err, next_block_at, opens_after

EVIDENCE = b"\x0d" * 32
TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
LIMIT = EU.reissue_auto_approve_limit
HIGH = 2 * 10**18


def delivered(shop, price=DEFAULT_PRICE, **buy):
    order = shop.buy(price=price, **buy)
    shop.deliver(order)
    return order


def claim(desk, actors, order, who="buyer", evidence=EVIDENCE):
    return desk.claimDefect(order, evidence, {"from": actors[who].account})


def approved(shop, desk, actors, price=DEFAULT_PRICE):
    order = delivered(shop, price=price)
    claim(desk, actors, order)
    if price > LIMIT:
        desk.decideDefectClaim(order, True, {"from": actors["brand"].account})
    return order


def replacement_unit(commission, serial="REPL0001"):
    return commission(serial), serial


def link(desk, actors, order, serial="REPL0001", who="brand"):
    return desk.linkReplacement(order, GTIN_INT, serial, {"from": actors[who].account})


def deliver_replacement(record, desk, order, unit, **fields):
    fields.setdefault("bizTransaction", bytes(desk.reissueRef(order)))
    return record(unit, BizStep.DELIVERING, "carrier", Disposition.DELIVERED, **fields)


def list_serial(escrow, actors, serial):
    return escrow.list(GTIN_INT, serial, MARKET_EU, ZERO_ADDRESS, DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE, {"from": actors["brand"].account})


def serial_of_last(shop):
    return f"ORD{shop._serial:05d}"


# ---------------------------------------------------------------- claiming a defect


def test_claim_requires_evidence(shop, desk, actors):
    order = delivered(shop)
    with brownie.reverts(err("ReissueDeskEvidenceRequired")):
        claim(desk, actors, order, evidence=ZERO32)


def test_claim_at_limit_is_auto_approved(shop, escrow, desk, actors):
    order = delivered(shop, price=LIMIT)
    tx = claim(desk, actors, order)
    ev = tx.events["DefectClaimed"]
    assert (ev["orderId"], ev["buyer"], ev["autoApproved"]) == (order, actors["buyer"].address, True)
    assert ev["evidence"] == "0x" + EVIDENCE.hex()
    o = escrow.order(order)
    assert (o["status"], o["reason"]) == (Status.REISSUE_APPROVED, 1)  # ReturnReason.Defective
    r = desk.reissue(order)
    assert (r["approvedAt"], r["replacement"]) == (tx.timestamp, "0x" + "00" * 32)
    shop.assert_solvent()


def test_claim_under_limit_is_auto_approved(shop, escrow, desk, actors):
    order = delivered(shop, price=LIMIT // 2)
    assert claim(desk, actors, order).events["DefectClaimed"]["autoApproved"] is True
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


def test_claim_above_limit_waits_for_decision(shop, escrow, desk, actors):
    order = delivered(shop, price=LIMIT + 1)
    tx = claim(desk, actors, order)
    assert tx.events["DefectClaimed"]["autoApproved"] is False
    assert escrow.order(order)["status"] == Status.DEFECT_CLAIMED
    assert desk.reissue(order)["approvedAt"] == 0


def test_claim_by_non_buyer_reverts(shop, desk, actors):
    order = delivered(shop)
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["stranger"].address)):
        claim(desk, actors, order, who="stranger")


def test_claim_undelivered_reverts(shop, desk, actors):
    order = shop.buy()
    with brownie.reverts(err("ReturnEscrowNotDelivered", order)):
        claim(desk, actors, order)


def test_claim_after_return_window_reverts(shop, escrow, desk, actors):
    order = delivered(shop)
    closes = escrow.deliveredAt(order) + max(EU.withdrawal_window, EU.return_window)
    next_block_at(closes + 1)
    with brownie.reverts(err("ReturnEscrowReturnWindowClosed", order, closes)):
        claim(desk, actors, order)


def test_claim_on_last_second_of_window(shop, escrow, desk, actors):
    order = delivered(shop)
    closes = escrow.deliveredAt(order) + max(EU.withdrawal_window, EU.return_window)
    next_block_at(closes)
    claim(desk, actors, order)
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


def test_claim_on_returned_order_reverts(shop, desk, actors):
    order = delivered(shop)
    shop.request_return(order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        claim(desk, actors, order)


def test_claim_twice_reverts(shop, desk, actors):
    order = delivered(shop)
    claim(desk, actors, order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.REISSUE_APPROVED)):
        claim(desk, actors, order)


def test_claim_unknown_order_reverts(desk, actors):
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 99)):
        claim(desk, actors, 99)


def test_approved_order_cannot_request_return(shop, desk, actors):
    order = delivered(shop)
    claim(desk, actors, order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.REISSUE_APPROVED)):
        shop.request_return(order)


# ---------------------------------------------------------------- deciding a claim


def test_merchant_approves(shop, escrow, desk, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    tx = desk.decideDefectClaim(order, True, {"from": actors["brand"].account})
    ev = tx.events["DefectClaimDecided"]
    assert (ev["orderId"], ev["decider"], ev["approved"]) == (order, actors["brand"].address, True)
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED
    assert desk.reissue(order)["approvedAt"] == tx.timestamp


def test_merchant_may_not_reject(shop, escrow, desk, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    with brownie.reverts(err("ReissueDeskNotDecider", order, actors["brand"].address)):
        desk.decideDefectClaim(order, False, {"from": actors["brand"].account})
    assert escrow.order(order)["status"] == Status.DEFECT_CLAIMED


@pytest.mark.parametrize("approve", [True, False])
@pytest.mark.parametrize("who", ["stranger", "buyer", "inspector"])
def test_others_may_not_decide(shop, desk, actors, who, approve):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    with brownie.reverts(err("ReissueDeskNotDecider", order, actors[who].address)):
        desk.decideDefectClaim(order, approve, {"from": actors[who].account})


def test_arbiter_rejects_back_to_active(shop, escrow, desk, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    tx = desk.decideDefectClaim(order, False, {"from": actors["arbiter"].account})
    assert tx.events["DefectClaimDecided"]["approved"] is False
    assert escrow.order(order)["status"] == Status.ACTIVE
    assert desk.reissue(order)["approvedAt"] == 0
    shop.request_return(order)  # the buyer may still return the unit
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    shop.assert_solvent()


def test_arbiter_approves(shop, escrow, desk, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    desk.decideDefectClaim(order, True, {"from": actors["arbiter"].account})
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


def test_decide_auto_approved_claim_reverts(shop, desk, actors):
    order = delivered(shop)
    claim(desk, actors, order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.REISSUE_APPROVED)):
        desk.decideDefectClaim(order, True, {"from": actors["brand"].account})


def test_decide_unclaimed_order_reverts(shop, desk, actors):
    order = delivered(shop, price=HIGH)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.ACTIVE)):
        desk.decideDefectClaim(order, False, {"from": actors["arbiter"].account})


def test_undecided_claim_is_approved_at_the_buyers_request_after_the_sla(shop, escrow, desk, actors):
    # Silence must not lock the buyer's money: nobody decided within the policy's inspection SLA.
    order = delivered(shop, price=HIGH)
    tx = claim(desk, actors, order)
    decide_by = tx.timestamp + EU.inspection_sla
    approve = lambda: desk.approveUndecidedClaim(order, {"from": actors["buyer"].account})  # noqa: E731
    tx = opens_after(decide_by, err("ReissueDeskDecisionPending", order, decide_by), approve)
    assert tx.events["DefectClaimApprovedByTimeout"]["decideBy"] == decide_by
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED
    assert desk.reissue(order)["approvedAt"] == tx.timestamp
    with brownie.reverts(err("ReissueDeskNoOpenClaim", order)):
        approve()


def test_only_the_buyer_asks_for_the_timeout_approval(shop, desk, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    chain.sleep(EU.inspection_sla + 1)
    for who in ("brand", "stranger", "arbiter"):
        with brownie.reverts(err("ReissueDeskNotBuyer", order, actors[who].address)):
            desk.approveUndecidedClaim(order, {"from": actors[who].account})


@pytest.mark.parametrize("decider, approve", [("brand", True), ("arbiter", False)])
def test_a_decided_claim_has_no_timeout_approval(shop, desk, actors, decider, approve):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    desk.decideDefectClaim(order, approve, {"from": actors[decider].account})
    chain.sleep(EU.inspection_sla + 1)
    with brownie.reverts(err("ReissueDeskNoOpenClaim", order)):
        desk.approveUndecidedClaim(order, {"from": actors["buyer"].account})


def test_auto_approved_claim_has_no_timeout_approval(shop, desk, actors):
    order = delivered(shop)
    claim(desk, actors, order)
    with brownie.reverts(err("ReissueDeskNoOpenClaim", order)):
        desk.approveUndecidedClaim(order, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- linking the replacement


def test_link_replacement_both_ways(shop, escrow, desk, actors, commission):
    order = approved(shop, desk, actors)
    original = shop.unit(order)
    unit, serial = replacement_unit(commission)
    tx = link(desk, actors, order, serial)
    ev = tx.events["ReplacementLinked"]
    assert (ev["orderId"], ev["originalUnitId"], ev["replacementUnitId"]) == (order, "0x" + original.hex(), "0x" + unit.hex())
    assert escrow.lastOrderOf(unit) == order
    assert desk.reissue(order)["replacement"] == "0x" + unit.hex()
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


def test_link_by_non_merchant_reverts(shop, desk, actors, commission):
    order = approved(shop, desk, actors)
    replacement_unit(commission)
    for who in ("stranger", "buyer", "arbiter"):
        with brownie.reverts(err("ReissueDeskNotMerchant", order, actors[who].address)):
            link(desk, actors, order, who=who)


def test_link_product_of_another_brand_reverts(shop, desk, actors, registry, commission):
    other_gtin = int(gs1.with_check_digit("0950600113459"))
    registry.registerProduct(other_gtin, 0, 1 << MARKET_EU, {"from": actors["brand2"].account})
    order = approved(shop, desk, actors)
    with brownie.reverts(err("ReissueDeskNotMerchant", order, actors["brand"].address)):
        desk.linkReplacement(order, other_gtin, "X1", {"from": actors["brand"].account})


def test_link_product_not_sold_in_the_orders_market_reverts(shop, desk, actors, registry, commission):
    us_only = int(gs1.with_check_digit("0950600013466"))
    registry.registerProduct(us_only, 0, 1 << 1, {"from": actors["brand"].account})
    commission("US-ONLY-1", gtin=us_only)
    order = approved(shop, desk, actors)  # an EU order
    with brownie.reverts(err("ReissueDeskMarketNotServed", us_only, MARKET_EU)):
        desk.linkReplacement(order, us_only, "US-ONLY-1", {"from": actors["brand"].account})


def test_link_unapproved_reverts(shop, desk, actors, commission):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    replacement_unit(commission)
    with brownie.reverts(err("ReissueDeskNotApproved", order)):
        link(desk, actors, order)


def test_link_without_claim_reverts(shop, desk, actors, commission):
    order = delivered(shop)
    replacement_unit(commission)
    with brownie.reverts(err("ReissueDeskNotApproved", order)):
        link(desk, actors, order)


def test_link_unknown_unit_reverts(shop, desk, actors):
    order = approved(shop, desk, actors)
    with brownie.reverts(err("ReissueDeskUnavailableUnit", gs1.unit_id(GTIN_INT, "NEVER"))):
        link(desk, actors, order, "NEVER")


def test_link_listed_replacement_reverts(shop, desk, actors):
    order = approved(shop, desk, actors)
    unit = shop.list_unit()
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, 0)):
        link(desk, actors, order, serial_of_last(shop))


def test_link_sold_replacement_reverts(shop, desk, actors):
    order = approved(shop, desk, actors)
    other = shop.buy(buyer="buyer2")
    serial = serial_of_last(shop)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", shop.unit(other), other)):
        link(desk, actors, order, serial)


def test_link_original_unit_reverts(shop, desk, actors):
    order = approved(shop, desk, actors)
    serial = serial_of_last(shop)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", shop.unit(order), order)):
        link(desk, actors, order, serial)


def test_link_restocked_unit_works(shop, escrow, desk, actors):
    from returntrace.policies import Facts, Grade

    returned = shop.returned()
    serial = serial_of_last(shop)
    shop.inspect(returned, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)  # restocked
    order = approved(shop, desk, actors)
    link(desk, actors, order, serial)
    assert escrow.lastOrderOf(shop.unit(returned)) == order


def test_link_twice_reverts(shop, desk, actors, commission):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    replacement_unit(commission, "REPL0002")
    with brownie.reverts(err("ReissueDeskReplacementLinked", order, unit)):
        link(desk, actors, order, "REPL0002")


def test_same_replacement_for_two_orders_reverts(shop, desk, actors, commission):
    first = approved(shop, desk, actors)
    second = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, first, serial)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, first)):
        link(desk, actors, second, serial)


def test_reserved_replacement_cannot_be_listed(shop, escrow, desk, actors, commission):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        list_serial(escrow, actors, serial)


# ---------------------------------------------------------------- completing the reissue


def test_complete_without_replacement_reverts(shop, desk, actors):
    order = approved(shop, desk, actors)
    with brownie.reverts(err("ReissueDeskNoReplacement", order)):
        desk.completeReissue(order, {"from": actors["stranger"].account})


def test_complete_undelivered_reverts(shop, desk, actors, commission):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    with brownie.reverts(err("ReissueDeskNotDelivered", order)):
        desk.completeReissue(order, {"from": actors["stranger"].account})


def test_complete_with_scan_under_other_reference_reverts(shop, escrow, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    deliver_replacement(record, desk, order, unit, bizTransaction=bytes(escrow.orderRef(order)))
    with brownie.reverts(err("ReissueDeskNotDelivered", order)):
        desk.completeReissue(order, {"from": actors["stranger"].account})


def test_complete_with_original_unit_scan_reverts(shop, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    deliver_replacement(record, desk, order, shop.unit(order))  # the original, not the replacement
    with brownie.reverts(err("ReissueDeskNotDelivered", order)):
        desk.completeReissue(order, {"from": actors["stranger"].account})


def test_complete_pays_merchant(shop, escrow, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    scanned = chain.time() - 60  # the carrier's signed scan time, a minute before it is relayed
    deliver_replacement(record, desk, order, unit, eventTime=scanned)
    tx = desk.completeReissue(order, {"from": actors["stranger"].account})
    ev = tx.events["ReissueCompleted"]
    assert (ev["orderId"], ev["replacementUnitId"], ev["deliveredAt"]) == (order, "0x" + unit.hex(), scanned)
    assert tx.events["OrderCompleted"]["merchantAmount"] == TOTAL
    assert escrow.order(order)["status"] == Status.REISSUED
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


def test_complete_after_merchant_approval(shop, escrow, desk, actors, commission, record):
    order = approved(shop, desk, actors, price=HIGH)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    deliver_replacement(record, desk, order, unit)
    desk.completeReissue(order, {"from": actors["stranger"].account})
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == HIGH + DEFAULT_DELIVERY_FEE
    shop.assert_solvent()


def test_completed_units_cannot_be_relisted(shop, escrow, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    original_serial = serial_of_last(shop)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    deliver_replacement(record, desk, order, unit)
    desk.completeReissue(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", shop.unit(order), order)):
        list_serial(escrow, actors, original_serial)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        list_serial(escrow, actors, serial)


def test_complete_twice_reverts(shop, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    deliver_replacement(record, desk, order, unit)
    desk.completeReissue(order, {"from": actors["stranger"].account})
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.REISSUED)):
        desk.completeReissue(order, {"from": actors["stranger"].account})


def test_reissue_ref(shop, escrow, desk):
    from eth_abi import encode
    from eth_utils import keccak

    order = shop.buy()
    assert bytes(desk.reissueRef(order)) == keccak(encode(["bytes32", "string"], [bytes(escrow.orderRef(order)), "REISSUE"]))


# ---------------------------------------------------------------- unfulfilled reissue


def test_unfulfilled_refunds_in_full_after_timeout(shop, escrow, desk, actors, commission):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    due = desk.reissue(order)["approvedAt"] + EU.delivery_timeout
    buyer = actors["buyer"].account
    tx = opens_after(due, err("ReissueDeskDeliveryPending", order, due), lambda: desk.claimUnfulfilledReissue(order, {"from": buyer}))
    assert tx.events["ReissueUnfulfilled"]["orderId"] == order
    ev = tx.events["OrderSettled"]
    assert (ev["grade"], ev["refund"], ev["merchantAmount"], ev["points"]) == (0, TOTAL, 0, 0)
    o = escrow.order(order)
    assert (o["status"], o["grade"]) == (Status.SETTLED, 0)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


def test_unfulfilled_releases_replacement_not_original(shop, escrow, desk, actors, commission):
    order = approved(shop, desk, actors)
    original_serial = serial_of_last(shop)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    chain.sleep(EU.delivery_timeout + 5)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    assert escrow.lastOrderOf(unit) == 0
    list_serial(escrow, actors, serial)  # back in stock
    assert escrow.listing(unit)["merchant"] == actors["brand"].address
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", shop.unit(order), order)):
        list_serial(escrow, actors, original_serial)  # the buyer kept the defective unit


def test_unfulfilled_without_replacement_linked(shop, escrow, desk, actors):
    order = approved(shop, desk, actors, price=HIGH)
    chain.sleep(EU.delivery_timeout + 5)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == HIGH + DEFAULT_DELIVERY_FEE
    shop.assert_solvent()


def test_unfulfilled_buyer_only(shop, desk, actors):
    order = approved(shop, desk, actors)
    chain.sleep(EU.delivery_timeout + 5)
    for who in ("stranger", "brand"):
        with brownie.reverts(err("ReissueDeskNotBuyer", order, actors[who].address)):
            desk.claimUnfulfilledReissue(order, {"from": actors[who].account})


def test_unfulfilled_not_approved_reverts(shop, desk, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    chain.sleep(EU.delivery_timeout + 5)
    with brownie.reverts(err("ReissueDeskNotApproved", order)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})


def test_unfulfilled_after_delivery_reverts(shop, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    scanned = chain.time() - 60  # the carrier's signed scan time, a minute before it is relayed
    deliver_replacement(record, desk, order, unit, eventTime=scanned)
    chain.sleep(EU.delivery_timeout + 5)
    with brownie.reverts(err("ReissueDeskAlreadyDelivered", order, scanned)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})


def test_unfulfilled_twice_reverts(shop, desk, actors):
    order = approved(shop, desk, actors)
    chain.sleep(EU.delivery_timeout + 5)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})


def test_complete_after_unfulfilled_reverts(shop, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    chain.sleep(EU.delivery_timeout + 5)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    deliver_replacement(record, desk, order, unit)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        desk.completeReissue(order, {"from": actors["stranger"].account})


# ---------------------------------------------------------------- signed claims


@pytest.fixture
def sign_claim(sign, desk, desk_domain, actors):
    def _sign(order, signer="buyer", evidence=EVIDENCE, **fields):
        return sign(desk_domain, "DefectClaim", actors[signer], contract=desk, orderId=order, evidence=evidence, **fields)

    return _sign


def submit_claim(desk, relayer, message, sig):
    return desk.claimDefectBySig(eip712.call_args("DefectClaim", message, sig)[:-1], sig, {"from": relayer})


def test_defect_claim_type_hash_and_domain(desk, desk_domain):
    assert bytes(desk.getDefectClaimTypeHash()) == eip712.type_hash("DefectClaim")
    assert bytes(desk.getDomainSeparator()) == desk_domain.separator


def test_relayed_claim_by_signature(shop, escrow, desk, sign_claim, relayer, actors):
    order = delivered(shop)
    message, sig = sign_claim(order)
    tx = submit_claim(desk, relayer, message, sig)
    ev = tx.events["DefectClaimed"]
    assert (ev["orderId"], ev["buyer"], ev["autoApproved"]) == (order, actors["buyer"].address, True)
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED
    assert desk.getNonce(actors["buyer"].address) == 1


def test_replayed_claim_reverts(shop, desk, sign_claim, relayer, actors):
    order = delivered(shop)
    message, sig = sign_claim(order)
    submit_claim(desk, relayer, message, sig)
    with brownie.reverts(err("SignatureInvalidNonce", actors["buyer"].address, 1, 0)):
        submit_claim(desk, relayer, message, sig)


def test_expired_claim_reverts(shop, desk, sign_claim, relayer):
    order = delivered(shop)
    deadline = chain.time() + 60
    message, sig = sign_claim(order, deadline=deadline)
    next_block_at(deadline + 1)
    with brownie.reverts(err("SignatureExpired", deadline)):
        submit_claim(desk, relayer, message, sig)


def test_claim_signed_by_someone_else_reverts(shop, desk, desk_domain, relayer, actors):
    order = delivered(shop)
    message = {"buyer": actors["buyer"].address, "orderId": order, "evidence": EVIDENCE, "nonce": 0, "deadline": chain.time() + 3600}
    sig = desk_domain.sign(actors["buyer2"].key, "DefectClaim", message)
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        submit_claim(desk, relayer, message, sig)


def test_claim_signed_for_the_escrow_reverts(shop, desk, escrow_domain, relayer, actors):
    order = delivered(shop)
    message = {"buyer": actors["buyer"].address, "orderId": order, "evidence": EVIDENCE, "nonce": 0, "deadline": chain.time() + 3600}
    sig = escrow_domain.sign(actors["buyer"].key, "DefectClaim", message)
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        submit_claim(desk, relayer, message, sig)


def test_tampered_claim_evidence_reverts(shop, desk, sign_claim, relayer, actors):
    order = delivered(shop)
    message, sig = sign_claim(order)
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        submit_claim(desk, relayer, {**message, "evidence": b"\x01" * 32}, sig)


def test_claim_signed_by_non_buyer_reverts(shop, desk, sign_claim, relayer, actors):
    order = delivered(shop)
    message, sig = sign_claim(order, signer="buyer2")
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["buyer2"].address)):
        submit_claim(desk, relayer, message, sig)


def test_signed_claim_requires_evidence(shop, desk, sign_claim, relayer):
    order = delivered(shop)
    message, sig = sign_claim(order, evidence=ZERO32)
    with brownie.reverts(err("ReissueDeskEvidenceRequired")):
        submit_claim(desk, relayer, message, sig)


# ---------------------------------------------------------------- escrow hooks


@pytest.mark.parametrize("who", ["stranger", "buyer", "brand", "arbiter"])
def test_escrow_hooks_refuse_all_but_the_desk(shop, escrow, actors, who):
    order = delivered(shop)
    account = actors[who].account
    unit = shop.unit(order)
    calls = [
        lambda: escrow.openDefectClaim(order, actors["buyer"].address, {"from": account}),
        lambda: escrow.decideDefectClaim(order, True, {"from": account}),
        lambda: escrow.reserveReplacement(order, unit, {"from": account}),
        lambda: escrow.closeReissue(order, True, unit, {"from": account}),
    ]
    for call in calls:
        with brownie.reverts(err("ReturnEscrowNotReissueDesk", account.address)):
            call()


def test_escrow_hooks_refuse_admin(shop, escrow, admin, actors):
    order = delivered(shop)
    with brownie.reverts(err("ReturnEscrowNotReissueDesk", admin.address)):
        escrow.openDefectClaim(order, actors["buyer"].address, {"from": admin})
    with brownie.reverts(err("ReturnEscrowNotReissueDesk", admin.address)):
        escrow.closeReissue(order, False, ZERO32, {"from": admin})


def test_desk_is_wired(escrow, desk):
    assert escrow.reissueDesk() == desk.address
    assert desk.escrow() == escrow.address


@pytest.mark.parametrize("who", ["stranger", "brand", "arbiter"])
def test_only_admin_sets_reissue_desk(escrow, actors, who):
    with brownie.reverts(err("AccessControlUnauthorizedAccount", actors[who].address, bytes(32))):
        escrow.setReissueDesk(actors[who].address, {"from": actors[who].account})


def test_reissue_desk_is_set_once(escrow, desk, admin, actors):
    # Open reissues live in the desk: a new desk could not finish them, so there is never one.
    with brownie.reverts(err("ReturnEscrowReissueDeskSet", desk.address)):
        escrow.setReissueDesk(actors["stranger"].address, {"from": admin})
    assert escrow.reissueDesk() == desk.address


def test_reissue_desk_is_never_zero(deployment, admin):
    from brownie import ReturnEscrow

    fresh = ReturnEscrow.deploy(admin, deployment.registry, deployment.points, {"from": admin})
    with brownie.reverts(err("ReturnEscrowZeroAddress")):
        fresh.setReissueDesk(ZERO_ADDRESS, {"from": admin})
    tx = fresh.setReissueDesk(deployment.desk.address, {"from": admin})
    assert tx.events["ReissueDeskSet"]["desk"] == deployment.desk.address