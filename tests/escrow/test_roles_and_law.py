"""Issue 9: trusted powers on separate keys, legal periods in whole days, and the money attacks
(a purchase that commits to the whole listing, statutory refunds in cash, any ERC-20, points that
cannot be minted), each written as the attacker's steps followed by the victim's fair outcome."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone

import brownie
import pytest
from brownie import ZERO_ADDRESS, ERC20Mock, ReturnEscrow, StorePoints, chain, web3

from returntrace import eip712, gs1
from returntrace.escrow import Facts, Grade, GradeTerms, UnitDisposition
from returntrace.policies import EU, EU_LAW, NATIVE
from returntrace.vocab import HYGIENE_SEALED, BizStep, Disposition, Role
from scripts import deploy
from scripts.builder import Builder, listing_terms, order_ref, rma_ref
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_CN,
    MARKET_EU,
    MARKET_US,
    Remedy,
    Status,
    err,
    next_block_at,
    plain,
)

S, P, U = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED
PRICE, DEL, RET = DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE
TOTAL = PRICE + DEL
REASON, EVIDENCE = b"\x0a" * 32, b"\x0e" * 32
RECYCLE = UnitDisposition.RECYCLE


def pct(bps, of=PRICE):
    return of * bps // 10_000


def role_error(account, role):
    return err(
        "AccessControlUnauthorizedAccount", account.address if hasattr(account, "address") else account, bytes(role)
    )


# ================================================================ (a) separate keys


@pytest.fixture(scope="module")
def separate(admin):
    """The deployment as scripts/deploy.py makes it: each trusted power on its own key."""
    return deploy.deploy_contracts(admin)


def keys(d):
    g = d.gov
    return {
        "admin": g.admin,
        "accreditor": g.accreditor,
        "law_admin": g.law_admin,
        "policy_admin": g.policy_admin,
        "arbiter": g.arbiter,
    }


def test_deployment_gives_each_power_its_own_key(separate, admin):
    d, k = separate, keys(separate)
    assert k["admin"] == admin
    assert len({a.address for a in k.values()}) == 5
    holders = {
        (d.registry, "ACCREDITOR_ROLE"): "accreditor",
        (d.policies, "LAW_ADMIN_ROLE"): "law_admin",
        (d.policies, "POLICY_ADMIN_ROLE"): "policy_admin",
        (d.policies, "ARBITER_ROLE"): "arbiter",
        (d.policies, "DEFAULT_ADMIN_ROLE"): "admin",
        (d.registry, "DEFAULT_ADMIN_ROLE"): "admin",
    }
    for (contract, role), owner in holders.items():
        for name, account in k.items():
            assert contract.hasRole(getattr(contract, role)(), account) is (name == owner), (role, name)
    # The escrow asks the policies for its arbiter: one place holds every trusted role.
    assert d.escrow.ARBITER_ROLE() == d.policies.ARBITER_ROLE()
    assert d.escrow.policies() == d.policies.address
    # The points' admin only set the minter, once; the escrow guards closings and has its desk.
    assert (d.points.admin(), d.points.minter()) == (admin.address, d.escrow.address)
    assert d.registry.closeGuard() == d.escrow.address and d.escrow.reissueDesk() == d.desk.address


def set_surplus(d):
    web3.provider.make_request("anvil_setBalance", [d.escrow.address, hex(12345)])  # coins forced in


# job: (the key whose job it is, the role the others lack, the call, what the owner's call gives)
JOBS = {
    "accredit-an-actor": (
        "accreditor",
        lambda d: (d.registry, "ACCREDITOR_ROLE"),
        lambda d, k: d.registry.setActor(
            k.address, int(Role.CARRIER), int(gs1.with_check_digit("950600000099")), {"from": k}
        ),
        None,
    ),
    "approve-a-product": (
        "accreditor",
        lambda d: (d.registry, "ACCREDITOR_ROLE"),
        lambda d, k: d.registry.approveProduct(GTIN_INT, k.address, {"from": k}),
        None,
    ),
    "record-a-company-prefix": (
        "accreditor",
        lambda d: (d.registry, "ACCREDITOR_ROLE"),
        lambda d, k: d.registry.setCompanyPrefix(9506001, 7, k.address, {"from": k}),
        None,
    ),
    "set-a-law": (
        "law_admin",
        lambda d: (d.policies, "LAW_ADMIN_ROLE"),
        lambda d, k: d.policies.setLaw(MARKET_EU, replace(EU_LAW, withdrawal_days=7).as_tuple(), {"from": k}),
        None,
    ),
    "register-a-holiday": (
        "law_admin",
        lambda d: (d.policies, "LAW_ADMIN_ROLE"),
        lambda d, k: d.policies.setHoliday(MARKET_EU, 20_199, True, {"from": k}),
        None,
    ),
    "set-a-policy": (
        "policy_admin",
        lambda d: (d.policies, "POLICY_ADMIN_ROLE"),
        lambda d, k: d.policies.setPolicy(MARKET_EU, replace(EU, return_window=0).as_tuple(), {"from": k}),
        None,
    ),
    "allow-a-currency": (
        "policy_admin",
        lambda d: (d.policies, "POLICY_ADMIN_ROLE"),
        lambda d, k: d.policies.setCurrency(
            MARKET_EU, ZERO_ADDRESS, replace(NATIVE, allowed=False).as_tuple(), {"from": k}
        ),
        None,
    ),
    # The arbiter passes the role check and finds no such order: the check is the role, not the order.
    "decide-a-dispute": (
        "arbiter",
        lambda d: (d.policies, "ARBITER_ROLE"),
        lambda d, k: d.escrow.resolveDispute(1, S | P, 0, REASON, EVIDENCE, {"from": k}),
        err("ReturnEscrowUnknownOrder", 1),
    ),
    "recover-surplus": (
        "admin",
        lambda d: (d.policies, "DEFAULT_ADMIN_ROLE"),
        lambda d, k: d.escrow.recoverSurplus(ZERO_ADDRESS, k.address, {"from": k}),
        None,
    ),
}


@pytest.mark.parametrize("job", list(JOBS))
def test_each_key_does_only_its_own_job(separate, job):
    """setLaw by the policy admin, setPolicy by the law admin, resolveDispute by the admin, setActor by
    the law admin…: every key but the job's own is refused; the job's own key does it."""
    owner, role_of, call, owner_outcome = JOBS[job]
    contract, role = role_of(separate)
    set_surplus(separate)
    for name, account in keys(separate).items():
        if name == owner:
            continue
        with brownie.reverts(role_error(account, getattr(contract, role)())):
            call(separate, account)
    account = keys(separate)[owner]
    if owner_outcome is None:
        assert call(separate, account).status == 1
    else:
        with brownie.reverts(owner_outcome):
            call(separate, account)


def test_the_accreditor_and_policy_admin_cannot_decide_a_real_dispute(shop, escrow, admin, actors):
    """In the test deployment `admin` holds the accreditor, law-admin and policy-admin roles: still
    not the arbiter's. The buyer disputes before any inspection; only the arbiter decides."""
    order = shop.returned()
    escrow.openDispute(order, {"from": actors["buyer"].account})
    with brownie.reverts(role_error(admin, escrow.ARBITER_ROLE())):
        escrow.resolveDispute(order, S | P, 0, REASON, EVIDENCE, {"from": admin})
    assert escrow.order(order)["status"] == Status.DISPUTED
    tx = escrow.resolveDispute(order, S | P, 0, REASON, EVIDENCE, {"from": actors["arbiter"].account})
    assert tx.events["DisputeResolved"]["arbiter"] == actors["arbiter"].address
    assert tx.events["OrderSettled"]["settlement"]["refund"] == TOTAL


