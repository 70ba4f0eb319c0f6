"""Dual inspection: a return priced above its currency's dualInspectionAbove (issue 9: a term of the
currency in the market, no longer of the policy) settles only on two agreeing attestations by
inspectors of different organisations; no inspector may belong to the merchant's organisation."""

from dataclasses import replace

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace.escrow import Facts, Grade, SettlementPath
from returntrace.policies import EU, NATIVE, US
from returntrace.vocab import Role
from scripts import deploy
from tests.support import DAY, DEFAULT_DELIVERY_FEE, MARKET_EU, MARKET_US, Status, err, next_block_at, opens_after

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
HIGH = 6 * 10**18
LIMIT = NATIVE.dual_inspection_above  # the native coin's threshold, in wei
REASON, RULING = b"\x0a" * 32, b"\x0b" * 32
UNINSPECTED = SettlementPath.UNINSPECTED


def high_value(shop, market=MARKET_US, price=HIGH):
    return shop.returned(market=market, price=price)


def accredit_inspector(registry, admin, actors, name, organization):
    registry.setActor(actors[name].address, Role.INSPECTOR, organization, {"from": admin})


def test_fixture_inspectors_are_independent(registry, actors):
    brand = registry.actor(actors["brand"].address)["organization"]
    first = registry.actor(actors["inspector"].address)["organization"]
    second = registry.actor(actors["inspector2"].address)["organization"]
    assert len({brand, first, second}) == 3


def test_first_inspection_requires_second(shop, escrow, actors):
    order = high_value(shop)
    assert escrow.firstInspectorOrganization(order) == 0
    tx = shop.inspect(order, S | P, A)
    ev = tx.events["SecondInspectionRequired"]
    assert (ev["orderId"], ev["firstOrganization"]) == (order, actors["inspector"].gln)
    assert escrow.firstInspectorOrganization(order) == actors["inspector"].gln
    assert "OrderSettled" not in tx.events
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"]) == (Status.SECOND_INSPECTION, S | P, A)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == 0
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == 0
    shop.assert_solvent()


@pytest.mark.parametrize("market", [MARKET_EU, MARKET_US])
def test_first_inspection_in_each_market(shop, escrow, market):
    order = high_value(shop, market=market)
    shop.inspect(order, S | P, A)
    assert escrow.order(order)["status"] == Status.SECOND_INSPECTION


def test_second_by_same_inspector_refused(shop, escrow, actors):
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    with brownie.reverts(
        err("ReturnEscrowInspectorNotIndependent", actors["inspector"].address, actors["inspector"].gln)
    ):
        shop.inspect(order, S | P, A)
    assert escrow.order(order)["status"] == Status.SECOND_INSPECTION


def test_second_by_colleague_of_same_organisation_refused(shop, escrow, registry, admin, actors):
    accredit_inspector(registry, admin, actors, "stranger", actors["inspector"].gln)
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    with brownie.reverts(
        err("ReturnEscrowInspectorNotIndependent", actors["stranger"].address, actors["inspector"].gln)
    ):
        shop.inspect(order, S | P, A, inspector="stranger")


def test_agreeing_second_grade_a_settles(shop, escrow, actors):
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    q = escrow.quote(order, A, S | P, 0)
    tx = shop.inspect(order, S | P, A, inspector="inspector2")
    ev = tx.events["OrderSettled"]
    s = ev["settlement"]
    assert (ev["grade"], s["refund"], s["merchantAmount"]) == (A, HIGH, DEFAULT_DELIVERY_FEE)
    assert (s["refund"], s["merchantAmount"]) == (q["refund"], q["merchantAmount"])
    assert tx.events["InspectionSubmitted"]["inspector"] == actors["inspector2"].address
    assert escrow.order(order)["status"] == Status.SETTLED
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == HIGH
    assert escrow.credits(ZERO_ADDRESS, actors["brand"].address) == DEFAULT_DELIVERY_FEE
    shop.assert_solvent()


@pytest.mark.parametrize("facts, grade", [(P, B), (U, C)], ids=["B", "C"])
def test_agreeing_second_grade_b_or_c_goes_inspected(shop, escrow, actors, facts, grade):
    order = high_value(shop)
    shop.inspect(order, facts, grade)
    tx = shop.inspect(order, facts, grade, inspector="inspector2")
    assert tx.events["OrderInspected"]["grade"] == grade
    o = escrow.order(order)
    assert (o["status"], o["grade"]) == (Status.INSPECTED, grade)
    ev = escrow.acceptInspection(order, {"from": actors["buyer"].account}).events["OrderSettled"]
    assert ev["grade"] == grade
    shop.assert_solvent()


