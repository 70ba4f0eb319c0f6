"""Signed inspections: grade derivation, the Inspected / Disputed paths, the arbiter (who states
the facts, with a reason and evidence), and every reason an inspection is refused."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712
from returntrace.escrow import Facts, Grade, SettlementPath
from returntrace.policies import EU
from returntrace.vocab import BizStep, Disposition
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    MARKET_EU,
    MARKET_US,
    Status,
    err,
    next_block_at,
    opens_after,
)

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
EVIDENCE = b"\x0e" * 32
REASON, RULING = b"\x0a" * 32, b"\x0b" * 32  # the arbiter's reason code and evidence digest
GRADED, ARBITRATED = SettlementPath.GRADED, SettlementPath.ARBITRATED

# facts -> grade, written out rather than computed: DEFECTIVE wins (A), then USED (C), then an
# intact seal (A, with intact packaging where the policy requires it), else B.
EU_GRADES = {0: B, S: B, P: B, S | P: A, U: C, U | S: C, U | P: C, U | S | P: C}
US_GRADES = {0: B, S: A, P: B, S | P: A, U: C, U | S: C, U | P: C, U | S | P: C}
for _f in range(8, 16):
    EU_GRADES[_f] = US_GRADES[_f] = A


def submit(escrow, relayer, message, sig):
    return escrow.submitInspection(eip712.call_args("Inspection", message, sig)[:-1], sig, {"from": relayer})


# ---------------------------------------------------------------- grade derivation


# deriveGrade moved to ReturnPolicies (market, policy version, facts).
def test_grade_table_eu_requires_packaging_for_a(policies):
    version = policies.currentPolicyVersion(MARKET_EU)
    assert [policies.deriveGrade(MARKET_EU, version, f) for f in range(16)] == [EU_GRADES[f] for f in range(16)]


def test_grade_table_us_ignores_packaging(policies):
    version = policies.currentPolicyVersion(MARKET_US)
    assert [policies.deriveGrade(MARKET_US, version, f) for f in range(16)] == [US_GRADES[f] for f in range(16)]


def test_quote_rejects_unknown_fact_bits(shop, escrow):
    order = shop.buy()
    with brownie.reverts(err("ReturnEscrowInvalidFacts", 16)):
        escrow.quote(order, A, 16, 0)


@pytest.mark.parametrize(
    "market, facts, claimed, status",
    [
        (MARKET_EU, S, A, Status.DISPUTED),  # EU: seal alone is not A
        (MARKET_US, S, A, Status.SETTLED),  # US: seal alone is A
        (MARKET_EU, S | P | D, A, Status.SETTLED),  # defective: A whatever else
        (MARKET_EU, U | D, C, Status.DISPUTED),  # defective and used is still A
        (MARKET_EU, U | S | P, C, Status.INSPECTED),
        (MARKET_US, P, B, Status.INSPECTED),
    ],
)
def test_inspection_grade_is_checked_against_facts(shop, escrow, market, facts, claimed, status):
    order = shop.returned(market=market)
    shop.inspect(order, facts, claimed)
    assert escrow.order(order)["status"] == status


# ---------------------------------------------------------------- outcomes


def test_matching_grade_a_settles_at_once(shop, escrow, actors):
    order = shop.returned()
    tx = shop.inspect(order, S | P, A)
    ev = tx.events["InspectionSubmitted"]
    assert (
        ev["orderId"],
        ev["inspector"],
        ev["facts"],
        ev["claimedGrade"],
        ev["derivedGrade"],
        ev["diminishedValue"],
    ) == (order, actors["inspector"].address, S | P, A, A, 0)
    assert ev["evidence"] == "0x" + EVIDENCE.hex()
    settled = tx.events["OrderSettled"]
    assert (settled["path"], settled["grade"], settled["settlement"]["refund"]) == (GRADED, A, TOTAL)
    o = escrow.order(order)
    assert (o["status"], o["grade"], o["facts"]) == (Status.SETTLED, A, S | P)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    shop.assert_solvent()


@pytest.mark.parametrize("facts, grade", [(S, B), (U, C)])
def test_grade_b_or_c_waits_for_the_buyer(shop, escrow, actors, facts, grade):
    order = shop.returned()
    tx = shop.inspect(order, facts, grade)
    assert "OrderSettled" not in tx.events
    ev = tx.events["OrderInspected"]
    assert (ev["orderId"], ev["grade"], ev["disputeDeadline"]) == (order, grade, tx.timestamp + 5 * DAY)
    o = escrow.order(order)
    assert (o["status"], o["grade"], o["disputeDeadline"]) == (Status.INSPECTED, grade, tx.timestamp + 5 * DAY)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    shop.assert_solvent()


def test_attested_diminished_value_is_recorded(shop, escrow, plain_gtin):
    """A used unit's diminished value is the inspector's signed word, kept with the facts (EU Art. 14(2))."""
    order = shop.returned(gtin=plain_gtin)
    value = DEFAULT_PRICE // 10
    tx = shop.inspect(order, U | S | P, C, diminishedValue=value)
    assert tx.events["InspectionSubmitted"]["diminishedValue"] == value
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"], o["diminishedValue"]) == (Status.INSPECTED, U | S | P, C, value)


def test_buyer_accepts_inspection(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, S, B)
    tx = escrow.acceptInspection(order, {"from": actors["buyer"].account})
    assert (tx.events["OrderSettled"]["path"], tx.events["OrderSettled"]["grade"]) == (GRADED, B)
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_only_buyer_accepts_or_contests(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, S, B)
    for who in ("stranger", "brand", "inspector"):
        with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors[who].address)):
            escrow.acceptInspection(order, {"from": actors[who].account})
        with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors[who].address)):
            escrow.contest(order, {"from": actors[who].account})


def test_accept_or_contest_before_inspection_reverts(shop, escrow, actors):
    order = shop.returned()
    buyer = actors["buyer"].account
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        escrow.acceptInspection(order, {"from": buyer})
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        escrow.contest(order, {"from": buyer})
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.RETURN_REQUESTED)):
        escrow.finalize(order, {"from": buyer})


def test_finalize_after_dispute_window(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, U, C)
    deadline = escrow.order(order)["disputeDeadline"]
    stranger = actors["stranger"].account
    tx = opens_after(
        deadline, err("ReturnEscrowWindowOpen", order, deadline), lambda: escrow.finalize(order, {"from": stranger})
    )
    assert tx.events["OrderSettled"]["grade"] == C
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_contest_at_last_second_goes_to_dispute(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, S, B)
    deadline = escrow.order(order)["disputeDeadline"]
    next_block_at(deadline)
    tx = escrow.contest(order, {"from": actors["buyer"].account})
    # The buyer opened it; the arbiter decides within the policy's arbiterTimeout.
    ev = tx.events["OrderDisputed"]
    assert (ev["orderId"], ev["by"], ev["decideBy"]) == (
        order,
        actors["buyer"].address,
        tx.timestamp + EU.arbiter_timeout,
    )
    o = escrow.order(order)
    assert (o["status"], o["disputedAt"]) == (Status.DISPUTED, tx.timestamp)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.DISPUTED)):
        escrow.finalize(order, {"from": actors["stranger"].account})


def test_contest_after_dispute_window_reverts(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, S, B)
    deadline = escrow.order(order)["disputeDeadline"]
    next_block_at(deadline + 1)
    with brownie.reverts(err("ReturnEscrowDisputeWindowClosed", order, deadline)):
        escrow.contest(order, {"from": actors["buyer"].account})


def test_mismatch_goes_to_dispute(shop, escrow):
    order = shop.returned()
    tx = shop.inspect(order, U, A)  # used unit claimed as A
    assert tx.events["InspectionSubmitted"]["derivedGrade"] == C
    assert tx.events["OrderDisputed"]["by"] == ZERO_ADDRESS  # opened by the mismatch, not by a party
    assert tx.events["OrderDisputed"]["decideBy"] == tx.timestamp + EU.arbiter_timeout
    assert "OrderSettled" not in tx.events
    o = escrow.order(order)
    assert (o["status"], o["grade"]) == (Status.DISPUTED, A)
    shop.assert_solvent()


def test_arbiter_resolves_dispute(shop, escrow, actors):
    """Issue 9: the arbiter states the facts (here it confirms the use), with a reason and evidence;
    the grade follows from them. Used with the hygiene seal broken: no EU withdrawal right (Art.
    16(e)), grade C terms: no cash, 30 % of the price in points."""
    order = shop.returned()
    shop.inspect(order, U, A)
    tx = escrow.resolveDispute(order, U, 0, REASON, RULING, {"from": actors["arbiter"].account})
    ev = tx.events["DisputeResolved"]
    assert (ev["orderId"], ev["arbiter"], ev["facts"], ev["grade"], ev["diminishedValue"]) == (
        order,
        actors["arbiter"].address,
        U,
        C,
        0,
    )
    assert (ev["reason"], ev["evidence"]) == ("0x" + REASON.hex(), "0x" + RULING.hex())
    settled = tx.events["OrderSettled"]
    s = settled["settlement"]
    assert (settled["path"], settled["grade"]) == (ARBITRATED, C)
    assert (s["statutory"], s["refund"], s["points"]) == (False, 0, DEFAULT_PRICE * 3_000 // 10_000)
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"]) == (Status.SETTLED, U, C)
    shop.assert_solvent()


def test_arbiter_resolves_contest_under_statutory_rules(shop, escrow, actors):
    """Seal intact, so the EU withdrawal still applies: B at the statutory amount, not the grade's 80 %."""
    order = shop.returned()
    shop.inspect(order, S, B)
    escrow.contest(order, {"from": actors["buyer"].account})
    tx = escrow.resolveDispute(order, S, 0, REASON, RULING, {"from": actors["arbiter"].account})
    s = tx.events["OrderSettled"]["settlement"]
    assert tx.events["OrderSettled"]["grade"] == B
    assert (s["statutory"], s["refund"]) == (True, TOTAL - DEFAULT_RETURN_FEE)