# ================================================================ (b) legal periods

EU_TZ, CN_TZ, US_TZ = timezone(timedelta(hours=-4)), timezone(timedelta(hours=8)), timezone(timedelta(hours=-10))
EPOCH = date(1970, 1, 1)


def at(day, tz, hh=0, mm=0, ss=0):
    """The Unix time of `day` hh:mm:ss in the fixed-offset zone `tz`."""
    return int(datetime.combine(day, time(hh, mm, ss), tz).timestamp())


def last_second(day, tz):
    return at(day, tz, 23, 59, 59)


def day_number(day):
    """Days since 1970-01-01, as setHoliday takes them."""
    return (day - EPOCH).days


MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

# (id, market, start, whole days, the last day the period should end on, its weekday, time zone)
PERIODS = [
    # The day of the event does not count (Reg. 1182/71 Art. 3(1)): the first and the last second of
    # Monday 3 March 2025 start the same 14 days, ending Monday 17 March at 23:59:59 in UTC-4.
    ("eu-start-of-day", MARKET_EU, at(date(2025, 3, 3), EU_TZ), 14, date(2025, 3, 17), MON, EU_TZ),
    ("eu-end-of-day", MARKET_EU, at(date(2025, 3, 3), EU_TZ, 23, 59, 59), 14, date(2025, 3, 17), MON, EU_TZ),
    ("eu-next-day", MARKET_EU, at(date(2025, 3, 4), EU_TZ), 14, date(2025, 3, 18), TUE, EU_TZ),
    # 02:00 UTC on Tuesday is still Monday 22:00 in the Union's latest time zone: Monday counts.
    ("eu-latest-time-zone", MARKET_EU, at(date(2025, 3, 4), UTC, 2), 14, date(2025, 3, 17), MON, EU_TZ),
    # A period ending on a Saturday or a Sunday ends on the Monday (Art. 3(4)).
    ("eu-ends-saturday", MARKET_EU, at(date(2025, 3, 1), EU_TZ, 12), 14, date(2025, 3, 17), MON, EU_TZ),
    ("eu-ends-sunday", MARKET_EU, at(date(2025, 3, 2), EU_TZ, 12), 14, date(2025, 3, 17), MON, EU_TZ),
    # China: UTC+8, 7 days, rest days extend too (Civil Code Art. 201, 203).
    ("cn-ends-saturday", MARKET_CN, at(date(2025, 3, 1), CN_TZ, 10), 7, date(2025, 3, 10), MON, CN_TZ),
    ("cn-ends-sunday", MARKET_CN, at(date(2025, 3, 2), CN_TZ, 10), 7, date(2025, 3, 10), MON, CN_TZ),
    # 17:00 UTC on Sunday 2 March is already Monday 01:00 in Beijing: Monday does not count.
    ("cn-time-zone", MARKET_CN, at(date(2025, 3, 2), UTC, 17), 7, date(2025, 3, 10), MON, CN_TZ),
    # The US law sets no weekend rule: a period ending on a Saturday ends there (UTC-10).
    ("us-no-weekend-rule", MARKET_US, at(date(2025, 3, 1), US_TZ, 12), 7, date(2025, 3, 8), SAT, US_TZ),
]


