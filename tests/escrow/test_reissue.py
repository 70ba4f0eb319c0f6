"""ReissueDesk: defect claims with evidence, auto-approval under the currency's limit, the decision
above it (the merchant's side approves, the arbiter approves or rejects; silence turns the claim
into a return, never into an approval), the replacement linked and reserved, completed by its
delivery scan, or, when it never comes, the defective unit back at the merchant's expense (refunded
at once where the policy waives its return)."""

import dataclasses

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712, gs1
from returntrace.escrow import Facts, Grade, ReturnReason, SettlementPath
from returntrace.policies import EU, EU_LAW, NATIVE
from returntrace.vocab import BizStep, Disposition, Role
from scripts import deploy
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_EU,
    ZERO32,
    Status,
    err,
    next_block_at,
    opens_after,
    plain,
)

EVIDENCE = b"\x0d" * 32
P, D, F = DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE
TOTAL = P + D
LIMIT = NATIVE.reissue_auto_approve_limit  # the native coin's limit in every market: 1 coin
HIGH = 2 * 10**18  # issue 9 item 8: a 2-coin order above the 1-coin limit
DEFECTIVE = ReturnReason.DEFECTIVE
SEALED_UNUSED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT
# IReturnPolicies.Settlement, in field order (a later version may append parts: only these are compared).
SETTLEMENT = (
    "statutory",
    "refund",
    "merchantAmount",
    "points",
    "voucher",
    "bonus",
    "diminished",
    "shippingDeducted",
    "disposition",
    "priceRefunded",
    "deliveryRefunded",
)
PATH_GRADED, PATH_REISSUE_FAILED = SettlementPath.GRADED, SettlementPath.REISSUE_FAILED


def settlement(tx) -> dict:
    """The OrderSettled event's settlement as {part: value}."""
    return dict(zip(SETTLEMENT, plain(tx.events["OrderSettled"]["settlement"]), strict=True))


def delivered(shop, price=DEFAULT_PRICE, **buy):
    order = shop.buy(price=price, **buy)
    shop.deliver(order)
    return order


def claim(desk, actors, order, who="buyer", evidence=EVIDENCE):
    return desk.claimDefect(order, evidence, {"from": actors[who].account})


def approved(shop, desk, actors, price=DEFAULT_PRICE, **buy):
    order = delivered(shop, price=price, **buy)
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
    return escrow.list(
        GTIN_INT,
        serial,
        MARKET_EU,
        ZERO_ADDRESS,
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
        {"from": actors["brand"].account},
    )


def serial_of_last(shop):
    return shop.last_serial


def unfulfilled_due(desk, order):
    """claimUnfulfilledReissue's last closed second: approval + deliveryTimeout + maxRelayDelay (EU preset)."""
    return desk.reissue(order)["approvedAt"] + EU.delivery_timeout + EU.max_relay_delay


@pytest.fixture(scope="module")
def staff(deployment, admin):
    """Accounts acting for merchants: `staff` of the brand's organisation (MERCHANT_STAFF), `rival_staff`
    of brand2's, and `brand_inspector`, of the brand's organisation but without the staff role."""
    made = {
        "staff": deploy.test_signer("reissue-staff", Role.MERCHANT_STAFF, "950600000001"),
        "rival_staff": deploy.test_signer("reissue-rival-staff", Role.MERCHANT_STAFF, "950600000011"),
        "brand_inspector": deploy.test_signer("reissue-brand-inspector", Role.INSPECTOR, "950600000001"),
    }
    deploy.accredit(deployment.registry, admin, list(made.values()))
    for s in made.values():
        admin.transfer(s.account, "10 ether", silent=True)
    return made


@pytest.fixture
def waived(policies, admin):
    """A new EU policy version that waives the defective unit's return when a replacement never comes
    (orders placed from now on are under it)."""
    policies.setPolicy(MARKET_EU, dataclasses.replace(EU, waive_defect_return=True).as_tuple(), {"from": admin})
    assert policies.policy(MARKET_EU, policies.currentPolicyVersion(MARKET_EU))["waiveDefectReturn"] is True


def merchant_paid_when_open(shop, release, order: int, opens: int) -> None:
    """`release` (a stranger's call) reverts while the period runs to `opens`, then pays the merchant the
    whole order (price and delivery) and the buyer nothing."""
    escrow, actors = shop.d.escrow, shop.actors
    tx = opens_after(
        opens,
        err("ReturnEscrowWindowOpen", order, opens),
        lambda: release(order, {"from": actors["stranger"].account}),
    )
    assert tx.events["OrderCompleted"]["merchantAmount"] == HIGH + D
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == HIGH + D
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


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
    assert (o["status"], o["reason"]) == (Status.REISSUE_APPROVED, DEFECTIVE)
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


@pytest.fixture
def cheap_limit_token(ERC20Mock, deployment, actors, admin):
    """A 6-decimal stablecoin whose auto-approve limit in the EU is 1 token (10**6 base units)."""
    t = ERC20Mock.deploy("Limit USD", "lUSD", 0, {"from": admin})
    deploy.allow_currency(deployment, t, 6, reissue_limit=10**6, markets=(MARKET_EU,))
    t.mint(actors["buyer"].address, 1_000 * 10**6, {"from": admin})
    return t


