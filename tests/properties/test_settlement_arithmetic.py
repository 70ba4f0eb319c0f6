"""Settlement arithmetic as properties.

`tests/properties/model.py` re-derives the split from ReturnEscrow's NatSpec (contract doc
"Settlement arithmetic", IReturnEscrow.quote/deriveGrade) without looking at `_settlement`; hypothesis
then draws policies (dedicated markets 5-10, so any grade terms), prices, fees, product classes,
inspection facts and request timing, and the contract must agree with the model to the wei:

- quote(orderId, grade) for every grade, at every stage of an order (active before and after
  delivery, return requested, inspected with any facts), equals the model;
- every quote and every settlement conserves money: refund + merchantAmount == price + deliveryFee,
  refund <= price + deliveryFee, points == floor(price * pointsBps / 10^4) unless the law
  overrides the A/B terms (then 0), points <= price;
- settling on-chain (arbiter, matching inspection, acceptance, dispute-window expiry, both
  timeouts; native coin and ERC-20) credits exactly the quoted amounts, mints exactly the quoted
  points, and withdrawals empty the escrow to the wei.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import brownie
from brownie import ZERO_ADDRESS, chain, web3
from brownie.test import given, strategy
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.core import given as hypothesis_given  # chain-free test: no per-example chain revert

from returntrace.policies import DAY, Facts, Grade, GradeTerms, Policy, UnitDisposition
from tests.properties.conftest import GTIN_PLAIN, GTIN_SEALED, PRODUCT_CLASSES, PROPERTY_MARKETS
from tests.properties.model import BPS, Split, Status, assert_conserves, model_grade, model_settlement, timeout_split
from tests.support import err

UINT96_MAX = 2**96 - 1
MARGIN = DAY  # sleeps land a day away from any window edge

# ---------------------------------------------------------------------------------------------
# Strategies.

bps = st.one_of(st.sampled_from([0, 1, 2_500, 5_000, 7_999, 9_999, 10_000]), st.integers(0, BPS))


@st.composite
def grade_terms(draw) -> GradeTerms:
    refund = draw(bps)
    points = draw(st.one_of(st.just(BPS - refund), st.just(0), st.integers(0, BPS - refund)))
    return GradeTerms(refund, points, draw(st.booleans()), draw(st.sampled_from(list(UnitDisposition))))


@st.composite
def policies(draw) -> Policy:
    withdrawal = draw(st.sampled_from([0, 7 * DAY, 14 * DAY]))
    ret = draw(st.sampled_from([7 * DAY, 30 * DAY] if withdrawal == 0 else [0, 7 * DAY, 30 * DAY]))
    sla = draw(st.sampled_from([1 * DAY, 3 * DAY, 5 * DAY]))
    dispute = draw(st.sampled_from([1 * DAY, 3 * DAY, 7 * DAY]))
    deadline = sla + dispute + draw(st.sampled_from([0, DAY, 7 * DAY])) if withdrawal else draw(st.sampled_from([0, 14 * DAY]))
    return Policy(
        withdrawal_window=withdrawal,
        return_window=ret,
        refund_deadline=deadline,
        inspection_sla=sla,
        dispute_window=dispute,
        delivery_timeout=30 * DAY,
        refunds_delivery_on_withdrawal=draw(st.booleans()),
        hygiene_exempt=draw(st.booleans()),
        packaging_required_for_a=draw(st.booleans()),
        terms=(draw(grade_terms()), draw(grade_terms()), draw(grade_terms())),
    )


def amounts(max_price: int = UINT96_MAX, max_fee: int = UINT96_MAX):
    """(price, delivery fee, return shipping fee <= price), edges included."""

    @st.composite
    def _amounts(draw):
        price = draw(st.one_of(st.sampled_from([0, 1, 9_999, 10_000, 10_001, max_price]), strategy("uint96", max_value=max_price)))
        fee = draw(st.one_of(st.sampled_from([0, 1, max_fee]), strategy("uint96", max_value=max_fee)))
        ship = draw(st.one_of(st.sampled_from([0, price]), st.integers(0, price)))
        return price, fee, ship

    return _amounts()


facts_st = strategy("uint8", max_value=15)
grades = st.sampled_from([Grade.A, Grade.B, Grade.C])
markets = st.sampled_from(PROPERTY_MARKETS)
gtins = st.sampled_from([GTIN_SEALED, GTIN_PLAIN])


# ---------------------------------------------------------------------------------------------
# Helpers driving one order.


@dataclass
class Scenario:
    order: int
    policy: Policy
    price: int
    fee: int
    ship: int
    sealed: bool
    currency: str
    buyer: object
    merchant: object

    def model(self, grade: int, *, in_window: bool, facts: int = 0) -> Split:
        return model_settlement(self.policy, grade, price=self.price, fee=self.fee, ship=self.ship, in_withdrawal_window=in_window, hygiene_sealed=self.sealed, facts=facts)


def buy(lab, ops, actors, token, market, policy, gtin, price, fee, ship, native=False) -> Scenario:
    escrow = lab.escrow
    escrow.setPolicy(market, policy.as_tuple(), {"from": brownie.accounts[0]})
    brand_name, sealed = PRODUCT_CLASSES[gtin]
    merchant = actors[brand_name].account
    serial = ops.next_serial("Q")
    unit, _ = ops.commission(gtin, serial)
    currency = ZERO_ADDRESS if native else token.address
    escrow.list(gtin, serial, market, currency, price, fee, ship, {"from": merchant})
    buyer = actors["buyer"].account
    tx = escrow.purchase(unit, price + fee, {"from": buyer, "value": price + fee if native else 0})
    return Scenario(tx.return_value, policy, price, fee, ship, sealed, currency, buyer, merchant)


def quotes_match(escrow, sc: Scenario, *, in_window: bool, facts: int = 0) -> None:
    for g in (Grade.A, Grade.B, Grade.C):
        got = Split.of(escrow.quote(sc.order, g))
        assert got == sc.model(g, in_window=in_window, facts=facts), f"grade {g.name}"
        assert_conserves(got, sc.price, sc.fee, sc.policy, g)


def deliver_and_request(ops, escrow, sc: Scenario, late: bool) -> bool:
    """Delivers, optionally waits past the withdrawal window (when a voluntary window outlasts it),
    requests the return; returns whether the request fell inside the withdrawal window."""
    p = sc.policy
    ops.deliver(sc.order)
    late = late and p.return_window > p.withdrawal_window
    if late:
        chain.sleep(p.withdrawal_window + MARGIN)
        chain.mine()
    in_window = p.withdrawal_window != 0 and not late
    quotes_match(escrow, sc, in_window=in_window)  # Active: as if requested now
    tx = escrow.requestReturn(sc.order, 0, 0, {"from": sc.buyer})
    assert tx.events["ReturnRequested"]["statutory"] == in_window
    return in_window


# ---------------------------------------------------------------------------------------------
# Properties.


def chain_settings(max_examples: int) -> settings:
    """Bounded examples, no per-example deadline (each example sends several transactions)."""
    return settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@chain_settings(75)
@given(market=markets, policy=policies(), gtin=gtins, money=amounts(), late=st.booleans(), facts=facts_st, settle_grade=grades)
def test_quote_matches_model_at_every_stage(lab, ops, actors, token, market, policy, gtin, money, late, facts, settle_grade):
    """quote() == model for all grades: active (undelivered, delivered), requested (no facts
    yet), disputed with any attested facts; then the arbiter's settlement pays the quote."""
    escrow = lab.escrow
    price, fee, ship = money
    sc = buy(lab, ops, actors, token, market, policy, gtin, price, fee, ship)

    # Undelivered: the withdrawal window has not started, so a market that has one quotes statutory.
    quotes_match(escrow, sc, in_window=policy.withdrawal_window != 0)
    in_window = deliver_and_request(ops, escrow, sc, late)
    quotes_match(escrow, sc, in_window=in_window)  # requested, nothing attested: seal taken as broken

    # A deliberately mismatching attestation stores the facts and parks the order in dispute.
    ops.receive(sc.order)
    derived = model_grade(policy, facts)
    assert escrow.deriveGrade(sc.order, facts) == derived
    claimed = Grade.B if derived != Grade.B else Grade.C
    tx = ops.inspect(sc.order, facts, claimed)
    assert tx.events["InspectionSubmitted"]["derivedGrade"] == derived
    assert escrow.order(sc.order)[2] == Status.DISPUTED
    quotes_match(escrow, sc, in_window=in_window, facts=facts)

    expected = sc.model(settle_grade, in_window=in_window, facts=facts)
    tx = escrow.resolveDispute(sc.order, settle_grade, {"from": actors["arbiter"].account})
    assert Split.of(tx.events["OrderSettled"]) == expected
    assert escrow.credits(sc.currency, sc.buyer) == expected.refund
    assert escrow.credits(sc.currency, sc.merchant) == expected.merchant_amount
    assert lab.points.pointsOf(sc.buyer, sc.merchant) == expected.points