@pytest.mark.parametrize("who", ["stranger", "brand", "inspector", "buyer"])
def test_only_arbiter_resolves(shop, escrow, policies, actors, admin, who):
    order = shop.returned()
    shop.inspect(order, U, A)
    # The arbiter role lives in ReturnPolicies, with every other trusted power.
    role = bytes(policies.ARBITER_ROLE())
    assert role == bytes(escrow.ARBITER_ROLE())
    with brownie.reverts(err("AccessControlUnauthorizedAccount", actors[who].address, role)):
        escrow.resolveDispute(order, U, 0, REASON, RULING, {"from": actors[who].account})


def test_admin_is_not_arbiter(shop, escrow, policies, admin):
    order = shop.returned()
    shop.inspect(order, U, A)
    with brownie.reverts(err("AccessControlUnauthorizedAccount", admin.address, bytes(policies.ARBITER_ROLE()))):
        escrow.resolveDispute(order, U, 0, REASON, RULING, {"from": admin})


@pytest.mark.parametrize("facts", [16, 255])
def test_arbiter_facts_use_the_defined_bits(shop, escrow, actors, facts):
    order = shop.returned()
    shop.inspect(order, U, A)
    with brownie.reverts(err("ReturnEscrowInvalidFacts", facts)):
        escrow.resolveDispute(order, facts, 0, REASON, RULING, {"from": actors["arbiter"].account})