@pytest.mark.parametrize(
    "market, start, days, last_day, weekday, tz", [c[1:] for c in PERIODS], ids=[c[0] for c in PERIODS]
)
def test_period_end(policies, market, start, days, last_day, weekday, tz):
    assert last_day.weekday() == weekday  # the calendar, checked independently
    assert policies.periodEnd(market, start, days) == last_second(last_day, tz)


def test_period_ending_on_holidays_moves_to_the_next_working_day(policies, admin):
    """Easter 2025 in the EU: 14 days from Friday 4 April end on Good Friday 18 April; with Good Friday
    and Easter Monday registered the period runs over the weekend and ends Tuesday 22 April."""
    start = at(date(2025, 4, 4), EU_TZ, 15)
    assert policies.periodEnd(MARKET_EU, start, 14) == last_second(date(2025, 4, 18), EU_TZ)
    for holiday in (date(2025, 4, 18), date(2025, 4, 21)):
        assert holiday.weekday() in (FRI, MON)
        policies.setHoliday(MARKET_EU, day_number(holiday), True, {"from": admin})
    assert policies.periodEnd(MARKET_EU, start, 14) == last_second(date(2025, 4, 22), EU_TZ)
    # A period ending on the Monday holiday moves to Tuesday too.
    assert policies.periodEnd(MARKET_EU, at(date(2025, 4, 7), EU_TZ), 14) == last_second(date(2025, 4, 22), EU_TZ)
    # Holidays inside a period count as days (Art. 3(3)): Thursday 10 April + 14 is Thursday 24 April.
    assert policies.periodEnd(MARKET_EU, at(date(2025, 4, 10), EU_TZ), 14) == last_second(date(2025, 4, 24), EU_TZ)
    # Holidays are the market's own; removing one restores the end.
    assert policies.periodEnd(MARKET_CN, at(date(2025, 4, 11), CN_TZ), 7) == last_second(date(2025, 4, 18), CN_TZ)
    policies.setHoliday(MARKET_EU, day_number(date(2025, 4, 21)), False, {"from": admin})
    assert policies.periodEnd(MARKET_EU, start, 14) == last_second(date(2025, 4, 21), EU_TZ)


def test_cn_period_runs_over_the_national_day_week(policies, admin):
    """Civil Code Art. 203: 7 days from Friday 26 September 2025 end Friday 3 October, inside the
    1-7 October holidays: the period ends on Wednesday 8 October, the first working day after."""
    start = at(date(2025, 9, 26), CN_TZ, 9)
    assert policies.periodEnd(MARKET_CN, start, 7) == last_second(date(2025, 10, 3), CN_TZ)
    for n in range(1, 8):
        policies.setHoliday(MARKET_CN, day_number(date(2025, 10, n)), True, {"from": admin})
    assert date(2025, 10, 8).weekday() == WED
    assert policies.periodEnd(MARKET_CN, start, 7) == last_second(date(2025, 10, 8), CN_TZ)