@pytest.mark.parametrize(
    "currency, price, auto",
    [
        ("token", 10**6, True),  # 1 token: at the token's limit
        ("token", 10**6 + 1, False),  # one base unit above it
        ("native", 10**6 + 1, True),  # the same number of base units of the native coin: far under 1 coin
    ],
)
def test_auto_approve_limit_is_per_currency(
    shop, escrow, desk, policies, actors, cheap_limit_token, currency, price, auto
):
    # Issue 9: thresholds are per currency, in its own base units; the market's native-coin limit is not the token's.
    token = cheap_limit_token if currency == "token" else None
    assert policies.currency(MARKET_EU, cheap_limit_token)["reissueAutoApproveLimit"] == 10**6
    assert policies.currency(MARKET_EU, ZERO_ADDRESS)["reissueAutoApproveLimit"] == LIMIT
    order = delivered(shop, price=price, delivery_fee=0, return_fee=0, token=token)
    assert claim(desk, actors, order).events["DefectClaimed"]["autoApproved"] is auto
    assert escrow.order(order)["status"] == (Status.REISSUE_APPROVED if auto else Status.DEFECT_CLAIMED)


def test_claim_by_non_buyer_reverts(shop, desk, actors):
    order = delivered(shop)
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["stranger"].address)):
        claim(desk, actors, order, who="stranger")


def test_claim_undelivered_reverts(shop, desk, actors):
    order = shop.buy()
    with brownie.reverts(err("ReturnEscrowNotDelivered", order)):
        claim(desk, actors, order)


def eu_window_closes(escrow, policies, order):
    """The later of the EU law's 14 whole days (policies.periodEnd) and the policy's 30-day window."""
    delivered_at = escrow.deliveredAt(order)
    return max(policies.periodEnd(MARKET_EU, delivered_at, EU_LAW.withdrawal_days), delivered_at + EU.return_window)


def test_claim_after_return_window_reverts(shop, escrow, policies, desk, actors):
    order = delivered(shop)
    closes = eu_window_closes(escrow, policies, order)
    assert escrow.returnWindowCloses(order) == closes
    next_block_at(closes + 1)
    with brownie.reverts(err("ReturnEscrowReturnWindowClosed", order, closes)):
        claim(desk, actors, order)


def test_claim_on_last_second_of_window(shop, escrow, policies, desk, actors):
    order = delivered(shop)
    next_block_at(eu_window_closes(escrow, policies, order))
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


@pytest.mark.parametrize("decider", ["brand", "staff"])
def test_merchant_side_approves(shop, escrow, desk, actors, staff, decider):
    # Issue 9: the merchant's staff (MERCHANT_STAFF, the merchant's organisation) may concede a claim too.
    who = {**actors, **staff}[decider]
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    tx = desk.decideDefectClaim(order, True, {"from": who.account})
    ev = tx.events["DefectClaimDecided"]
    assert (ev["orderId"], ev["decider"], ev["approved"]) == (order, who.address, True)
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED
    assert desk.reissue(order)["approvedAt"] == tx.timestamp


@pytest.mark.parametrize("decider", ["brand", "staff"])
def test_merchant_side_may_not_reject(shop, escrow, desk, actors, staff, decider):
    who = {**actors, **staff}[decider]
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    with brownie.reverts(err("ReissueDeskNotDecider", order, who.address)):
        desk.decideDefectClaim(order, False, {"from": who.account})
    assert escrow.order(order)["status"] == Status.DEFECT_CLAIMED


@pytest.mark.parametrize("approve", [True, False])
@pytest.mark.parametrize("who", ["stranger", "buyer", "inspector", "brand2", "rival_staff", "brand_inspector"])
def test_others_may_not_decide(shop, desk, actors, staff, who, approve):
    # Another merchant's staff, or the brand's own organisation without the staff role, is not the merchant's side.
    account = {**actors, **staff}[who]
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    with brownie.reverts(err("ReissueDeskNotDecider", order, account.address)):
        desk.decideDefectClaim(order, approve, {"from": account.account})


@pytest.mark.parametrize("judge, approve", [("brand", False), ("staff", False), ("buyer", True)])
def test_arbiter_that_is_a_party_cannot_decide_its_own_claim(
    shop, escrow, policies, desk, admin, actors, staff, judge, approve
):
    # Attack: the merchant (or its staff) holding the arbiter role rejects the claim against itself;
    # the buyer holding it approves its own claim.
    who = {**actors, **staff}[judge]
    policies.grantRole(policies.ARBITER_ROLE(), who.address, {"from": admin})
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    with brownie.reverts(err("ReissueDeskArbiterNotIndependent", order, who.address)):
        desk.decideDefectClaim(order, approve, {"from": who.account})
    assert escrow.order(order)["status"] == Status.DEFECT_CLAIMED
    # The fair outcome: the independent arbiter decides (here it approves the claim the merchant fought).
    desk.decideDefectClaim(order, True, {"from": actors["arbiter"].account})
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