def test_resolve_without_dispute_reverts(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, S, B)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.INSPECTED)):
        escrow.resolveDispute(order, S, 0, REASON, RULING, {"from": actors["arbiter"].account})


# ---------------------------------------------------------------- refused inspections


@pytest.mark.parametrize("signer", ["stranger", "carrier", "warehouse", "brand"])
def test_non_inspector_attestation_reverts(shop, escrow, relayer, actors, signer):
    order = shop.returned()
    with brownie.reverts(err("ReturnEscrowNotInspector", actors[signer].address)):
        shop.inspect(order, S | P, A, inspector=signer)


def test_inspector_whose_role_was_revoked_is_refused(shop, escrow, registry, admin, actors):
    order = shop.returned()
    registry.setActor(actors["inspector"].address, 0, actors["inspector"].gln, {"from": admin})
    with brownie.reverts(err("ReturnEscrowNotInspector", actors["inspector"].address)):
        shop.inspect(order, S | P, A)


def test_second_inspector_is_accepted(shop, escrow):
    order = shop.returned()
    tx = shop.inspect(order, S | P, A, inspector="inspector2")
    assert tx.events["InspectionSubmitted"]["inspector"] == shop.actors["inspector2"].address


def test_inspection_without_receiving_scan_reverts(shop, escrow):
    order = shop.buy()
    shop.deliver(order)
    shop.request_return(order)
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        shop.inspect(order, S | P, A)


