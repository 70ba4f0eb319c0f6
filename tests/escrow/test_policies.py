"""Market return policies: validation, access, versions, and orders bound to their purchase version."""

from dataclasses import replace

import brownie
import pytest
from brownie import ZERO_ADDRESS

from returntrace.policies import CN, DAY, EU, PRESETS, US, Facts, Grade, GradeTerms, UnitDisposition
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, MARKET_EU, MARKET_SPARE, err, plain

BPS_ABOVE_MAX, SPLIT_ABOVE_MAX, NO_RETURN_WINDOW, NO_INSPECTION_SLA, NO_DISPUTE_WINDOW, NO_DELIVERY_TIMEOUT, REFUND_DEADLINE_TOO_SHORT = range(7)


def with_terms(policy, index, terms):
    t = list(policy.terms)
    t[index] = terms
    return replace(policy, terms=tuple(t))


def test_presets_are_version_one(escrow):
    for market, preset in PRESETS.items():
        assert escrow.currentPolicyVersion(market) == 1
        assert plain(escrow.policy(market, 1)) == preset.as_tuple()


def test_set_policy_appends_version_and_keeps_old(escrow, admin):
    tx = escrow.setPolicy(MARKET_EU, CN.as_tuple(), {"from": admin})
    assert tx.events["PolicySet"]["market"] == MARKET_EU
    assert tx.events["PolicySet"]["version"] == 2
    assert escrow.currentPolicyVersion(MARKET_EU) == 2
    assert plain(escrow.policy(MARKET_EU, 2)) == CN.as_tuple()
    assert plain(escrow.policy(MARKET_EU, 1)) == EU.as_tuple()


def test_unknown_policy_version_reverts(escrow):
    for market, version in ((MARKET_EU, 0), (MARKET_EU, 2), (MARKET_SPARE, 1)):
        with brownie.reverts(err("ReturnEscrowUnknownPolicy", market, version)):
            escrow.policy(market, version)


@pytest.mark.parametrize("who", ["stranger", "arbiter", "brand"])
def test_only_policy_admin_sets_policy(escrow, actors, who):
    role = bytes(escrow.POLICY_ADMIN_ROLE())
    with brownie.reverts(err("AccessControlUnauthorizedAccount", actors[who].address, role)):
        escrow.setPolicy(MARKET_EU, US.as_tuple(), {"from": actors[who].account})


def test_granted_policy_admin_sets_policy(escrow, admin, actors):
    escrow.grantRole(escrow.POLICY_ADMIN_ROLE(), actors["stranger"].address, {"from": admin})
    escrow.setPolicy(MARKET_SPARE, US.as_tuple(), {"from": actors["stranger"].account})
    assert escrow.currentPolicyVersion(MARKET_SPARE) == 1


def test_markets_end_at_63(escrow, admin):
    escrow.setPolicy(63, US.as_tuple(), {"from": admin})
    for market in (64, 2**32 - 1):
        with brownie.reverts(err("ReturnEscrowInvalidMarket", market)):
            escrow.setPolicy(market, US.as_tuple(), {"from": admin})


@pytest.mark.parametrize(
    "policy, violation",
    [
        (with_terms(EU, 0, GradeTerms(10_001, 0, True, UnitDisposition.RESTOCK)), BPS_ABOVE_MAX),
        (with_terms(US, 2, GradeTerms(0, 10_001, False, UnitDisposition.RECYCLE)), BPS_ABOVE_MAX),
        (with_terms(EU, 1, GradeTerms(6_000, 4_001, False, UnitDisposition.DONATE)), SPLIT_ABOVE_MAX),
        (replace(US, withdrawal_window=0, return_window=0), NO_RETURN_WINDOW),
        (replace(EU, inspection_sla=0), NO_INSPECTION_SLA),
        (replace(EU, dispute_window=0), NO_DISPUTE_WINDOW),
        (replace(EU, delivery_timeout=0), NO_DELIVERY_TIMEOUT),
        (replace(EU, refund_deadline=EU.inspection_sla + EU.dispute_window - 1), REFUND_DEADLINE_TOO_SHORT),
        (replace(CN, refund_deadline=0), REFUND_DEADLINE_TOO_SHORT),
    ],
    ids=["refund-bps", "points-bps", "split", "no-window", "no-sla", "no-dispute", "no-delivery-timeout", "deadline", "deadline-zero"],
)
def test_policy_violation_reverts(escrow, admin, policy, violation):
    with brownie.reverts(err("ReturnEscrowInvalidPolicy", violation)):
        escrow.setPolicy(MARKET_SPARE, policy.as_tuple(), {"from": admin})