def test_merchant_holding_the_arbiter_role_may_still_concede(shop, escrow, policies, desk, admin, actors):
    brand = actors["brand"]
    policies.grantRole(policies.ARBITER_ROLE(), brand.address, {"from": admin})
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    desk.decideDefectClaim(order, True, {"from": brand.account})
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


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


def test_rejected_claim_extends_the_return_period_by_the_time_pending(shop, escrow, policies, desk, actors):
    # Issue 9: the claim kept the return period from running; a rejection gives that time back, to the second.
    order = delivered(shop, price=HIGH)
    closes = escrow.returnWindowCloses(order)
    claimed = claim(desk, actors, order).timestamp
    decided = claimed + 3 * DAY + 17
    next_block_at(decided)
    desk.decideDefectClaim(order, False, {"from": actors["arbiter"].account})
    assert escrow.order(order)["windowExtension"] == decided - claimed
    extended = closes + decided - claimed
    assert escrow.returnWindowCloses(order) == extended
    merchant_paid_when_open(shop, escrow.release, order, extended)


def test_attack_buyer_refiles_a_rejected_claim_to_hold_the_merchants_money(shop, escrow, desk, actors):
    # Attack: the buyer's claim above the limit is rejected (the pending time given back to the return
    # period); just before the extended period ends the buyer files the same claim again, and again after
    # each rejection. Each claim stops the period and each rejection gives its time back, so the merchant,
    # whose money the escrow holds until the period ends, is never paid while the arbiter answers; left
    # unanswered, the re-filed claim becomes a return at the merchant's expense that the arbiter refused.
    # The fair outcome: a claim once per order, as a dispute before inspection is opened once; the buyer
    # keeps the return period the rejection extended, and after it the merchant is paid.
    order = delivered(shop, price=HIGH)
    closes = escrow.returnWindowCloses(order)
    claimed = claim(desk, actors, order).timestamp
    next_block_at(claimed + EU.inspection_sla)  # rejected at the last second it may be decided
    desk.decideDefectClaim(order, False, {"from": actors["arbiter"].account})
    extended = closes + EU.inspection_sla
    assert escrow.returnWindowCloses(order) == extended
    next_block_at(extended - 60)
    with brownie.reverts(err("ReissueDeskClaimRejected", order)):
        claim(desk, actors, order)
    assert escrow.order(order)["status"] == Status.ACTIVE
    assert escrow.returnWindowCloses(order) == extended
    merchant_paid_when_open(shop, escrow.release, order, extended)


