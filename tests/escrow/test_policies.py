"""ReturnPolicies: each market's law (law admin), the return policies checked against it (policy admin),
the currencies a market sells in, versions, and orders bound to the version of their listing."""

import re
from dataclasses import fields, replace

import brownie
import pytest
from brownie import ZERO_ADDRESS, ERC20Mock

from returntrace.escrow import (
    Currency,
    Facts,
    Grade,
    GradeTerms,
    Law,
    Policy,
    PolicyViolation,
    UnitDisposition,
)
from returntrace.policies import (
    CN,
    CN_LAW,
    DAY,
    EU,
    EU_LAW,
    LAWS,
    NATIVE,
    PRESETS,
    US,
    US_LAW,
)
from scripts.builder import listing_terms
from tests.support import (
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_CN,
    MARKET_EU,
    MARKET_SPARE,
    MARKET_US,
    err,
    plain,
)

# IReturnPolicies.PolicyViolation, by its short names here
(
    BPS_ABOVE_MAX,
    SPLIT_ABOVE_MAX,
    NO_RETURN_WINDOW,
    NO_INSPECTION_SLA,
    NO_DISPUTE_WINDOW,
    NO_DELIVERY_TIMEOUT,
    NO_ARBITER_TIMEOUT,
    SLA_BEYOND_REFUND_DEADLINE,
    BONUS_WITHOUT_EXCHANGE,
    HYGIENE_EXEMPTION_NOT_IN_LAW,
    RELAY_DELAY_TOO_LONG,
    NO_LAW,
) = PolicyViolation
MAX_RELAY_DELAY = 3 * DAY


def with_terms(policy, index, terms):
    t = list(policy.terms)
    t[index] = terms
    return replace(policy, terms=tuple(t))


def role(policies, name):
    return bytes(getattr(policies, name)())


def set_law(policies, admin, market, law):
    return policies.setLaw(market, law.as_tuple(), {"from": admin})


# ---------------------------------------------------------------- the law


def test_preset_laws_are_set(policies):
    for market, law in LAWS.items():
        assert policies.hasLaw(market) is True
        assert Law.decode(policies.law(market), policies.abi) == law
    assert policies.hasLaw(MARKET_SPARE) is False


def test_set_law_emits_and_replaces(policies, admin):
    law = replace(EU_LAW, withdrawal_days=30, utc_offset_minutes=60)
    tx = set_law(policies, admin, MARKET_EU, law)
    ev = tx.events["LawSet"]
    assert ev["market"] == MARKET_EU and plain(ev["law"]) == law.as_tuple()
    assert plain(policies.law(MARKET_EU)) == law.as_tuple()


@pytest.mark.parametrize("who", ["stranger", "arbiter", "brand"])
def test_only_law_admin_sets_law_and_holidays(policies, actors, who):
    account = actors[who].account
    with brownie.reverts(err("AccessControlUnauthorizedAccount", account.address, role(policies, "LAW_ADMIN_ROLE"))):
        policies.setLaw(MARKET_EU, US_LAW.as_tuple(), {"from": account})
    with brownie.reverts(err("AccessControlUnauthorizedAccount", account.address, role(policies, "LAW_ADMIN_ROLE"))):
        policies.setHoliday(MARKET_EU, 20_000, True, {"from": account})
    assert Law.decode(policies.law(MARKET_EU), policies.abi) == EU_LAW
    assert policies.isHoliday(MARKET_EU, 20_000) is False


@pytest.mark.parametrize("offset", [-720, 0, 840])
def test_time_zone_within_bounds_is_accepted(policies, admin, offset):
    set_law(policies, admin, MARKET_SPARE, replace(US_LAW, utc_offset_minutes=offset))
    assert policies.law(MARKET_SPARE)["utcOffsetMinutes"] == offset


@pytest.mark.parametrize("offset", [-721, 841, -32768, 32767])
def test_time_zone_out_of_bounds_reverts(policies, admin, offset):
    # UTC-12:00 (Baker Island) to UTC+14:00 (Line Islands): nothing on Earth is outside.
    with brownie.reverts(err("ReturnPoliciesInvalidTimeZone", offset)):
        set_law(policies, admin, MARKET_SPARE, replace(US_LAW, utc_offset_minutes=offset))
    assert policies.hasLaw(MARKET_SPARE) is False