PATHS = ["arbiter", "match_accept", "match_finalize", "uninspected_timeout", "overdue_timeout"]


@chain_settings(50)
@given(
    native=st.booleans(),
    market=markets,
    policy=policies(),
    gtin=gtins,
    token_money=amounts(),
    native_money=amounts(max_price=50 * 10**18, max_fee=5 * 10**18),
    late=st.booleans(),
    facts=facts_st,
    path=st.sampled_from(PATHS),
    arbiter_grade=grades,
)
def test_settlement_moves_exactly_the_quoted_money(lab, ops, actors, token, native, market, policy, gtin, token_money, native_money, late, facts, path, arbiter_grade):
    """Settle on-chain by any path, in the native coin or an ERC-20: credits, points, totalOwed,
    withdrawals and the escrow's balance all follow the model to the wei."""
    escrow = lab.escrow
    price, fee, ship = native_money if native else token_money
    sc = buy(lab, ops, actors, token, market, policy, gtin, price, fee, ship, native=native)

    def balance(account) -> int:
        return web3.eth.get_balance(str(account)) if native else token.balanceOf(account)

    assert balance(escrow) == escrow.totalOwed(sc.currency) == price + fee

    in_window = deliver_and_request(ops, escrow, sc, late)
    ops.receive(sc.order)
    if path == "overdue_timeout" and not in_window:
        path = "uninspected_timeout"  # only statutory withdrawals have a legal refund deadline

    if path == "uninspected_timeout":
        chain.sleep(policy.inspection_sla + MARGIN)
        chain.mine()
        tx = escrow.claimUninspectedRefund(sc.order, {"from": sc.buyer})
        expected, grade = timeout_split(price, fee, in_window), Grade.NONE
    elif path == "overdue_timeout":
        chain.sleep(policy.refund_deadline + MARGIN)
        chain.mine()
        tx = escrow.claimOverdueRefund(sc.order, {"from": sc.buyer})
        expected, grade = timeout_split(price, fee, in_window), Grade.NONE
    elif path == "arbiter":
        derived = model_grade(policy, facts)
        ops.inspect(sc.order, facts, Grade.B if derived != Grade.B else Grade.C)
        grade = arbiter_grade
        expected = sc.model(grade, in_window=in_window, facts=facts)
        tx = escrow.resolveDispute(sc.order, grade, {"from": actors["arbiter"].account})
    else:
        grade = model_grade(policy, facts)
        expected = sc.model(grade, in_window=in_window, facts=facts)
        quoted = Split.of(escrow.quote(sc.order, grade))  # before inspection: facts unknown yet
        assert quoted == sc.model(grade, in_window=in_window)
        tx = ops.inspect(sc.order, facts, grade)
        if grade != Grade.A:
            assert "OrderSettled" not in tx.events
            assert Split.of(escrow.quote(sc.order, grade)) == expected
            if path == "match_accept":
                tx = escrow.acceptInspection(sc.order, {"from": sc.buyer})
            else:
                chain.sleep(policy.dispute_window + MARGIN)
                chain.mine()
                tx = escrow.finalize(sc.order, {"from": actors["stranger"].account})

    settled = tx.events["OrderSettled"]
    assert settled["orderId"] == sc.order and settled["grade"] == grade
    got = Split.of(settled)
    assert got == expected
    assert got.refund + got.merchant_amount == price + fee
    if grade != Grade.NONE:
        assert_conserves(got, price, fee, policy, grade)
    order = escrow.order(sc.order)
    assert order[2] == Status.SETTLED and order[7] == grade  # settled at the grade paid

    # Credits are exactly the split; points exactly the quoted points; nothing else owed.
    assert escrow.credits(sc.currency, sc.buyer) == expected.refund
    assert escrow.credits(sc.currency, sc.merchant) == expected.merchant_amount
    assert lab.points.pointsOf(sc.buyer, sc.merchant) == expected.points
    assert escrow.totalOwed(sc.currency) == price + fee == balance(escrow)

    # Pull payments: each party gets its credit to the wei; the escrow ends empty.
    for account, amount in ((sc.buyer, expected.refund), (sc.merchant, expected.merchant_amount)):
        if amount == 0:
            with brownie.reverts(err("ReturnEscrowNothingToWithdraw", sc.currency, account.address)):
                escrow.withdraw(sc.currency, {"from": account})
            continue
        before = balance(account)
        wtx = escrow.withdraw(sc.currency, {"from": account})
        gas = wtx.gas_used * wtx.gas_price if native else 0
        assert balance(account) == before + amount - gas
        assert wtx.events["Withdrawn"]["amount"] == amount
        assert escrow.credits(sc.currency, account) == 0
    assert escrow.totalOwed(sc.currency) == 0 == balance(escrow)