def test_a_rejected_claim_is_not_refiled_by_signature_either(shop, escrow, desk, sign_claim, relayer, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    desk.decideDefectClaim(order, False, {"from": actors["arbiter"].account})
    message, sig = sign_claim(order)
    with brownie.reverts(err("ReissueDeskClaimRejected", order)):
        submit_claim(desk, relayer, message, sig)
    shop.request_return(order)  # the return stays open to the buyer
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


@pytest.mark.parametrize("after_end, in_withdrawal", [(0, True), (1, False)])
def test_rejected_claim_extends_the_statutory_withdrawal_too(
    shop, escrow, policies, desk, actors, after_end, in_withdrawal
):
    # A request after the law's 14 days but inside them plus the time pending is still a withdrawal, to the second.
    order = delivered(shop, price=HIGH)
    statutory_end = policies.periodEnd(MARKET_EU, escrow.deliveredAt(order), EU_LAW.withdrawal_days)
    claimed = claim(desk, actors, order).timestamp
    next_block_at(claimed + 2 * DAY)
    pending = desk.decideDefectClaim(order, False, {"from": actors["arbiter"].account}).timestamp - claimed
    next_block_at(statutory_end + pending + after_end)
    assert shop.request_return(order).events["ReturnRequested"]["inWithdrawal"] is in_withdrawal


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


# ---------------------------------------------------------------- a claim nobody decides (issue 9 item 8)


def lapse(shop, escrow, desk, actors, gtin=GTIN_INT):
    """Issue 9 item 8, the attacker's steps: an unfounded defect claim on a 2-coin order above the
    1-coin limit; neither the merchant nor the arbiter decides; after the inspection SLA anyone turns
    the claim into a return. Returns (order, the lapse transaction)."""
    order = delivered(shop, price=HIGH, gtin=gtin)
    claimed = claim(desk, actors, order)
    assert claimed.events["DefectClaimed"]["autoApproved"] is False
    decide_by = claimed.timestamp + EU.inspection_sla
    send = lambda: desk.returnUndecidedClaim(order, {"from": actors["stranger"].account})  # noqa: E731
    return order, opens_after(decide_by, err("ReissueDeskDecisionPending", order, decide_by), send)


def test_undecided_claim_becomes_a_return_never_an_approval(shop, escrow, desk, actors, commission):
    # v1 approved the claim by silence (and then paid price + delivery with the unit kept); v2 opens a
    # return of the unit at the merchant's expense, inspected like any other.
    order, tx = lapse(shop, escrow, desk, actors)
    lapsed = tx.events["DefectClaimLapsed"]
    assert (lapsed["orderId"], lapsed["decideBy"]) == (order, escrow.order(order)["requestedAt"] - 1)
    assert tx.events["DefectReturnOpened"]["orderId"] == order
    requested = tx.events["ReturnRequested"]
    assert (
        requested["orderId"],
        requested["buyer"],
        requested["reason"],
        requested["inWithdrawal"],
        requested["remedy"],
    ) == (order, actors["buyer"].address, DEFECTIVE, True, 0)
    o = escrow.order(order)
    assert (o["status"], o["reason"], o["requestedAt"]) == (Status.RETURN_REQUESTED, DEFECTIVE, tx.timestamp)
    assert "OrderSettled" not in tx.events and "OrderCompleted" not in tx.events
    # Never approved: no replacement can be linked, nothing is owed for one.
    assert desk.reissue(order)["approvedAt"] == 0
    replacement_unit(commission)
    with brownie.reverts(err("ReissueDeskNotApproved", order)):
        link(desk, actors, order)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 1)
    with brownie.reverts(err("ReissueDeskNotApproved", order)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    # Nor can a late decision change it, nor a second lapse.
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        desk.decideDefectClaim(order, True, {"from": actors["brand"].account})
    with brownie.reverts(err("ReissueDeskNoOpenClaim", order)):
        desk.returnUndecidedClaim(order, {"from": actors["stranger"].account})
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


def test_lapsed_claim_unit_never_sent_pays_the_merchant(shop, escrow, desk, actors):
    order, tx = lapse(shop, escrow, desk, actors)
    closes = tx.timestamp + EU.delivery_timeout + EU.max_relay_delay
    merchant_paid_when_open(shop, escrow.releaseUnreturned, order, closes)


DIMINISHED = 3 * 10**17  # attested for the used plain unit; under the EU cap of 30 % of 2 coins


@pytest.mark.parametrize(
    "case",
    [
        # The inspection finds what the buyer claimed: defective. Grade A, statutory (claimed and lapsed
        # inside the 14 days), return shipping the merchant's: price and delivery back.
        (
            "defective",
            GTIN_INT,
            Facts.DEFECTIVE,
            Grade.A,
            0,
            dict(statutory=True, refund=HIGH + D, points=0, shippingDeducted=0),
        ),
        # Not defective, unused, sealed: a withdrawal all the same (grade A terms: the merchant ships it).
        (
            "unused",
            GTIN_INT,
            SEALED_UNUSED,
            Grade.A,
            0,
            dict(statutory=True, refund=HIGH + D, points=0, shippingDeducted=0),
        ),
        # Not defective, used, hygiene seal broken: the hygiene exception takes the right; the grade C
        # terms pay 0 in cash and 30 % of the price in points, nothing left to deduct shipping from.
        (
            "used-sealed",
            GTIN_INT,
            Facts.USED,
            Grade.C,
            0,
            dict(statutory=False, refund=0, points=HIGH * 3 // 10, shippingDeducted=0),
        ),
        # Not defective, used, a plain class: statutory C pays price - diminished value + delivery - the
        # return shipping the buyer was told of, in cash, and the grade C points on top.
        (
            "used-plain",
            "plain",
            Facts.USED | Facts.PACKAGING_INTACT,
            Grade.C,
            DIMINISHED,
            dict(statutory=True, refund=HIGH - DIMINISHED + D - F, points=HIGH * 3 // 10, shippingDeducted=F),
        ),
    ],
    ids=lambda c: c[0],
)
def test_lapsed_claim_unit_sent_back_is_paid_by_its_inspected_facts(
    shop, escrow, points, desk, actors, plain_gtin, case
):
    _, gtin, facts, grade, diminished, expected = case
    order, _ = lapse(shop, escrow, desk, actors, gtin=plain_gtin if gtin == "plain" else gtin)
    shop.receive(order)
    tx = shop.inspect(order, facts, grade, diminishedValue=diminished)
    if grade != Grade.A:  # B and C wait for the buyer
        tx = escrow.acceptInspection(order, {"from": actors["buyer"].account})
    s = settlement(tx)
    assert tx.events["OrderSettled"]["path"] == PATH_GRADED
    assert {k: s[k] for k in expected} == expected
    assert s["refund"] + s["merchantAmount"] == HIGH + D
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == expected["refund"]
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == HIGH + D - expected["refund"]
    assert points.pointsOf(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS) == expected["points"]
    shop.assert_solvent()


def test_a_unit_collected_during_the_claim_is_not_paid_to_the_merchant_as_unreturned(shop, escrow, desk, actors):
    # Attack: while the claim is open the merchant collects the defective unit (its return center's
    # receipt under the order's RMA), then lets the claim lapse. The return it turns into must count
    # that receipt: else no inspection or refund could start, and after the delivery timeout the
    # merchant would be paid for the unit it holds.
    order = delivered(shop, price=HIGH)
    claimed = claim(desk, actors, order).timestamp
    chain.sleep(DAY)
    shop.receive(order)
    chain.sleep(EU.inspection_sla)
    desk.returnUndecidedClaim(order, {"from": actors["stranger"].account})
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    received = escrow.returnReceivedAt(order)  # the scan's signed time (a second before its block, at times)
    assert received > claimed
    next_block_at(received + EU.delivery_timeout + EU.max_relay_delay + 1)
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, received)):
        escrow.releaseUnreturned(order, {"from": actors["brand"].account})
    # The fair outcome: the merchant held the unit and inspected nothing in its SLA: all back to the buyer.
    tx = escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    assert settlement(tx)["refund"] == HIGH + D
    shop.assert_solvent()


@pytest.mark.parametrize("decider", ["brand", "arbiter"])
def test_a_claim_is_not_decided_after_its_time(shop, escrow, desk, actors, decider):
    # Attack: the merchant lets the claim run past its decision time, then approves it before anyone
    # turns it into a return, which restarts the replacement's delivery clock; silence never approves.
    order = delivered(shop, price=HIGH)
    decide_by = claim(desk, actors, order).timestamp + EU.inspection_sla
    next_block_at(decide_by + 1)
    with brownie.reverts(err("ReissueDeskDecisionLapsed", order, decide_by)):
        desk.decideDefectClaim(order, True, {"from": actors[decider].account})
    desk.returnUndecidedClaim(order, {"from": actors["stranger"].account})
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


def test_a_claim_may_be_decided_at_its_last_second(shop, escrow, desk, actors):
    order = delivered(shop, price=HIGH)
    decide_by = claim(desk, actors, order).timestamp + EU.inspection_sla
    next_block_at(decide_by)
    desk.decideDefectClaim(order, True, {"from": actors["brand"].account})
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


def test_silence_does_not_run_out_the_withdrawal_period(shop, escrow, points, policies, desk, actors, plain_gtin):
    # The attack from the merchant's side: a buyer claims a defect two days before the law's 14 days
    # end; the merchant says nothing until they have. The claim kept the buyer from withdrawing, as a
    # rejected claim does (whose pending time is given back): the return it turns into is still the
    # withdrawal the buyer could have made, and a used unit is paid by the law (price - diminished
    # value + delivery - told return shipping, in cash), not by the grade C terms (0 cash).
    order = delivered(shop, price=HIGH, gtin=plain_gtin)
    statutory_end = policies.periodEnd(MARKET_EU, escrow.deliveredAt(order), EU_LAW.withdrawal_days)
    next_block_at(statutory_end - 2 * DAY)
    claim(desk, actors, order)
    chain.sleep(EU.inspection_sla + 1)
    tx = desk.returnUndecidedClaim(order, {"from": actors["stranger"].account})
    assert tx.timestamp > statutory_end
    assert tx.events["ReturnRequested"]["inWithdrawal"] is True
    shop.receive(order)
    shop.inspect(order, Facts.USED | Facts.PACKAGING_INTACT, Grade.C, diminishedValue=DIMINISHED)
    s = settlement(escrow.acceptInspection(order, {"from": actors["buyer"].account}))
    assert (s["statutory"], s["refund"], s["points"]) == (True, HIGH - DIMINISHED + D - F, HIGH * 3 // 10)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == HIGH - DIMINISHED + D - F
    shop.assert_solvent()


@pytest.mark.parametrize("who", ["buyer", "brand", "stranger", "arbiter"])
def test_anyone_may_return_an_undecided_claim(shop, escrow, desk, actors, who):
    # v1 let only the buyer ask for the timeout approval; a return helps whoever waits on the money.
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    chain.sleep(EU.inspection_sla + 1)
    desk.returnUndecidedClaim(order, {"from": actors[who].account})
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


@pytest.mark.parametrize("decider, approve", [("brand", True), ("arbiter", False), ("arbiter", True)])
def test_a_decided_claim_has_no_lapse(shop, desk, actors, decider, approve):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    desk.decideDefectClaim(order, approve, {"from": actors[decider].account})
    chain.sleep(EU.inspection_sla + 1)
    with brownie.reverts(err("ReissueDeskNoOpenClaim", order)):
        desk.returnUndecidedClaim(order, {"from": actors["buyer"].account})


def test_auto_approved_claim_has_no_lapse(shop, desk, actors):
    order = delivered(shop)
    claim(desk, actors, order)
    chain.sleep(EU.inspection_sla + 1)
    with brownie.reverts(err("ReissueDeskNoOpenClaim", order)):
        desk.returnUndecidedClaim(order, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- linking the replacement


def test_link_replacement_both_ways(shop, escrow, desk, actors, commission):
    order = approved(shop, desk, actors)
    original = shop.unit(order)
    unit, serial = replacement_unit(commission)
    tx = link(desk, actors, order, serial)
    ev = tx.events["ReplacementLinked"]
    assert (ev["orderId"], ev["originalUnitId"], ev["replacementUnitId"]) == (
        order,
        "0x" + original.hex(),
        "0x" + unit.hex(),
    )
    assert escrow.lastOrderOf(unit) == order
    assert desk.reissue(order)["replacement"] == "0x" + unit.hex()
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED


def test_link_by_non_merchant_reverts(shop, desk, actors, staff, commission):
    # Staff may concede a claim but not commit stock: linking is the brand's.
    order = approved(shop, desk, actors)
    replacement_unit(commission)
    for who in ("stranger", "buyer", "arbiter", "staff"):
        account = {**actors, **staff}[who]
        with brownie.reverts(err("ReissueDeskNotMerchant", order, account.address)):
            desk.linkReplacement(order, GTIN_INT, "REPL0001", {"from": account.account})


def test_link_product_of_another_brand_reverts(shop, deployment, desk, actors):
    other_gtin = int(gs1.with_check_digit("0950600113459"))
    deploy.register_product(deployment, actors["brand2"], other_gtin, 0, 1 << MARKET_EU)
    order = approved(shop, desk, actors)
    with brownie.reverts(err("ReissueDeskNotMerchant", order, actors["brand"].address)):
        desk.linkReplacement(order, other_gtin, "X1", {"from": actors["brand"].account})


def test_link_product_not_sold_in_the_orders_market_reverts(shop, deployment, desk, actors, commission):
    us_only = int(gs1.with_check_digit("0950600013466"))
    deploy.register_product(deployment, actors["brand"], us_only, 0, 1 << 1)
    commission("US-ONLY-1", gtin=us_only)
    order = approved(shop, desk, actors)  # an EU order
    with brownie.reverts(err("ReissueDeskMarketNotServed", us_only, MARKET_EU)):
        desk.linkReplacement(order, us_only, "US-ONLY-1", {"from": actors["brand"].account})


def cheap_swap(shop, escrow, desk, actors, commission, plain_gtin):
    """The attack: a defect claim on a 2-coin unit approved, the merchant commissions a unit of a
    cheaper product of its own (same brand, sold in the order's market) and links it; it reverts.
    Returns the order."""
    order = approved(shop, desk, actors, price=HIGH)
    cheap = commission("CHEAP-1", gtin=plain_gtin)
    with brownie.reverts(err("ReissueDeskNotSameProduct", order, plain_gtin, GTIN_INT)):
        desk.linkReplacement(order, plain_gtin, "CHEAP-1", {"from": actors["brand"].account})
    assert escrow.order(order)["status"] == Status.REISSUE_APPROVED
    assert desk.reissue(order)["replacement"] == "0x" + ZERO32.hex()
    assert escrow.lastOrderOf(cheap) == 0  # not reserved: still the merchant's to sell
    return order


def test_attack_merchant_links_a_cheaper_product_of_its_own(shop, escrow, desk, actors, commission, record, plain_gtin):
    # Linked and delivered, the cheap unit would have ended the order Reissued with the full price
    # + delivery paid to the merchant. The buyer's fair outcome: a unit of the product it bought.
    order = cheap_swap(shop, escrow, desk, actors, commission, plain_gtin)
    assert escrow.unitGtin(shop.unit(order)) == GTIN_INT  # kept once sold
    unit, serial = replacement_unit(commission)  # the test product, as sold
    link(desk, actors, order, serial)
    deliver_replacement(record, desk, order, unit)
    desk.completeReissue(order, {"from": actors["stranger"].account})
    assert escrow.order(order)["status"] == Status.REISSUED
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == HIGH + D
    shop.assert_solvent()


def test_attack_merchant_with_no_unit_of_the_product_owes_the_refund(
    shop, escrow, desk, actors, commission, plain_gtin, waived
):
    # The merchant, refused the cheap unit, links nothing: the reissue goes unfulfilled and the buyer
    # (under a policy waiving the defective unit's return) is refunded price + delivery at once.
    order = cheap_swap(shop, escrow, desk, actors, commission, plain_gtin)
    due = unfulfilled_due(desk, order)
    tx = opens_after(
        due,
        err("ReissueDeskDeliveryPending", order, due),
        lambda: desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account}),
    )
    assert tx.events["OrderSettled"]["path"] == PATH_REISSUE_FAILED
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == HIGH + D
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


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
    returned = shop.returned()
    serial = serial_of_last(shop)
    shop.inspect(returned, SEALED_UNUSED, Grade.A)  # attested sellable: restocked
    order = approved(shop, desk, actors)
    link(desk, actors, order, serial)
    assert escrow.lastOrderOf(shop.unit(returned)) == order


def test_link_unit_refunded_without_inspection_reverts(shop, escrow, desk, actors):
    # Issue 9 item 9: a unit refunded by timeout, never inspected, is not stock (it may not be as described).
    returned = shop.returned()
    serial = serial_of_last(shop)
    chain.sleep(EU.inspection_sla + 1)
    escrow.claimUninspectedRefund(returned, {"from": actors["buyer"].account})
    assert escrow.order(returned)["status"] == Status.REFUNDED
    order = approved(shop, desk, actors)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", shop.unit(returned), returned)):
        link(desk, actors, order, serial)


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


def test_a_replacement_delivery_made_up_before_the_approval_completes_nothing(
    shop, escrow, desk, actors, commission, record
):
    # Attack: the reissue reference is predictable; a carrier records the replacement delivered before
    # the claim is approved, so that linking it would pay the merchant at once and the buyer get nothing.
    order = delivered(shop, price=HIGH)
    unit, serial = replacement_unit(commission)
    deliver_replacement(record, desk, order, unit)
    chain.sleep(60)
    claim(desk, actors, order)
    desk.decideDefectClaim(order, True, {"from": actors["brand"].account})
    link(desk, actors, order, serial)
    with brownie.reverts(err("ReissueDeskNotDelivered", order)):
        desk.completeReissue(order, {"from": actors["stranger"].account})
    # The fair outcome: no replacement came, so the buyer's unfulfilled-reissue claim opens its return.
    due = unfulfilled_due(desk, order)
    next_block_at(due + 1)
    tx = desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    assert tx.events["DefectReturnOpened"]["orderId"] == order
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


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
    assert bytes(desk.reissueRef(order)) == keccak(
        encode(["bytes32", "string"], [bytes(escrow.orderRef(order)), "REISSUE"])
    )


# ---------------------------------------------------------------- a replacement that never comes


def test_unfulfilled_reissue_sends_the_defective_unit_back(shop, escrow, desk, actors, commission):
    # v1 refunded price + delivery and the buyer kept the unit; v2: the contract ends for a defect, the
    # unit goes back at the merchant's expense (Directive 2019/771 Art. 16(3)) and nothing is paid yet.
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    due = unfulfilled_due(desk, order)
    buyer = actors["buyer"].account
    tx = opens_after(
        due, err("ReissueDeskDeliveryPending", order, due), lambda: desk.claimUnfulfilledReissue(order, {"from": buyer})
    )
    ev = tx.events["ReissueUnfulfilled"]
    assert (ev["orderId"], ev["returnWaived"]) == (order, False)
    assert tx.events["DefectReturnOpened"]["orderId"] == order
    requested = tx.events["ReturnRequested"]
    assert (requested["orderId"], requested["reason"]) == (order, DEFECTIVE)
    assert "OrderSettled" not in tx.events
    o = escrow.order(order)
    assert (o["status"], o["reason"], o["requestedAt"]) == (Status.RETURN_REQUESTED, DEFECTIVE, tx.timestamp)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    # The reserved replacement goes back to the merchant's stock.
    assert escrow.lastOrderOf(unit) == 0
    list_serial(escrow, actors, serial)
    shop.assert_solvent()


def test_unfulfilled_reissue_pays_nothing_while_the_buyer_keeps_the_unit(shop, escrow, desk, actors):
    # The buyer who does not send the defective unit back is not paid for it: no uninspected, overdue
    # or dispatched refund without the unit, and after the delivery timeout the merchant is paid.
    order = approved(shop, desk, actors)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 1)
    requested = desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account}).timestamp
    buyer = {"from": actors["buyer"].account}
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        escrow.claimUninspectedRefund(order, buyer)
    with brownie.reverts(err("ReturnEscrowNotDispatched", order)):
        escrow.claimDispatchedRefund(order, buyer)
    closes = requested + EU.delivery_timeout + EU.max_relay_delay
    done = opens_after(
        closes,
        err("ReturnEscrowWindowOpen", order, closes),
        lambda: escrow.releaseUnreturned(order, {"from": actors["stranger"].account}),
    )
    assert done.events["OrderCompleted"]["merchantAmount"] == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0