def test_set_holiday_registers_and_removes(policies, admin):
    tx = policies.setHoliday(MARKET_CN, 20_362, True, {"from": admin})
    ev = tx.events["HolidaySet"]
    assert (ev["market"], ev["day"], ev["holiday"]) == (MARKET_CN, 20_362, True)
    assert policies.isHoliday(MARKET_CN, 20_362) is True
    assert policies.isHoliday(MARKET_EU, 20_362) is False  # holidays are per market
    policies.setHoliday(MARKET_CN, 20_362, False, {"from": admin})
    assert policies.isHoliday(MARKET_CN, 20_362) is False


def test_markets_end_at_63(policies, admin):
    set_law(policies, admin, 63, US_LAW)
    policies.setPolicy(63, US.as_tuple(), {"from": admin})
    policies.setCurrency(63, ZERO_ADDRESS, NATIVE.as_tuple(), {"from": admin})
    policies.setHoliday(63, 1, True, {"from": admin})
    for market in (64, 2**32 - 1):
        for call in (
            lambda m: set_law(policies, admin, m, US_LAW),
            lambda m: policies.setHoliday(m, 1, True, {"from": admin}),
            lambda m: policies.setPolicy(m, US.as_tuple(), {"from": admin}),
            lambda m: policies.setCurrency(m, ZERO_ADDRESS, NATIVE.as_tuple(), {"from": admin}),
        ):
            with brownie.reverts(err("ReturnPoliciesInvalidMarket", market)):
                call(market)


# ---------------------------------------------------------------- policies and versions


def test_presets_are_version_one_and_round_trip(policies):
    for market, preset in PRESETS.items():
        assert policies.currentPolicyVersion(market) == 1
        assert Policy.decode(policies.policy(market, 1), policies.abi) == preset
        assert plain(policies.policy(market, 1)) == preset.as_tuple()


def test_set_policy_appends_version_and_keeps_old(policies, admin):
    tx = policies.setPolicy(MARKET_EU, CN.as_tuple(), {"from": admin})
    ev = tx.events["PolicySet"]
    assert (ev["market"], ev["version"]) == (MARKET_EU, 2)
    assert Policy.decode(ev["policy"], policies.abi) == CN  # the log decodes to the same policy
    assert policies.currentPolicyVersion(MARKET_EU) == 2
    assert Policy.decode(policies.policy(MARKET_EU, 2), policies.abi) == CN
    assert Policy.decode(policies.policy(MARKET_EU, 1), policies.abi) == EU


def test_unknown_policy_version_reverts(policies):
    for market, version in ((MARKET_EU, 0), (MARKET_EU, 2), (MARKET_SPARE, 1)):
        with brownie.reverts(err("ReturnPoliciesUnknownPolicy", market, version)):
            policies.policy(market, version)
    with brownie.reverts(err("ReturnPoliciesUnknownPolicy", MARKET_EU, 2)):
        policies.deriveGrade(MARKET_EU, 2, 0)


@pytest.mark.parametrize("who", ["stranger", "arbiter", "brand"])
def test_only_policy_admin_sets_policy(policies, actors, who):
    account = actors[who].account
    with brownie.reverts(err("AccessControlUnauthorizedAccount", account.address, role(policies, "POLICY_ADMIN_ROLE"))):
        policies.setPolicy(MARKET_EU, US.as_tuple(), {"from": account})
    assert policies.currentPolicyVersion(MARKET_EU) == 1


def test_granted_policy_admin_sets_policy(policies, admin, actors):
    set_law(policies, admin, MARKET_SPARE, US_LAW)
    policies.grantRole(policies.POLICY_ADMIN_ROLE(), actors["stranger"].address, {"from": admin})
    policies.setPolicy(MARKET_SPARE, US.as_tuple(), {"from": actors["stranger"].account})
    assert policies.currentPolicyVersion(MARKET_SPARE) == 1


def test_policy_needs_the_markets_law_first(policies, admin):
    # A market without consumer law gets an explicitly empty one from the law admin, never none.
    with brownie.reverts(err("ReturnPoliciesInvalidPolicy", NO_LAW)):
        policies.setPolicy(MARKET_SPARE, US.as_tuple(), {"from": admin})
    set_law(policies, admin, MARKET_SPARE, US_LAW)
    policies.setPolicy(MARKET_SPARE, US.as_tuple(), {"from": admin})
    assert policies.currentPolicyVersion(MARKET_SPARE) == 1