def test_eu_withdrawal_of_an_order_delivered_on_a_friday_evening(
    shop, escrow, registry, policies, event, sign_events, relayer
):
    """Delivered on a Friday at 21:00 in the Union's latest time zone (already Saturday in UTC): the
    14 days start on Saturday and end on the Friday two weeks later at 23:59:59 local time. A request
    in that second is a withdrawal; one a second later is a voluntary return."""
    now = datetime.fromtimestamp(chain.time(), EU_TZ).date()
    friday = now + timedelta(days=7 + (FRI - now.weekday()) % 7)
    assert friday.weekday() == FRI
    delivered = at(friday, EU_TZ, 21)
    assert datetime.fromtimestamp(delivered, UTC).weekday() == SAT
    last_day = friday + timedelta(days=14)
    assert last_day.weekday() == FRI  # a working day: nothing moves it (no EU holiday registered)
    end = last_second(last_day, EU_TZ)

    first, second = shop.buy(), shop.buy()
    next_block_at(delivered)  # both delivered in one carrier batch, at the same second
    events = [
        event(
            shop.unit(o),
            BizStep.DELIVERING,
            "carrier",
            Disposition.DELIVERED,
            eventTime=delivered,
            bizTransaction=order_ref(escrow, o),
        )
        for o in (first, second)
    ]
    # The deadline from `delivered`, not brownie's clock: a resync of that clock after the purchases
    # (in brownie's background thread) may undo next_block_at's move and date the signature a week early.
    message, sig = sign_events("carrier", events, deadline=delivered + 3600)
    registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    assert escrow.deliveredAt(first) == escrow.deliveredAt(second) == delivered

    assert policies.periodEnd(MARKET_EU, delivered, 14) == end
    assert escrow.returnWindowCloses(first) == delivered + 30 * DAY  # the voluntary 30 days are longer

    next_block_at(end)
    tx = shop.request_return(first)
    assert (tx.timestamp, tx.events["ReturnRequested"]["inWithdrawal"]) == (end, True)
    next_block_at(end + 1)
    tx = shop.request_return(second)
    assert (tx.timestamp, tx.events["ReturnRequested"]["inWithdrawal"]) == (end + 1, False)
    assert (escrow.order(first)["inWithdrawal"], escrow.order(second)["inWithdrawal"]) == (True, False)


# ================================================================ (c) the purchase commits to the whole listing

# Same total (1.05 coin), another deal: (id, market, price, delivery fee, return fee)
RELISTINGS = [
    ("another-market", MARKET_US, PRICE, DEL, RET),  # no statutory right in the US
    ("price-delivery-split", MARKET_EU, 5 * 10**16, PRICE, RET),  # a refund of the "price" is now 5 %
    ("issue-example", MARKET_US, 5 * 10**16, PRICE, 3 * 10**16),  # EU 1 + 0.05 relisted as US 0.05 + 1
    ("return-fee", MARKET_EU, PRICE, DEL, 30 * 10**16),  # ten times the return shipping
]


@pytest.mark.parametrize("market, price, fee, ret", [c[1:] for c in RELISTINGS], ids=[c[0] for c in RELISTINGS])
def test_merchant_relisting_in_front_of_the_purchase_cannot_take_it(shop, escrow, actors, market, price, fee, ret):
    unit = shop.list_unit(serial="BAIT-1")
    seen = listing_terms(escrow, unit)  # the terms on the buyer's page
    buyer, brand = actors["buyer"].account, actors["brand"].account
    before = web3.eth.get_balance(buyer.address)  # gas is free on this chain: balances compare exactly

    # The attack: the merchant relists with the same total just before the buyer's purchase lands.
    escrow.list(GTIN_INT, "BAIT-1", market, ZERO_ADDRESS, price, fee, ret, {"from": brand})
    assert price + fee == TOTAL
    with brownie.reverts(err("ReturnEscrowListingChanged", unit)):
        escrow.purchase(unit, seen, False, {"from": buyer, "value": TOTAL})

    # The buyer keeps the money and owes nothing: no order, nothing escrowed.
    assert web3.eth.get_balance(buyer.address) == before
    assert escrow.orderCount() == 0 and escrow.totalOwed(ZERO_ADDRESS) == 0
    shop.assert_solvent()


def test_merchant_relisting_in_another_currency_cannot_take_it(shop, escrow, deployment, token, admin, actors):
    """The buyer has standing allowances for two stablecoins; the merchant relists in the other one
    with the same figures. The purchase reverts and neither balance moves."""
    other = ERC20Mock.deploy("Other USD", "oUSD", 0, {"from": admin})
    deploy.allow_currency(deployment, other, 6)
    buyer, brand = actors["buyer"].account, actors["brand"].account
    other.mint(buyer, 10**12, {"from": admin})
    for t in (token, other):
        t.approve(escrow, 10**12, {"from": buyer})
    unit = shop.list_unit(
        serial="BAIT-2", currency=token.address, price=1_000_000, delivery_fee=50_000, return_fee=30_000
    )
    seen = listing_terms(escrow, unit)
    balances = (token.balanceOf(buyer), other.balanceOf(buyer))

    escrow.list(GTIN_INT, "BAIT-2", MARKET_EU, other, 1_000_000, 50_000, 30_000, {"from": brand})
    with brownie.reverts(err("ReturnEscrowListingChanged", unit)):
        escrow.purchase(unit, seen, False, {"from": buyer})
    assert (token.balanceOf(buyer), other.balanceOf(buyer)) == balances
    assert escrow.orderCount() == 0
    shop.assert_solvent(token, other)