def test_second_may_come_first_from_inspector2(shop, escrow, actors):
    order = high_value(shop)
    tx = shop.inspect(order, S | P, A, inspector="inspector2")
    assert tx.events["SecondInspectionRequired"]["firstOrganization"] == actors["inspector2"].gln
    assert escrow.firstInspectorOrganization(order) == actors["inspector2"].gln
    shop.inspect(order, S | P, A, inspector="inspector")
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


@pytest.mark.parametrize(
    "first, second",
    [
        ((0, B), (P, B)),  # same grade, different facts
        ((S | P, A), (P, B)),  # different facts and grade
        ((U, C), (U | S, C)),  # same grade, different facts
        ((S | P, A), (S | P | D, A)),  # defective as well
    ],
    ids=["facts-b", "grade", "facts-c", "facts-a"],
)
def test_disagreeing_second_goes_to_dispute(shop, escrow, actors, first, second):
    order = high_value(shop)
    shop.inspect(order, *first)
    tx = shop.inspect(order, *second, inspector="inspector2")
    assert tx.events["OrderDisputed"]["by"] == ZERO_ADDRESS  # opened by the disagreement
    assert "OrderSettled" not in tx.events
    assert escrow.order(order)["status"] == Status.DISPUTED
    escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"]) == (Status.SETTLED, S | P, A)
    shop.assert_solvent()


@pytest.mark.parametrize("house", ["inspector", "inspector2"])
def test_neither_house_of_a_disagreement_arbitrates_it(shop, escrow, policies, registry, admin, actors, house):
    """Attack: two houses disagree on a high-value return and a colleague of one of them holds the
    arbiter role: it would make its own house's facts win. Refused for either house; an arbiter of
    neither decides."""
    registry.setActor(actors["stranger"].address, 0, actors[house].gln, {"from": admin})
    colleague = actors["stranger"].account
    policies.grantRole(policies.ARBITER_ROLE(), colleague.address, {"from": admin})
    order = high_value(shop)
    shop.inspect(order, U, C)
    shop.inspect(order, S | P, A, inspector="inspector2")
    facts = U if house == "inspector" else S | P
    with brownie.reverts(err("ReturnEscrowArbiterNotIndependent", order, colleague.address)):
        escrow.resolveDispute(order, facts, 0, REASON, RULING, {"from": colleague})
    escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"]) == (Status.SETTLED, S | P, A)
    shop.assert_solvent()


def test_inconsistent_second_goes_to_dispute(shop, escrow):
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    shop.inspect(order, S | P, B, inspector="inspector2")  # B claimed for facts that give A
    assert escrow.order(order)["status"] == Status.DISPUTED


def test_inconsistent_first_goes_straight_to_dispute(shop, escrow):
    order = high_value(shop)
    tx = shop.inspect(order, P, A)
    assert "SecondInspectionRequired" not in tx.events
    assert escrow.order(order)["status"] == Status.DISPUTED


@pytest.mark.parametrize(
    "first, second",
    [((P, A), None), ((U, C), (S | P, A)), ((S | P, A), (U, C))],
    ids=["inconsistent-first", "second-says-a", "second-says-c"],
)
def test_one_house_alone_never_decides_a_high_value_return(shop, escrow, actors, first, second):
    """Attack: an inspector whose grade contradicts its facts (the first), or that disagrees with the
    first (the second), would have the order settle by its facts alone once the arbiter stays silent,
    skipping the second house the currency's threshold asks for. Nobody ruled and no two houses
    agreed: the inspections count as none, and the return's own timeouts decide."""
    order = high_value(shop)
    shop.inspect(order, *first)
    if second:
        shop.inspect(order, *second, inspector="inspector2")
    o = escrow.order(order)
    assert (o["status"], o["grade"]) == (Status.DISPUTED, Grade.NONE)
    lapse = o["disputedAt"] + US.arbiter_timeout
    next_block_at(lapse + 1)
    tx = escrow.settleLapsedDispute(order, {"from": actors["stranger"].account})
    assert "OrderSettled" not in tx.events
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    # The fair outcome: no valid inspection within the SLA, so the buyer is refunded in full.
    assert chain.time() > escrow.returnReceivedAt(order) + US.inspection_sla
    tx = escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    assert tx.events["OrderSettled"]["settlement"]["refund"] == HIGH + DEFAULT_DELIVERY_FEE
    shop.assert_solvent()