# (id, the market's law, the policy, the rule it breaks)
VIOLATIONS = [
    ("refund-bps", EU_LAW, with_terms(EU, 0, GradeTerms(10_001, 0, True, UnitDisposition.RESTOCK)), BPS_ABOVE_MAX),
    ("points-bps", US_LAW, with_terms(US, 2, GradeTerms(0, 10_001, False, UnitDisposition.RECYCLE)), BPS_ABOVE_MAX),
    ("bonus-bps", EU_LAW, replace(EU, exchange_bonus_bps=10_001), BPS_ABOVE_MAX),
    ("diminished-bps", EU_LAW, replace(EU, max_diminished_bps=10_001), BPS_ABOVE_MAX),
    ("split", EU_LAW, with_terms(EU, 1, GradeTerms(6_000, 4_001, False, UnitDisposition.DONATE)), SPLIT_ABOVE_MAX),
    ("no-window", US_LAW, replace(US, return_window=0), NO_RETURN_WINDOW),
    ("no-sla", EU_LAW, replace(EU, inspection_sla=0), NO_INSPECTION_SLA),
    ("no-dispute", EU_LAW, replace(EU, dispute_window=0), NO_DISPUTE_WINDOW),
    ("no-delivery-timeout", EU_LAW, replace(EU, delivery_timeout=0), NO_DELIVERY_TIMEOUT),
    ("no-arbiter-timeout", EU_LAW, replace(EU, arbiter_timeout=0), NO_ARBITER_TIMEOUT),
    (
        "eu-sla-beyond-refund",
        EU_LAW,
        replace(EU, inspection_sla=9 * DAY, dispute_window=5 * DAY + 1),
        SLA_BEYOND_REFUND_DEADLINE,
    ),
    ("cn-sla-beyond-refund", CN_LAW, replace(CN, dispute_window=4 * DAY + 1), SLA_BEYOND_REFUND_DEADLINE),
    ("bonus-without-exchange", EU_LAW, replace(EU, exchange_offered=False), BONUS_WITHOUT_EXCHANGE),
    ("hygiene-not-in-law", US_LAW, EU, HYGIENE_EXEMPTION_NOT_IN_LAW),
    ("hygiene-law-removed", replace(EU_LAW, hygiene_exception=False), EU, HYGIENE_EXEMPTION_NOT_IN_LAW),
    ("relay-delay", EU_LAW, replace(EU, max_relay_delay=MAX_RELAY_DELAY + 1), RELAY_DELAY_TOO_LONG),
]


@pytest.mark.parametrize("law, policy, violation", [c[1:] for c in VIOLATIONS], ids=[c[0] for c in VIOLATIONS])
def test_policy_violation_reverts(policies, admin, law, policy, violation):
    set_law(policies, admin, MARKET_SPARE, law)
    with brownie.reverts(err("ReturnPoliciesInvalidPolicy", violation)):
        policies.setPolicy(MARKET_SPARE, policy.as_tuple(), {"from": admin})
    assert policies.currentPolicyVersion(MARKET_SPARE) == 0


# (id, the market's law, a policy exactly at a limit)
AT_LIMITS = [
    ("split-at-max", EU_LAW, with_terms(EU, 1, GradeTerms(6_000, 4_000, False, UnitDisposition.DONATE))),
    (
        "grade-c-nothing",
        EU_LAW,
        with_terms(EU, 2, GradeTerms(0, 0, False, UnitDisposition.RECYCLE)),
    ),  # the law still pays (test_roles_and_law)
    ("bps-at-max", EU_LAW, replace(EU, exchange_bonus_bps=10_000, max_diminished_bps=10_000)),
    ("eu-sla-fills-refund-days", EU_LAW, replace(EU, inspection_sla=9 * DAY, dispute_window=5 * DAY)),
    ("cn-sla-fills-refund-days", CN_LAW, replace(CN, dispute_window=4 * DAY)),
    ("withdrawal-only", EU_LAW, replace(EU, return_window=0)),  # the law's period only
    (
        "no-law-no-deadline",
        US_LAW,
        replace(US, inspection_sla=30 * DAY, dispute_window=30 * DAY),
    ),  # no statutory refund date to meet
    ("relay-delay-at-max", EU_LAW, replace(EU, max_relay_delay=MAX_RELAY_DELAY)),
    ("no-hygiene-exemption", EU_LAW, replace(EU, hygiene_exempt=False)),  # a merchant may waive the exception
]