def test_merchant_relisting_under_a_new_policy_version_cannot_take_it(shop, escrow, policies, admin, actors):
    """A worse policy version appears (grade B pays 10 %); the merchant relists to put the unit under it."""
    unit = shop.list_unit(serial="BAIT-3")
    seen = listing_terms(escrow, unit)
    policies.setPolicy(
        MARKET_EU,
        replace(EU, terms=(EU.terms[0], GradeTerms(1_000, 0, False, UnitDisposition.DONATE), EU.terms[2])).as_tuple(),
        {"from": admin},
    )
    escrow.list(GTIN_INT, "BAIT-3", MARKET_EU, ZERO_ADDRESS, PRICE, DEL, RET, {"from": actors["brand"].account})
    assert escrow.listing(unit)["policyVersion"] == 2
    with brownie.reverts(err("ReturnEscrowListingChanged", unit)):
        escrow.purchase(unit, seen, False, {"from": actors["buyer"].account, "value": TOTAL})
    assert escrow.orderCount() == 0


def test_policy_version_added_after_listing_does_not_change_the_listing(shop, escrow, policies, admin, actors):
    """The unit listed under version 1 stays under it: the buyer's purchase goes through and an opened
    hygiene-sealed unit is refunded by version 1's 80 %, not version 2's 10 %."""
    unit = shop.list_unit()
    seen = listing_terms(escrow, unit)
    policies.setPolicy(
        MARKET_EU,
        replace(EU, terms=(EU.terms[0], GradeTerms(1_000, 0, False, UnitDisposition.DONATE), EU.terms[2])).as_tuple(),
        {"from": admin},
    )
    assert plain(listing_terms(escrow, unit)) == plain(seen)
    order = escrow.purchase(unit, seen, False, {"from": actors["buyer"].account, "value": TOTAL}).return_value
    assert escrow.order(order)["policyVersion"] == 1
    shop.returned(order)
    shop.inspect(order, P, Grade.B)  # seal broken: the hygiene exception, so the grade terms
    s = escrow.acceptInspection(order, {"from": actors["buyer"].account}).events["OrderSettled"]["settlement"]
    assert (s["statutory"], s["refund"]) == (False, pct(8_000) - RET)


def test_reviewed_class_flags_apply_to_later_orders_only(shop, escrow, registry, admin, actors, plain_gtin):
    """The accreditor reviews a cleanable product as hygiene-sealed. The order placed before keeps the
    terms it was sold under; a purchase still pending on a listing of the old class reverts (the buyer
    was not told of the exception) until the merchant relists under the reviewed flags."""
    sold = shop.list_unit(serial="FLAG-1", gtin=plain_gtin)
    pending = shop.list_unit(serial="FLAG-2", gtin=plain_gtin)
    order = escrow.purchase(
        sold, listing_terms(escrow, sold), False, {"from": actors["buyer"].account, "value": TOTAL}
    ).return_value
    seen = listing_terms(escrow, pending)
    registry.reviewClassFlags(plain_gtin, HYGIENE_SEALED, "sealed teats", {"from": admin})
    assert escrow.order(order)["hygieneSealed"] is False
    with brownie.reverts(err("ReturnEscrowListingChanged", pending)):
        escrow.purchase(pending, seen, False, {"from": actors["buyer2"].account, "value": TOTAL})
    escrow.list(plain_gtin, "FLAG-2", MARKET_EU, ZERO_ADDRESS, PRICE, DEL, RET, {"from": actors["brand"].account})
    terms = listing_terms(escrow, pending)
    assert terms[6] == HYGIENE_SEALED
    second = escrow.purchase(pending, terms, False, {"from": actors["buyer2"].account, "value": TOTAL}).return_value
    assert escrow.order(second)["hygieneSealed"] is True


@pytest.mark.parametrize(
    "confirms, statutory, refund",
    [(False, True, PRICE - RET), (True, False, pct(8_000) - RET)],
    ids=["not-confirmed", "confirmed"],
)
def test_cn_hygiene_exception_needs_the_buyers_confirmation(shop, escrow, actors, confirms, statutory, refund):
    """China (CRPL Art. 25): goods unsuitable for return by nature are excluded only if the buyer
    confirmed it at purchase. A sealed unit returned opened (unused) within the 7 days is refunded by
    the statutory rule (price less the return shipping) unless the buyer confirmed; then by the grade terms."""
    order = shop.buy(market=MARKET_CN, confirms=confirms)
    assert escrow.order(order)["exceptionConfirmed"] is confirms
    shop.returned(order)
    assert escrow.order(order)["inWithdrawal"] is True
    shop.inspect(order, P, Grade.B)  # seal broken, unused
    s = escrow.acceptInspection(order, {"from": actors["buyer"].account}).events["OrderSettled"]["settlement"]
    assert (s["statutory"], s["refund"], s["points"]) == (statutory, refund, 0)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == refund
    shop.assert_solvent()


# ================================================================ (d) statutory refunds are paid in cash


def return_used(shop, escrow, actors, order, diminished):
    """The buyer sends the unit back within the period; the inspector attests it used with a diminished
    value; the buyer accepts. Returns the settlement."""
    shop.returned(order)
    shop.inspect(order, U, Grade.C, diminishedValue=diminished)
    return escrow.acceptInspection(order, {"from": actors["buyer"].account}).events["OrderSettled"]["settlement"]