def test_after_a_lapsed_dispute_the_next_first_house_replaces_the_old(shop, escrow, policies, admin, actors):
    """Two houses disagree, the arbiter stays silent and the return is inspected afresh within its SLA:
    the house that now speaks first is the one a second opinion must differ from, and the view says so
    (the gateway's check before queueing reads it)."""
    policies.setPolicy(MARKET_EU, replace(EU, arbiter_timeout=DAY).as_tuple(), {"from": admin})
    order = high_value(shop, market=MARKET_EU)
    shop.inspect(order, S | P, A)
    shop.inspect(order, U, C, inspector="inspector2")
    assert escrow.firstInspectorOrganization(order) == actors["inspector"].gln
    next_block_at(escrow.order(order)["disputedAt"] + DAY + 1)
    escrow.settleLapsedDispute(order, {"from": actors["stranger"].account})
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    shop.inspect(order, S | P, A, inspector="inspector2")
    assert escrow.firstInspectorOrganization(order) == actors["inspector2"].gln
    with brownie.reverts(
        err("ReturnEscrowInspectorNotIndependent", actors["inspector2"].address, actors["inspector2"].gln)
    ):
        shop.inspect(order, S | P, A, inspector="inspector2")
    shop.inspect(order, S | P, A)
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_the_first_house_of_an_unknown_order_is_refused(escrow):
    with brownie.reverts(err("ReturnEscrowUnknownOrder", 999)):
        escrow.firstInspectorOrganization(999)


@pytest.mark.parametrize("second", [None, (U, C), (S | P, A)], ids=["first-only", "agrees", "disagrees"])
def test_during_a_dispute_two_houses_attest_a_high_value_return(shop, escrow, actors, second):
    """A party's dispute opened before any inspection keeps no inspector out, and above the threshold
    no single house decides there either: the first house's facts wait for a second's; only the same
    facts give the grade by which the arbiter's silence settles."""
    order = high_value(shop)
    buyer = actors["buyer"].account
    opened = escrow.openDispute(order, {"from": buyer})
    tx = shop.inspect(order, U, C)
    assert tx.events["SecondInspectionRequired"]["firstOrganization"] == actors["inspector"].gln
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"], o["inspectorOrg"]) == (Status.DISPUTED, U, Grade.NONE, 0)
    with brownie.reverts(
        err("ReturnEscrowInspectorNotIndependent", actors["inspector"].address, actors["inspector"].gln)
    ):
        shop.inspect(order, U, C, nonce=escrow.getNonce(actors["inspector"].address))
    if second:
        shop.inspect(order, *second, inspector="inspector2")
        assert escrow.order(order)["inspectorOrg"] == actors["inspector2"].gln
    next_block_at(opened.timestamp + US.arbiter_timeout + 1)
    tx = escrow.settleLapsedDispute(order, {"from": actors["stranger"].account})
    if second == (U, C):  # two houses agree: their facts decide
        assert tx.events["OrderSettled"]["path"] == SettlementPath.ARBITER_SILENT
        assert tx.events["OrderSettled"]["grade"] == C
    else:  # one house, or two that disagree: the return's own timeouts
        assert "OrderSettled" not in tx.events
        assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    shop.assert_solvent()


def test_exactly_at_limit_needs_one_inspection(shop, escrow, actors):
    order = high_value(shop, price=LIMIT)
    tx = shop.inspect(order, S | P, A)
    assert "SecondInspectionRequired" not in tx.events
    assert tx.events["OrderSettled"]["settlement"]["refund"] == LIMIT
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_one_above_limit_needs_two(shop, escrow):
    order = high_value(shop, price=LIMIT + 1)
    shop.inspect(order, S | P, A)
    assert escrow.order(order)["status"] == Status.SECOND_INSPECTION


def test_default_price_needs_one_inspection(shop, escrow):
    order = shop.returned(market=MARKET_US)
    shop.inspect(order, S | P, A)
    assert escrow.order(order)["status"] == Status.SETTLED


# ---------------------------------------------------------------- merchant's own organisation