@pytest.mark.parametrize("law, policy", [c[1:] for c in AT_LIMITS], ids=[c[0] for c in AT_LIMITS])
def test_policy_at_the_limits_is_accepted(policies, admin, law, policy):
    set_law(policies, admin, MARKET_SPARE, law)
    policies.setPolicy(MARKET_SPARE, policy.as_tuple(), {"from": admin})
    assert Policy.decode(policies.policy(MARKET_SPARE, 1), policies.abi) == policy


def test_policy_is_checked_against_the_law_in_force(policies, admin):
    """The law admin shortens China's refund days: a policy that fitted before is now refused."""
    policies.setPolicy(MARKET_CN, CN.as_tuple(), {"from": admin})  # 3 + 3 days fit in 7
    set_law(policies, admin, MARKET_CN, replace(CN_LAW, refund_days=5))
    with brownie.reverts(err("ReturnPoliciesInvalidPolicy", SLA_BEYOND_REFUND_DEADLINE)):
        policies.setPolicy(MARKET_CN, CN.as_tuple(), {"from": admin})
    assert policies.currentPolicyVersion(MARKET_CN) == 2


# ---------------------------------------------------------------- currencies


def test_native_coin_is_allowed_in_every_preset_market(policies):
    for market in PRESETS:
        assert Currency.decode(policies.currency(market, ZERO_ADDRESS), policies.abi) == NATIVE
    assert Currency.decode(policies.currency(MARKET_SPARE, ZERO_ADDRESS), policies.abi) == Currency(False, 0, 0, 0)


def test_set_currency_per_market(policies, admin, token):
    terms = Currency(True, 6, 2_000_000, 9_000_000)
    tx = policies.setCurrency(MARKET_SPARE, token, terms.as_tuple(), {"from": admin})
    ev = tx.events["CurrencySet"]
    assert (ev["market"], ev["currency"], plain(ev["terms"])) == (MARKET_SPARE, token.address, terms.as_tuple())
    assert Currency.decode(policies.currency(MARKET_SPARE, token), policies.abi) == terms
    assert Currency.decode(policies.currency(MARKET_EU, token), policies.abi) == Currency(
        True, 6, 10**18, 5 * 10**18
    )  # the fixture's, untouched


@pytest.mark.parametrize("who", ["stranger", "arbiter", "brand"])
def test_only_policy_admin_sets_currencies(policies, actors, token, who):
    account = actors[who].account
    with brownie.reverts(err("AccessControlUnauthorizedAccount", account.address, role(policies, "POLICY_ADMIN_ROLE"))):
        policies.setCurrency(MARKET_EU, token, Currency(False, 6, 0, 0).as_tuple(), {"from": account})
    assert policies.currency(MARKET_EU, token)["allowed"] is True


def test_currency_is_native_or_a_contract_with_sane_decimals(policies, admin, actors, token):
    eoa = actors["stranger"].address
    with brownie.reverts(err("ReturnPoliciesInvalidCurrency", eoa)):
        policies.setCurrency(MARKET_EU, eoa, Currency(True, 6, 0, 0).as_tuple(), {"from": admin})
    with brownie.reverts(err("ReturnPoliciesInvalidCurrency", token.address)):
        policies.setCurrency(MARKET_EU, token, Currency(True, 37, 0, 0).as_tuple(), {"from": admin})
    policies.setCurrency(MARKET_EU, token, Currency(True, 36, 0, 0).as_tuple(), {"from": admin})
    assert policies.currency(MARKET_EU, token)["decimals"] == 36


def test_list_refuses_a_currency_the_market_does_not_allow(escrow, policies, commission, admin, actors, token):
    brand = actors["brand"].account
    unit = commission("CUR-1")
    other = ERC20Mock.deploy("Other", "OTH", 0, {"from": admin})  # allowed nowhere
    with brownie.reverts(err("ReturnEscrowCurrencyNotAllowed", MARKET_EU, other.address)):
        escrow.list(GTIN_INT, "CUR-1", MARKET_EU, other, 1_000_000, 0, 0, {"from": brand})
    eoa = actors["stranger"].address  # not a currency at all
    with brownie.reverts(err("ReturnEscrowCurrencyNotAllowed", MARKET_EU, eoa)):
        escrow.list(GTIN_INT, "CUR-1", MARKET_EU, eoa, 1_000_000, 0, 0, {"from": brand})
    # The policy admin stops the token in the EU: new listings in it are refused there, not elsewhere.
    policies.setCurrency(MARKET_EU, token, Currency(False, 6, 0, 0).as_tuple(), {"from": admin})
    with brownie.reverts(err("ReturnEscrowCurrencyNotAllowed", MARKET_EU, token.address)):
        escrow.list(GTIN_INT, "CUR-1", MARKET_EU, token, 1_000_000, 0, 0, {"from": brand})
    escrow.list(GTIN_INT, "CUR-1", MARKET_US, token, 1_000_000, 0, 0, {"from": brand})
    assert (escrow.listing(unit)["market"], escrow.listing(unit)["currency"]) == (MARKET_US, token.address)