@pytest.mark.parametrize("case", ["order-ref", "other-rma", "no-ref", "not-returned-disposition", "charity"])
def test_receiving_scan_must_be_the_warehouses_under_the_rma(shop, escrow, record, case):
    order = shop.buy()
    other = shop.buy()
    shop.deliver(order)
    shop.request_return(order)
    unit = shop.unit(order)
    actor, disposition, ref = "warehouse", Disposition.RETURNED, escrow.rmaRef(order)
    if case == "order-ref":
        ref = escrow.orderRef(order)
    elif case == "other-rma":
        ref = escrow.rmaRef(other)
    elif case == "no-ref":
        ref = b"\x00" * 32
    elif case == "not-returned-disposition":
        disposition = Disposition.IN_PROGRESS
    else:
        actor = "charity"
    record(unit, BizStep.RECEIVING, actor, disposition, bizTransaction=ref)
    assert escrow.returnReceivedAt(order) == 0
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        shop.inspect(order, S | P, A)


def test_inspection_at_sla_end_is_accepted(shop, escrow):
    order = shop.returned()
    sla_end = escrow.returnReceivedAt(order) + EU.inspection_sla
    next_block_at(sla_end)
    tx = shop.inspect(order, S | P, A, deadline=sla_end + 3600)
    assert tx.timestamp == sla_end and "OrderSettled" in tx.events


def test_inspection_after_sla_reverts(shop, escrow):
    order = shop.returned()
    sla_end = escrow.returnReceivedAt(order) + EU.inspection_sla
    message, sig = shop.sign_inspection(order, S | P, A, deadline=sla_end + DAY)
    next_block_at(sla_end + 1)
    with brownie.reverts(err("ReturnEscrowSlaElapsed", order, sla_end)):
        submit(escrow, shop.relayer, message, sig)


@pytest.mark.parametrize("grade", [0, 4, 255])
def test_invalid_grade_reverts(shop, grade):
    order = shop.returned()
    with brownie.reverts(err("ReturnEscrowInvalidGrade", grade)):
        shop.inspect(order, S | P, grade)


@pytest.mark.parametrize("facts", [16, 31, 255])
def test_invalid_facts_revert(shop, facts):
    order = shop.returned()
    with brownie.reverts(err("ReturnEscrowInvalidFacts", facts)):
        shop.inspect(order, facts, A)


def test_inspection_of_unknown_order_reverts(shop):
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 77)):
        shop.inspect(77, S | P, A)


def test_inspection_before_return_request_reverts(shop):
    order = shop.buy()
    shop.deliver(order)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.ACTIVE)):
        shop.inspect(order, S | P, A)


def test_replayed_inspection_does_not_settle_twice(shop, escrow, actors):
    order = shop.returned()
    message, sig = shop.sign_inspection(order, S | P, A)
    submit(escrow, shop.relayer, message, sig)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        submit(escrow, shop.relayer, message, sig)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL


def test_used_inspection_nonce_is_refused_on_another_order(shop, escrow, actors):
    first, second = shop.returned(), shop.returned()
    shop.inspect(first, S | P, A)
    message, sig = shop.sign_inspection(second, S | P, A, nonce=0)
    with brownie.reverts(err("SignatureInvalidNonce", actors["inspector"].address, 1, 0)):
        submit(escrow, shop.relayer, message, sig)


def test_inspection_signed_by_another_key_reverts(shop, escrow, escrow_domain, actors):
    order = shop.returned()
    message = {
        "inspector": actors["inspector"].address,
        "orderId": order,
        "facts": S | P,
        "grade": A,
        "diminishedValue": 0,
        "evidence": EVIDENCE,
        "nonce": 0,
        "deadline": chain[-1].timestamp + 3600,
    }
    sig = escrow_domain.sign(actors["inspector2"].key, "Inspection", message)
    with brownie.reverts(err("SignatureInvalid", actors["inspector"].address)):
        submit(escrow, shop.relayer, message, sig)


def test_tampered_inspection_reverts(shop, escrow, actors):
    order = shop.returned()
    message, sig = shop.sign_inspection(order, U, C)
    with brownie.reverts(err("SignatureInvalid", actors["inspector"].address)):
        submit(escrow, shop.relayer, {**message, "facts": S | P, "grade": A}, sig)


def test_expired_inspection_reverts(shop, escrow):
    order = shop.returned()
    deadline = chain[-1].timestamp + 60
    message, sig = shop.sign_inspection(order, S | P, A, deadline=deadline)
    next_block_at(deadline + 1)
    with brownie.reverts(err("SignatureExpired", deadline)):
        submit(escrow, shop.relayer, message, sig)


def test_inspection_type_hash(escrow):
    assert bytes(escrow.getInspectionTypeHash()) == eip712.type_hash("Inspection")