@pytest.mark.parametrize(
    "attested, deducted", [(pct(1_000), pct(1_000)), (PRICE, pct(3_000))], ids=["within-cap", "whole-price-capped"]
)
def test_eu_used_stroller_is_refunded_in_cash(shop, escrow, points, actors, plain_gtin, attested, deducted):
    """Attack 6: under the EU preset a used stroller (no hygiene seal) returned within 14 days was paid
    delivery − return fee in cash and 30 % of the price in points. Now the merchant's inspector may
    attest a diminished value (even the whole price): the buyer is refunded price + delivery − the
    diminished value, capped at 30 %, − return shipping, in cash; the 30 % points come on top."""
    buyer, brand = actors["buyer"].address, actors["brand"].address
    order = shop.buy(gtin=plain_gtin)
    s = return_used(shop, escrow, actors, order, attested)
    refund = PRICE + DEL - deducted - RET
    assert (s["statutory"], s["refund"], s["diminished"], s["shippingDeducted"], s["voucher"]) == (
        True,
        refund,
        deducted,
        RET,
        0,
    )
    assert s["points"] == pct(3_000)  # on top, never instead
    assert escrow.credits(ZERO_ADDRESS, buyer) == refund
    assert escrow.credits(ZERO_ADDRESS, brand) == deducted + RET
    assert points.pointsOf(buyer, brand, ZERO_ADDRESS) == pct(3_000)
    shop.assert_solvent()


def test_cn_used_unit_is_refunded_by_the_grade_terms(shop, escrow, points, actors, plain_gtin):
    """China: a used unit is not in good condition: no statutory right; the policy's grade C (points)."""
    buyer, brand = actors["buyer"].address, actors["brand"].address
    order = shop.buy(market=MARKET_CN, gtin=plain_gtin)
    s = return_used(shop, escrow, actors, order, pct(1_000))
    assert (s["statutory"], s["refund"], s["points"], s["diminished"]) == (False, 0, pct(3_000), 0)
    assert escrow.credits(ZERO_ADDRESS, buyer) == 0
    assert points.pointsOf(buyer, brand, ZERO_ADDRESS) == pct(3_000)
    shop.assert_solvent()


def test_grade_c_paying_nothing_still_pays_the_eu_statutory_cash(
    shop, escrow, policies, points, admin, actors, plain_gtin
):
    """Attack 6: the policy admin sets grade C to 0 % cash and 0 % points (a valid policy: returns
    outside the law may pay nothing). A used stroller returned within the 14 days is still refunded by
    the law, in cash."""
    nothing = replace(EU, terms=(EU.terms[0], EU.terms[1], GradeTerms(0, 0, False, RECYCLE)))
    policies.setPolicy(MARKET_EU, nothing.as_tuple(), {"from": admin})
    order = shop.buy(gtin=plain_gtin)
    assert escrow.order(order)["policyVersion"] == 2
    s = return_used(shop, escrow, actors, order, pct(2_000))
    refund = PRICE + DEL - pct(2_000) - RET
    assert (s["statutory"], s["refund"], s["points"], s["merchantAmount"]) == (True, refund, 0, pct(2_000) + RET)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == refund
    assert points.pointsOf(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS) == 0
    shop.assert_solvent()


def test_exchange_voucher_only_when_the_buyer_chose_it(shop, escrow, points, actors):
    """A voucher replaces the cash only at the buyer's express choice (Art. 13(1)): the refund then
    becomes store points worth it plus the 5 % bonus, and the merchant keeps the cash."""
    buyer, brand = actors["buyer"], actors["brand"]
    cash = shop.buy()
    chosen = shop.buy()
    for order, remedy in ((cash, Remedy.REFUND), (chosen, Remedy.EXCHANGE)):
        shop.deliver(order)
        shop.request_return(order, remedy=remedy)
        shop.receive(order)
    a = shop.inspect(cash, S | P, Grade.A).events["OrderSettled"]["settlement"]
    b = shop.inspect(chosen, S | P, Grade.A).events["OrderSettled"]["settlement"]
    assert (a["refund"], a["voucher"], a["points"]) == (TOTAL, 0, 0)
    assert (b["refund"], b["voucher"], b["bonus"], b["points"], b["merchantAmount"]) == (
        0,
        TOTAL + pct(500, TOTAL),
        pct(500, TOTAL),
        TOTAL + pct(500, TOTAL),
        TOTAL,
    )
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, brand.address) == TOTAL
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == TOTAL + pct(500, TOTAL)
    shop.assert_solvent()