# ---------------------------------------------------------------- the Python model mirrors the ABI


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def abi_components(policies, function):
    (entry,) = [e for e in policies.abi if e.get("type") == "function" and e["name"] == function]
    return entry["outputs"][0]["components"]


@pytest.mark.parametrize(
    "function, cls",
    [("law", Law), ("policy", Policy), ("currency", Currency)],
)
def test_dataclass_fields_are_the_abi_struct_components(policies, function, cls):
    components = abi_components(policies, function)
    assert [f.name for f in fields(cls)] == [snake(c["name"]) for c in components]


def test_grade_terms_fields_are_the_abi_struct_components(policies):
    (terms,) = [c for c in abi_components(policies, "policy") if c["name"] == "terms"]
    assert terms["type"] == "tuple[3]"
    assert [f.name for f in fields(GradeTerms)] == [snake(c["name"]) for c in terms["components"]]


# ---------------------------------------------------------------- orders keep their version


def test_order_is_bound_to_the_version_of_its_listing(shop, escrow, policies, admin, actors):
    """Changed rule (issue 9 item 4): the listing records the policy version, and the purchase commits
    to it; a version added between listing and purchase does not apply to that order."""
    unit = shop.list_unit()
    seen = listing_terms(escrow, unit)  # what the buyer's page showed
    policies.setPolicy(MARKET_EU, US.as_tuple(), {"from": admin})
    assert plain(listing_terms(escrow, unit)) == plain(seen)
    assert seen[1] == 1
    total = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
    tx = escrow.purchase(unit, seen, False, {"from": actors["buyer"].account, "value": total})
    assert tx.events["OrderPlaced"]["policyVersion"] == 1
    assert escrow.order(tx.return_value)["policyVersion"] == 1


def test_later_policy_does_not_change_existing_order_settlement(shop, escrow, policies, admin, actors):
    """Version 2 halves grade B and drops the packaging rule; the version 1 order still settles at 80 %."""
    old = shop.buy()
    v2 = replace(with_terms(EU, 1, GradeTerms(5_000, 0, False, UnitDisposition.DONATE)), packaging_required_for_a=False)
    policies.setPolicy(MARKET_EU, v2.as_tuple(), {"from": admin})
    new = shop.buy()
    assert escrow.order(old)["policyVersion"] == 1
    assert escrow.order(new)["policyVersion"] == 2

    # Grade derivation follows each order's own version.
    assert policies.deriveGrade(MARKET_EU, 1, Facts.SEAL_INTACT) == Grade.B
    assert policies.deriveGrade(MARKET_EU, 2, Facts.SEAL_INTACT) == Grade.A

    buyer = actors["buyer"].account
    refunds = []
    for order in (old, new):
        shop.returned(order)
        shop.inspect(order, Facts.PACKAGING_INTACT, Grade.B)  # hygiene seal broken: the grade terms apply
        tx = escrow.acceptInspection(order, {"from": buyer})
        s = tx.events["OrderSettled"]["settlement"]
        assert s["statutory"] is False
        refunds.append(s["refund"])
        shop.assert_solvent()
    assert refunds == [
        DEFAULT_PRICE * 8_000 // 10_000 - DEFAULT_RETURN_FEE,
        DEFAULT_PRICE * 5_000 // 10_000 - DEFAULT_RETURN_FEE,
    ]
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == sum(refunds)


def test_later_policy_does_not_move_existing_windows(shop, escrow, policies, admin):
    """A one-day return window in version 2 does not close an order bought under version 1's 30 days."""
    order = shop.buy()
    shop.deliver(order)
    closes = escrow.returnWindowCloses(order)
    assert closes == escrow.deliveredAt(order) + 30 * DAY
    policies.setPolicy(MARKET_EU, replace(EU, return_window=DAY).as_tuple(), {"from": admin})
    assert escrow.returnWindowCloses(order) == closes
    brownie.chain.sleep(20 * DAY)
    tx = shop.request_return(order)
    assert tx.events["ReturnRequested"]["inWithdrawal"] is False  # past the 14 days, inside the 30
