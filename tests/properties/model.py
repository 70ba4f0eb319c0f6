"""An independent model of ReturnTrace v2's settlement arithmetic and return clock.

Written from the specification, not from the Solidity nor from returntrace/escrow: the NatSpec
of IReturnPolicies (Law, Policy, Settlement, `settlement`, `deriveGrade`, `periodEnd`), the
"Settlement arithmetic" of ReturnPolicies' contract doc, IReturnEscrow's claims (which amounts a
timeout or an unproved return pays) and ReturnClock's doc (scan times bounded by the relay delay,
the refund's due date). The property and stateful tests hold the contracts to it. Laws and policies
are returntrace.escrow's dataclasses (plain data, field for field the Solidity structs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from returntrace.escrow import Grade, Law, Policy
from tests.support import Status

BPS = 10_000
DAY = 24 * 3600
SEAL, PACKAGING, USED, DEFECTIVE = 1, 2, 4, 8  # IReturnPolicies' fact bits
MAX_HOLIDAY_RUN = 14  # periodEnd moves a period's end over at most this many rest days

TERMINAL = frozenset({Status.SETTLED, Status.COMPLETED, Status.CANCELLED, Status.REISSUED})


class Path:
    """IReturnEscrow.SettlementPath."""

    GRADED, ARBITRATED, ARBITER_SILENT, OVERDUE, UNINSPECTED, ON_RECEIPT, DISPATCHED, UNIT_CLOSED, REISSUE_FAILED = (
        range(9)
    )


# A refund someone's silence made due (the arbiter's, the statutory deadline's, a lost return's) is
# paid in cash: the exchange voucher is the buyer's choice for a return that runs its course.
CASH_PATHS = frozenset({Path.ARBITER_SILENT, Path.OVERDUE, Path.DISPATCHED})


@dataclass(frozen=True)
class Split:
    """IReturnPolicies.Settlement, its first nine parts (a later version may append more)."""

    statutory: bool
    refund: int
    merchant_amount: int
    points: int
    voucher: int = 0
    bonus: int = 0
    diminished: int = 0
    shipping_deducted: int = 0
    disposition: int = 0

    @classmethod
    def of(cls, value) -> Split:
        """From quote()/settlement()'s return value or an OrderSettled event's `settlement`."""
        v = list(value)[:9]
        return cls(bool(v[0]), *(int(x) for x in v[1:]))


@dataclass(frozen=True)
class OrderTerms:
    """IReturnPolicies.OrderTerms without market and version (the law and policy are passed as such)."""

    price: int
    fee: int  # the outbound delivery fee
    ship: int  # the return shipping the listing named (the buyer bears it where the terms say so)
    sealed: bool = False  # the product class is hygiene-sealed
    confirmed: bool = False  # the buyer confirmed the statutory exceptions at purchase
    exchange: bool = False  # the buyer chose the exchange voucher

    @property
    def total(self) -> int:
        return self.price + self.fee


def model_grade(policy: Policy, facts: int) -> Grade:
    """deriveGrade: A if defective, C if used, A if the seal (and, where the policy asks, the packaging) is intact, else
    B."""
    if facts & DEFECTIVE:
        return Grade.A
    if facts & USED:
        return Grade.C
    sealed_ok = bool(facts & SEAL)
    packaging_ok = bool(facts & PACKAGING) or not policy.packaging_required_for_a
    return Grade.A if sealed_ok and packaging_ok else Grade.B


def right_lost(law: Law, policy: Policy, terms: OrderTerms, facts: int) -> bool:
    """The facts take the statutory right away: an opened hygiene seal the merchant invokes (confirmed at
    purchase where the law asks), or use where the law wants goods back in good condition. Never for a
    defective unit (callers check)."""
    hygiene = (
        law.hygiene_exception
        and policy.hygiene_exempt
        and terms.sealed
        and not facts & SEAL
        and (terms.confirmed or not law.exception_needs_confirmation)
    )
    return hygiene or (law.used_loses_right and bool(facts & USED))


def model_settlement(
    law: Law,
    policy: Policy,
    grade: int,
    terms: OrderTerms,
    *,
    in_withdrawal: bool,
    facts: int,
    diminished_value: int = 0,
) -> Split:
    """IReturnPolicies.settlement. The law decides where the withdrawal right holds: the whole price
    back for A and B, for C the price less the attested diminished value (capped at maxDiminishedBps of
    the price) where the law allows that deduction, with the grade's points on top; the delivery fee
    where the law refunds it. Elsewhere the grade terms pay shares of the price (rounded down). The
    return shipping the listing named comes off what is refunded (never below zero) unless the grade
    terms make it the merchant's or the unit is defective. An exchange keeps all the cash with the
    merchant and gives the refund plus the bonus as points."""
    if grade not in (Grade.A, Grade.B, Grade.C):
        raise ValueError(f"grade {grade}")
    t = policy.terms[grade - 1]
    price = terms.price
    defective = bool(facts & DEFECTIVE)
    statutory = in_withdrawal and law.withdrawal_days != 0 and (defective or not right_lost(law, policy, terms, facts))
    by_law = statutory and (grade != Grade.C or law.diminished_value)

    diminished = 0
    if by_law:
        if grade == Grade.C:
            diminished = min(diminished_value, price * policy.max_diminished_bps // BPS)
            points = price * t.points_bps // BPS  # on top of the cash, never instead
        else:
            points = 0
        back = price - diminished
    else:
        back, points = price * t.refund_bps // BPS, price * t.points_bps // BPS
    if statutory and law.refunds_delivery:
        back += terms.fee
    shipping = 0 if (t.merchant_pays_return_shipping or defective) else min(terms.ship, back)
    back -= shipping

    if terms.exchange:
        bonus = back * policy.exchange_bonus_bps // BPS
        return Split(
            statutory,
            0,
            terms.total,
            points + back + bonus,
            back + bonus,
            bonus,
            diminished,
            shipping,
            int(t.disposition),
        )
    return Split(statutory, back, terms.total - back, points, 0, 0, diminished, shipping, int(t.disposition))


def on_path(terms: OrderTerms, path: int) -> OrderTerms:
    """The order's terms for a settlement on `path`: cash on the paths in CASH_PATHS (EU 2011/83 Art. 13(1))."""
    return replace(terms, exchange=False) if path in CASH_PATHS else terms