def test_merchant_organisation_inspector_refused_on_first(shop, escrow, registry, admin, actors):
    accredit_inspector(registry, admin, actors, "stranger", actors["brand"].gln)
    order = high_value(shop)
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", actors["stranger"].address, actors["brand"].gln)):
        shop.inspect(order, S | P, A, inspector="stranger")
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED


def test_merchant_organisation_inspector_refused_on_second(shop, escrow, registry, admin, actors):
    accredit_inspector(registry, admin, actors, "stranger", actors["brand"].gln)
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", actors["stranger"].address, actors["brand"].gln)):
        shop.inspect(order, S | P, A, inspector="stranger")


def test_merchant_organisation_inspector_refused_on_single(shop, escrow, registry, admin, actors):
    accredit_inspector(registry, admin, actors, "stranger", actors["brand"].gln)
    order = shop.returned(market=MARKET_US)
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", actors["stranger"].address, actors["brand"].gln)):
        shop.inspect(order, S | P, A, inspector="stranger")


def test_brand_with_inspector_role_refused(shop, escrow, registry, admin, actors):
    registry.setActor(actors["brand"].address, Role.BRAND | Role.INSPECTOR, actors["brand"].gln, {"from": admin})
    order = shop.returned(market=MARKET_US)
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", actors["brand"].address, actors["brand"].gln)):
        shop.inspect(order, S | P, A, inspector="brand")


# ---------------------------------------------------------------- timeouts


def test_uninspected_refund_from_second_inspection(shop, escrow, actors):
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    sla_end = escrow.returnReceivedAt(order) + US.inspection_sla
    buyer = actors["buyer"].account
    tx = opens_after(
        sla_end,
        err("ReturnEscrowSlaNotElapsed", order, sla_end),
        lambda: escrow.claimUninspectedRefund(order, {"from": buyer}),
    )
    ev = tx.events["OrderSettled"]
    s = ev["settlement"]
    assert (ev["path"], ev["grade"], s["refund"], s["merchantAmount"], s["points"]) == (
        UNINSPECTED,
        Grade.NONE,
        HIGH + DEFAULT_DELIVERY_FEE,
        0,
        0,
    )
    # The lone first opinion still says where the unit goes, so the order is settled, not merely refunded.
    assert escrow.order(order)["status"] == Status.SETTLED
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == HIGH + DEFAULT_DELIVERY_FEE
    shop.assert_solvent()


def test_uninspected_refund_from_second_inspection_buyer_only(shop, escrow, actors):
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    from brownie import chain

    chain.sleep(US.inspection_sla + 5)
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, actors["stranger"].address)):
        escrow.claimUninspectedRefund(order, {"from": actors["stranger"].account})


def test_second_inspection_after_sla_refused(shop, escrow, actors):
    order = high_value(shop)
    shop.inspect(order, S | P, A)
    sla_end = escrow.returnReceivedAt(order) + US.inspection_sla
    message, sig = shop.sign_inspection(order, S | P, A, inspector="inspector2", deadline=sla_end + 3600)
    from returntrace import eip712
    from tests.support import next_block_at

    next_block_at(sla_end + 1)
    with brownie.reverts(err("ReturnEscrowSlaElapsed", order, sla_end)):
        escrow.submitInspection(
            eip712.call_args("Inspection", message, sig)[:-1], sig, {"from": actors["stranger"].account}
        )


# ---------------------------------------------------------------- the threshold is the currency's


def test_threshold_is_the_currencys_own(shop, escrow, deployment, token):
    """The same number is a small native amount and a large token amount: each currency has its own
    threshold, in its own base units."""
    price = 6 * 10**6  # 6 tUSD; 6 million wei of the native coin is nothing
    deploy.allow_currency(deployment, token, 6, reissue_limit=10**6, dual_above=5 * 10**6)
    in_token = shop.returned(market=MARKET_US, token=token, price=price, delivery_fee=10**5, return_fee=10**5)
    in_native = shop.returned(market=MARKET_US, price=price, delivery_fee=10**5, return_fee=10**5)
    assert "SecondInspectionRequired" in shop.inspect(in_token, S | P, A).events
    assert "OrderSettled" in shop.inspect(in_native, S | P, A).events
    assert escrow.order(in_token)["status"] == Status.SECOND_INSPECTION
    shop.assert_solvent(token)