def test_unfulfilled_reissue_refunds_the_returned_defective_unit_in_full(shop, escrow, desk, actors):
    # The unit comes back and the inspection finds the defect: refunded in full, the return shipping
    # the merchant's (the claim was made inside the withdrawal period, so the law's statutory amount).
    order = approved(shop, desk, actors)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 1)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    shop.receive(order)
    tx = shop.inspect(order, Facts.DEFECTIVE, Grade.A)
    s = settlement(tx)
    assert (s["refund"], s["merchantAmount"], s["shippingDeducted"], s["points"]) == (TOTAL, 0, 0, 0)
    assert escrow.order(order)["status"] == Status.SETTLED
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


def test_unfulfilled_reissue_refunds_in_full_if_the_returned_unit_is_not_inspected(shop, escrow, desk, actors):
    order = approved(shop, desk, actors)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 1)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    shop.receive(order)
    sla_end = escrow.returnReceivedAt(order) + EU.inspection_sla  # the scan's signed time, not its block's
    tx = opens_after(
        sla_end,
        err("ReturnEscrowSlaNotElapsed", order, sla_end),
        lambda: escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account}),
    )
    assert settlement(tx)["refund"] == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL


def test_unfulfilled_reissue_with_waived_return_refunds_at_once(shop, escrow, desk, actors, commission, waived):
    # The policy waives the defective unit's return: the buyer is refunded price + delivery now and keeps it.
    order = approved(shop, desk, actors)
    original_serial = serial_of_last(shop)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    due = unfulfilled_due(desk, order)
    tx = opens_after(
        due,
        err("ReissueDeskDeliveryPending", order, due),
        lambda: desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account}),
    )
    ev = tx.events["ReissueUnfulfilled"]
    assert (ev["orderId"], ev["returnWaived"]) == (order, True)
    assert "DefectReturnOpened" not in tx.events
    settled = tx.events["OrderSettled"]
    assert (settled["orderId"], settled["path"], settled["grade"]) == (order, PATH_REISSUE_FAILED, 0)
    s = settlement(tx)
    assert (s["refund"], s["merchantAmount"], s["points"], s["shippingDeducted"]) == (TOTAL, 0, 0, 0)
    o = escrow.order(order)
    assert (o["status"], o["grade"]) == (Status.SETTLED, 0)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    # The replacement back in stock; the defective unit stays with the buyer, never relisted.
    assert escrow.lastOrderOf(unit) == 0
    list_serial(escrow, actors, serial)
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", shop.unit(order), order)):
        list_serial(escrow, actors, original_serial)
    shop.assert_solvent()