@chain_settings(30)
@given(market=markets, policy=policies(), index=st.integers(0, 2), refund=st.integers(0, BPS), excess=st.integers(1, BPS))
def test_policy_split_above_100_percent_is_refused(lab, market, policy, index, refund, excess):
    """setPolicy refuses any grade whose refund and points shares add up to more than the price,
    so no settlement can pay out more than was escrowed."""
    points = BPS - refund + excess
    bad = list(policy.terms)
    bad[index] = GradeTerms(refund, points, bad[index].merchant_pays_return_shipping, bad[index].disposition)
    p = replace(policy, terms=tuple(bad))
    violation = 0 if points > BPS else 1  # BpsAboveMax first, else SplitAboveMax
    with brownie.reverts(err("ReturnEscrowInvalidPolicy", violation)):
        lab.escrow.setPolicy(market, p.as_tuple(), {"from": brownie.accounts[0]})


@settings(max_examples=1_000, deadline=None)
@hypothesis_given(policy=policies(), money=amounts(), in_window=st.booleans(), sealed=st.booleans(), facts=facts_st, grade=grades)
def test_model_itself_conserves_money(policy, money, in_window, sealed, facts, grade):
    """The model is held to the same properties (cheap, so many examples): a wrong model would
    otherwise agree with a wrong contract only by luck."""
    price, fee, ship = money
    split = model_settlement(policy, grade, price=price, fee=fee, ship=ship, in_withdrawal_window=in_window, hygiene_sealed=sealed, facts=facts)
    assert_conserves(split, price, fee, policy, grade)
    if split.statutory and grade != Grade.C:
        full = price + (fee if policy.refunds_delivery_on_withdrawal else 0)
        merchant_ships = policy.terms[grade - 1].merchant_pays_return_shipping or facts & Facts.DEFECTIVE
        assert split.refund == (full if merchant_ships else max(full - ship, 0))
    if facts & Facts.DEFECTIVE and in_window:
        assert split.statutory  # a faulty unit never loses the statutory right to the hygiene exclusion