def test_buyer_switches_back_to_cash_before_the_refund_is_paid(shop, escrow, points, actors):
    """The exchange stays revocable until the refund is paid: the buyer chose the voucher, the unit
    was inspected (grade B, awaiting acceptance), the buyer switches to cash and is paid cash."""
    buyer, brand = actors["buyer"], actors["brand"]
    order = shop.buy()
    shop.deliver(order)
    shop.request_return(order, remedy=Remedy.EXCHANGE)
    shop.receive(order)
    shop.inspect(order, S, Grade.B)  # seal intact, packaging opened: statutory grade B
    tx = escrow.chooseRemedy(order, Remedy.REFUND, {"from": buyer.account})
    assert tx.events["RemedyChosen"]["remedy"] == Remedy.REFUND
    with brownie.reverts(err("ReturnEscrowNotBuyer", order, brand.address)):
        escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": brand.account})  # only the buyer chooses
    s = escrow.acceptInspection(order, {"from": buyer.account}).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["voucher"], s["points"]) == (TOTAL - RET, 0, 0)
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0
    # Once paid, the choice is final.
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": buyer.account})


def test_a_refund_that_a_timeout_pays_is_cash_whatever_the_remedy(shop, escrow, points, actors):
    """The buyer chose the exchange voucher; the carrier picked the return up and lost it. The
    merchant would rather pay in its own points: the refund the timeout makes due is cash (EU Art.
    13(1): another means only by agreement, and the buyer agreed to a voucher for a return that runs
    its course, not to one that never arrived)."""
    buyer, brand = actors["buyer"], actors["brand"]
    order = shop.buy()
    shop.deliver(order)
    shop.request_return(order, remedy=Remedy.EXCHANGE)
    shop.builder.scan(
        shop.unit(order), BizStep.ACCEPTING, "carrier", Disposition.RETURNED, bizTransaction=rma_ref(escrow, order)
    )
    chain.sleep(EU.delivery_timeout + EU.max_relay_delay + 1)
    chain.mine()
    s = escrow.claimDispatchedRefund(order, {"from": buyer.account}).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["voucher"], s["points"]) == (
        TOTAL,
        0,
        0,
    )  # as a sealed grade A: price and delivery (A's terms pay the shipping)
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0


def test_the_arbiters_silence_pays_cash_whatever_the_remedy(shop, escrow, points, actors):
    """The buyer chose the voucher and contested a grade B; the arbiter never decides. The facts
    decide when its time runs out, and that refund is cash."""
    buyer, brand = actors["buyer"], actors["brand"]
    order = shop.buy()
    shop.deliver(order)
    shop.request_return(order, remedy=Remedy.EXCHANGE)
    shop.receive(order)
    shop.inspect(order, S, Grade.B)  # seal intact, packaging opened: statutory grade B
    escrow.contest(order, {"from": buyer.account})
    chain.sleep(EU.arbiter_timeout + 1)
    chain.mine()
    s = escrow.settleLapsedDispute(order, {"from": brand.account}).events["OrderSettled"]["settlement"]
    assert (s["refund"], s["voucher"], s["points"]) == (TOTAL - RET, 0, 0)
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0


def test_no_voucher_where_the_policy_offers_no_exchange(shop, escrow, actors):
    order = shop.buy(market=MARKET_CN)
    shop.deliver(order)
    with brownie.reverts(err("ReturnEscrowExchangeNotOffered", order)):
        shop.request_return(order, remedy=Remedy.EXCHANGE)
    shop.request_return(order)
    with brownie.reverts(err("ReturnEscrowExchangeNotOffered", order)):
        escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": actors["buyer"].account})


# ================================================================ (e) any ERC-20


def test_merchant_cannot_list_in_a_token_of_its_own(shop, escrow, commission, actors):
    """Attack 11: the merchant lists in a token it controls (it could pause it, blacklist the buyer or
    rebase it). The market never allowed it: the listing is refused."""
    brand = actors["brand"].account
    own = ERC20Mock.deploy("Merchant Coin", "MC", 0, {"from": brand})
    unit = commission("COIN-1")
    with brownie.reverts(err("ReturnEscrowCurrencyNotAllowed", MARKET_EU, own.address)):
        escrow.list(GTIN_INT, "COIN-1", MARKET_EU, own, 1_000_000, 0, 0, {"from": brand})
    assert escrow.listing(unit)["merchant"] == ZERO_ADDRESS


def test_credits_stay_isolated_per_currency(shop, escrow, points, token, actors):
    """A native-coin order and a token order, both settled: each credit, each debt and each point
    balance stays in its own currency, and a withdrawal in one never touches the other."""
    buyer, brand = actors["buyer"], actors["brand"]
    native = shop.returned(market=MARKET_US)
    stable = shop.returned(market=MARKET_US, token=token, price=1_000_000, delivery_fee=50_000, return_fee=30_000)
    for order in (native, stable):
        shop.inspect(order, U, Grade.C)  # US grade C: no cash, 50 % in points
        escrow.acceptInspection(order, {"from": buyer.account})
    assert escrow.credits(ZERO_ADDRESS, brand.address) == TOTAL and escrow.credits(token, brand.address) == 1_050_000
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == pct(5_000)
    assert points.pointsOf(buyer.address, brand.address, token) == 500_000
    shop.assert_solvent(token)

    escrow.withdraw(token, {"from": brand.account})
    assert escrow.credits(token, brand.address) == 0 and escrow.totalOwed(token) == 0 == token.balanceOf(escrow)
    assert escrow.credits(ZERO_ADDRESS, brand.address) == TOTAL == escrow.totalOwed(ZERO_ADDRESS)
    shop.assert_solvent(token)