def test_unfulfilled_without_replacement_linked(shop, escrow, desk, actors):
    order = approved(shop, desk, actors, price=HIGH)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 1)
    tx = desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    assert tx.events["ReissueUnfulfilled"]["returnWaived"] is False
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    shop.assert_solvent()


def test_replacement_scan_signed_in_time_and_relayed_late_still_counts(shop, escrow, desk, actors, commission, record):
    # Issue 9 item 10: the carrier scanned the replacement delivered before the timeout; its relayer
    # records the scan within maxRelayDelay after it. The buyer cannot claim it never came.
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    timeout = desk.reissue(order)["approvedAt"] + EU.delivery_timeout
    next_block_at(timeout + EU.max_relay_delay)
    deliver_replacement(record, desk, order, unit, eventTime=timeout - 60)
    with brownie.reverts(err("ReissueDeskAlreadyDelivered", order, timeout - 60)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    desk.completeReissue(order, {"from": actors["stranger"].account})
    assert escrow.order(order)["status"] == Status.REISSUED


def test_unfulfilled_buyer_only(shop, desk, actors):
    order = approved(shop, desk, actors)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 5)
    for who in ("stranger", "brand"):
        with brownie.reverts(err("ReissueDeskNotBuyer", order, actors[who].address)):
            desk.claimUnfulfilledReissue(order, {"from": actors[who].account})