def unproved_facts(defective_reason: bool) -> int:
    """What a return nobody attested counts as (refund on receipt, proof of dispatch, an overdue refund
    without facts): grade A, seal and packaging intact, defective when that was the buyer's reason."""
    return SEAL | PACKAGING | (DEFECTIVE if defective_reason else 0)


def unproved_settlement(
    law: Law, policy: Policy, terms: OrderTerms, *, in_withdrawal: bool, defective_reason: bool
) -> Split:
    return model_settlement(
        law, policy, Grade.A, terms, in_withdrawal=in_withdrawal, facts=unproved_facts(defective_reason)
    )


def full_refund(terms: OrderTerms, *, in_withdrawal: bool) -> Split:
    """claimUninspectedRefund, a unit closed under an order, an unfulfilled reissue whose return is
    waived: price and delivery fee back in cash, nothing deducted, no other part; statutory where the
    return was a withdrawal (everything back is at least what the law gives)."""
    return Split(in_withdrawal, terms.total, 0, 0)


def statutory_floor(law: Law, terms: OrderTerms) -> int:
    """The least a cash withdrawal of an unused unit with its seal intact may pay back: the price, the
    delivery fee where the law refunds it, less the return shipping the buyer was told they bear."""
    return max(terms.price + (terms.fee if law.refunds_delivery else 0) - terms.ship, 0)


# ------------------------------------------------------------------ the clock


def period_end(law: Law, start: int, days: int, holidays: frozenset[int] = frozenset()) -> int:
    """IReturnPolicies.periodEnd: the last second of `days` whole days after the day of `start` (which
    does not count), midnight ending the last day in the law's time zone; a last day on a weekend
    (where the law says so) or a registered holiday moves to the next working day, at most 14 times."""
    offset = law.utc_offset_minutes * 60
    last = (start + offset) // DAY + days
    for _ in range(MAX_HOLIDAY_RUN):
        weekend = law.weekends_extend and (last + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        if not weekend and last not in holidays:
            break
        last += 1
    return (last + 1) * DAY - offset - 1


def scan_time(at: int, recorded_at: int, max_relay_delay: int) -> int:
    """A milestone's time for the escrow: the signed time, but no earlier than its recording less the
    policy's relay delay (0: no scan)."""
    if not at:
        return 0
    return max(at, recorded_at - max_relay_delay)


def assert_conserves(split: Split, terms: OrderTerms, policy: Policy, grade: int) -> None:
    """What every settlement must satisfy, whatever the model says."""
    assert split.refund + split.merchant_amount == terms.total  # nothing lost or created
    assert 0 <= split.refund <= terms.total
    assert split.diminished <= terms.price * policy.max_diminished_bps // BPS
    t = policy.terms[grade - 1]
    if terms.exchange:  # all the cash stays; the voucher is the cash value of the return plus its bonus
        assert split.refund == 0 and split.merchant_amount == terms.total
        assert 0 <= split.voucher - split.bonus <= terms.total
        assert split.bonus == (split.voucher - split.bonus) * policy.exchange_bonus_bps // BPS
    else:
        assert split.voucher == split.bonus == 0
    grade_points = split.points - split.voucher
    assert grade_points in (0, terms.price * t.points_bps // BPS)
    assert grade_points <= terms.price