def test_buyer_who_cannot_receive_withdraws_to_another_address(shop, escrow, admin, actors):
    """A buyer whose own address can no longer receive the currency (blacklisted by a stablecoin; here
    an address that refuses the native coin) names another recipient: nothing stays locked."""
    buyer = actors["buyer"]
    order = shop.returned()
    shop.inspect(order, S | P, Grade.A)
    # The buyer's address now refuses coins: it carries code with no receive function.
    refusing = ERC20Mock.deploy("Refuses", "REF", 0, {"from": admin})
    web3.provider.make_request("anvil_setCode", [buyer.address, web3.eth.get_code(refusing.address).hex()])
    with brownie.reverts(err("ReturnEscrowNativeTransferFailed", buyer.address, TOTAL)):
        escrow.withdraw(ZERO_ADDRESS, {"from": buyer.account})
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL  # nothing lost

    to = actors["buyer2"].address  # another wallet of the buyer's
    before = web3.eth.get_balance(to)
    tx = escrow.withdrawTo(ZERO_ADDRESS, to, {"from": buyer.account})
    assert (tx.events["Withdrawn"]["account"], tx.events["Withdrawn"]["to"], tx.events["Withdrawn"]["amount"]) == (
        buyer.address,
        to,
        TOTAL,
    )
    assert web3.eth.get_balance(to) == before + TOTAL
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0
    shop.assert_solvent()


# ================================================================ (f) points: one minter, and cash when they cannot be
# minted


def test_points_have_one_minter_set_once(points, escrow, admin, actors):
    with brownie.reverts(err("StorePointsMinterSet", escrow.address)):
        points.setMinter(admin, {"from": admin})
    for account in (admin, actors["brand"].account, actors["arbiter"].account):
        with brownie.reverts(err("StorePointsNotMinter", account.address)):
            points.mint(account.address, actors["brand"].address, ZERO_ADDRESS, 1, {"from": account})
    assert points.minter() == escrow.address


@pytest.fixture
def unmintable(deployment, relayer, admin, shop):
    """A Shop on a second escrow whose points contract never made it the minter (every mint reverts)."""
    dead_points = StorePoints.deploy(admin, "u", {"from": admin})
    second = ReturnEscrow.deploy(deployment.registry, dead_points, deployment.policies, {"from": admin})
    return type(shop)(Builder(replace(deployment, escrow=second, points=dead_points), relayer))


def test_settlement_that_cannot_mint_pays_cash(unmintable, actors):
    """The points contract refuses the escrow's mint: the grade-C settlement is not locked; the points'
    value is paid in cash out of the merchant's share, and the escrow still holds exactly what it owes."""
    escrow, buyer, brand = unmintable.d.escrow, actors["buyer"], actors["brand"]
    order = unmintable.returned(market=MARKET_US)
    unmintable.inspect(order, U, Grade.C)
    tx = escrow.acceptInspection(order, {"from": buyer.account})
    s = tx.events["OrderSettled"]["settlement"]
    assert (s["refund"], s["points"], s["merchantAmount"]) == (0, pct(5_000), TOTAL)
    assert (tx.events["PointsPaidInCash"]["orderId"], tx.events["PointsPaidInCash"]["amount"]) == (order, pct(5_000))
    assert escrow.order(order)["status"] == Status.SETTLED
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == pct(5_000)
    assert escrow.credits(ZERO_ADDRESS, brand.address) == TOTAL - pct(5_000)
    assert unmintable.d.points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0
    assert web3.eth.get_balance(escrow.address) == escrow.totalOwed(ZERO_ADDRESS) == TOTAL
    unmintable.assert_solvent()


def test_unmintable_points_are_paid_at_most_from_the_merchants_share(unmintable, actors, plain_gtin):
    """An EU statutory return of a used unit with no diminished value leaves the merchant only the return
    shipping; the 30 % points cannot be minted: the buyer gets that share too, and no coin is created."""
    escrow, buyer, brand = unmintable.d.escrow, actors["buyer"], actors["brand"]
    order = unmintable.returned(gtin=plain_gtin)
    unmintable.inspect(order, U, Grade.C)
    tx = escrow.acceptInspection(order, {"from": buyer.account})
    s = tx.events["OrderSettled"]["settlement"]
    assert (s["statutory"], s["refund"], s["merchantAmount"], s["points"]) == (True, TOTAL - RET, RET, pct(3_000))
    assert tx.events["PointsPaidInCash"]["amount"] == RET
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, brand.address) == 0
    assert web3.eth.get_balance(escrow.address) == escrow.totalOwed(ZERO_ADDRESS) == TOTAL