def test_unfulfilled_not_approved_reverts(shop, desk, actors):
    order = delivered(shop, price=HIGH)
    claim(desk, actors, order)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 5)
    with brownie.reverts(err("ReissueDeskNotApproved", order)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})


def test_unfulfilled_after_delivery_reverts(shop, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    scanned = chain.time() - 60  # the carrier's signed scan time, a minute before it is relayed
    deliver_replacement(record, desk, order, unit, eventTime=scanned)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 5)
    with brownie.reverts(err("ReissueDeskAlreadyDelivered", order, scanned)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})


@pytest.mark.parametrize("policy_waives, status", [(False, Status.RETURN_REQUESTED), (True, Status.SETTLED)])
def test_unfulfilled_twice_reverts(shop, policies, admin, desk, actors, policy_waives, status):
    if policy_waives:
        policies.setPolicy(MARKET_EU, dataclasses.replace(EU, waive_defect_return=True).as_tuple(), {"from": admin})
    order = approved(shop, desk, actors)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 5)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, status)):
        desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})


def test_complete_after_unfulfilled_reverts(shop, desk, actors, commission, record):
    order = approved(shop, desk, actors)
    unit, serial = replacement_unit(commission)
    link(desk, actors, order, serial)
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 5)
    desk.claimUnfulfilledReissue(order, {"from": actors["buyer"].account})
    deliver_replacement(record, desk, order, unit)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        desk.completeReissue(order, {"from": actors["stranger"].account})