def test_model_agrees_with_hand_computed_cases():
    """Anchors the model on cases worked out by hand from the presets (as in tests/escrow)."""
    from returntrace.policies import CN, EU, US
    from tests.support import DEFAULT_DELIVERY_FEE as D
    from tests.support import DEFAULT_PRICE as P
    from tests.support import DEFAULT_RETURN_FEE as F

    sealed = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT
    eu_a = model_settlement(EU, Grade.A, price=P, fee=D, ship=F, in_withdrawal_window=True, hygiene_sealed=True, facts=sealed)
    assert (eu_a.statutory, eu_a.refund, eu_a.merchant_amount) == (True, P + D, 0)
    us_b = model_settlement(US, Grade.B, price=P, fee=D, ship=F, in_withdrawal_window=False, hygiene_sealed=True, facts=Facts.PACKAGING_INTACT)
    assert (us_b.statutory, us_b.refund) == (False, P * 7_500 // BPS - F)
    # EU hygiene exclusion: an opened hygiene-sealed unit loses the statutory right at every grade...
    for grade in (Grade.A, Grade.B, Grade.C):
        opened = model_settlement(EU, grade, price=P, fee=D, ship=F, in_withdrawal_window=True, hygiene_sealed=True, facts=0)
        assert opened.statutory is False
    # ...unless it is defective: statutory refund, and the merchant ships it back.
    eu_d = model_settlement(EU, Grade.A, price=P, fee=D, ship=F, in_withdrawal_window=True, hygiene_sealed=True, facts=Facts.DEFECTIVE)
    assert (eu_d.statutory, eu_d.refund, eu_d.merchant_amount) == (True, P + D, 0)
    cn_d = model_settlement(CN, Grade.A, price=P, fee=D, ship=F, in_withdrawal_window=True, hygiene_sealed=True, facts=Facts.DEFECTIVE)
    assert (cn_d.statutory, cn_d.refund, cn_d.merchant_amount) == (True, P, D)