@pytest.mark.parametrize(
    "policy",
    [
        with_terms(EU, 1, GradeTerms(6_000, 4_000, False, UnitDisposition.DONATE)),  # split exactly 100 %
        replace(EU, refund_deadline=EU.inspection_sla + EU.dispute_window),  # deadline exactly enough
        replace(EU, return_window=0),  # statutory window only
        replace(US, refund_deadline=0),  # no statutory right: no deadline needed
    ],
    ids=["split-at-max", "deadline-at-min", "withdrawal-only", "voluntary-only"],
)
def test_policy_at_the_limits_is_accepted(escrow, admin, policy):
    escrow.setPolicy(MARKET_SPARE, policy.as_tuple(), {"from": admin})
    assert plain(escrow.policy(MARKET_SPARE, 1)) == policy.as_tuple()


def test_order_is_bound_to_version_at_purchase_not_listing(shop, escrow, admin):
    unit = shop.list_unit()
    escrow.setPolicy(MARKET_EU, US.as_tuple(), {"from": admin})
    tx = escrow.purchase(unit, DEFAULT_PRICE + DEFAULT_DELIVERY_FEE, {"from": shop.actors["buyer"].account, "value": DEFAULT_PRICE + DEFAULT_DELIVERY_FEE})
    assert tx.events["OrderPlaced"]["policyVersion"] == 2
    assert escrow.order(tx.return_value)["policyVersion"] == 2


def test_later_policy_does_not_change_existing_order_settlement(shop, escrow, admin, actors):
    """Version 2 halves grade B and drops the packaging rule; the version 1 order still settles at 80 %."""
    old = shop.buy()
    v2 = replace(with_terms(EU, 1, GradeTerms(5_000, 0, False, UnitDisposition.DONATE)), packaging_required_for_a=False)
    escrow.setPolicy(MARKET_EU, v2.as_tuple(), {"from": admin})
    new = shop.buy()
    assert escrow.order(old)["policyVersion"] == 1
    assert escrow.order(new)["policyVersion"] == 2

    # Grade derivation follows each order's own version.
    assert escrow.deriveGrade(old, Facts.SEAL_INTACT) == Grade.B
    assert escrow.deriveGrade(new, Facts.SEAL_INTACT) == Grade.A

    buyer = actors["buyer"].account
    refunds = []
    for order in (old, new):
        shop.returned(order)
        shop.inspect(order, Facts.PACKAGING_INTACT, Grade.B)  # hygiene seal broken: grade terms apply
        tx = escrow.acceptInspection(order, {"from": buyer})
        refunds.append(tx.events["OrderSettled"]["refund"])
        shop.assert_solvent()
    assert refunds == [DEFAULT_PRICE * 8_000 // 10_000 - DEFAULT_RETURN_FEE, DEFAULT_PRICE * 5_000 // 10_000 - DEFAULT_RETURN_FEE]
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == sum(refunds)


def test_later_policy_does_not_move_existing_windows(shop, escrow, admin):
    """A shorter return window in version 2 does not close an order bought under version 1."""
    order = shop.buy()
    shop.deliver(order)
    escrow.setPolicy(MARKET_EU, replace(EU, withdrawal_window=DAY, return_window=DAY).as_tuple(), {"from": admin})
    brownie.chain.sleep(20 * DAY)
    tx = shop.request_return(order)
    assert tx.events["ReturnRequested"]["statutory"] is False