# ---------------------------------------------------------------- signed claims


@pytest.fixture
def sign_claim(sign, desk, desk_domain, actors):
    def _sign(order, signer="buyer", evidence=EVIDENCE, **fields):
        return sign(desk_domain, "DefectClaim", actors[signer], orderId=order, evidence=evidence, **fields)

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
    message = {
        "buyer": actors["buyer"].address,
        "orderId": order,
        "evidence": EVIDENCE,
        "nonce": 0,
        "deadline": chain.time() + 3600,
    }
    sig = desk_domain.sign(actors["buyer2"].key, "DefectClaim", message)
    with brownie.reverts(err("SignatureInvalid", actors["buyer"].address)):
        submit_claim(desk, relayer, message, sig)


def test_claim_signed_for_the_escrow_reverts(shop, desk, escrow_domain, relayer, actors):
    order = delivered(shop)
    message = {
        "buyer": actors["buyer"].address,
        "orderId": order,
        "evidence": EVIDENCE,
        "nonce": 0,
        "deadline": chain.time() + 3600,
    }
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
        lambda: escrow.decideDefectClaim(order, True, 0, {"from": account}),
        lambda: escrow.openDefectReturn(order, ZERO32, {"from": account}),
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


def test_desk_is_wired(escrow, desk, policies):
    assert escrow.reissueDesk() == desk.address
    assert desk.escrow() == escrow.address
    assert desk.policies() == escrow.policies() == policies.address


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

    fresh = ReturnEscrow.deploy(deployment.registry, deployment.points, deployment.policies, {"from": admin})
    with brownie.reverts(err("ReturnEscrowZeroAddress")):
        fresh.setReissueDesk(ZERO_ADDRESS, {"from": admin})
    tx = fresh.setReissueDesk(deployment.desk.address, {"from": admin})
    assert tx.events["ReissueDeskSet"]["desk"] == deployment.desk.address
