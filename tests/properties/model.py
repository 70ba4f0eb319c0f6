"""An independent model of ReturnEscrow's settlement rules, written from the NatSpec of
IReturnEscrow / ReturnEscrow (contract doc "Settlement arithmetic", {quote}, {deriveGrade},
the timeout claims), not from `_settlement`. The property and stateful tests hold the contract
to it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from returntrace.policies import Facts, Grade, GradeTerms, Policy, UnitDisposition
from tests.support import Remedy, Status

BPS = 10_000


TERMINAL = frozenset({Status.SETTLED, Status.COMPLETED, Status.CANCELLED, Status.REISSUED})


def policy_from_chain(value) -> Policy:
    """IReturnEscrow.Policy as returned by escrow.policy(market, version): the grade terms sit
    between the windows/flags and the voluntary options (refundOnReturn ... dualInspectionAbove)."""
    names = [f.name for f in dataclasses.fields(Policy)]
    at = names.index("terms")
    values = list(value)
    plain = lambda v: v if isinstance(v, bool) else int(v)  # noqa: E731
    fields = {n: plain(v) for n, v in zip(names[:at] + names[at + 1 :], values[:at] + values[at + 1 :])}
    terms = tuple(GradeTerms(int(t[0]), int(t[1]), bool(t[2]), UnitDisposition(int(t[3]))) for t in values[at])
    return Policy(**fields, terms=terms)


@dataclass(frozen=True)
class Split:
    statutory: bool
    refund: int
    merchant_amount: int
    points: int
    disposition: int

    @classmethod
    def of(cls, settlement) -> Split:
        """From quote()'s Settlement struct or an OrderSettled event."""
        if isinstance(settlement, tuple):
            statutory, refund, merchant_amount, points, disposition = settlement
            return cls(bool(statutory), int(refund), int(merchant_amount), int(points), int(disposition))
        s = settlement
        return cls(bool(s["statutory"]), int(s["refund"]), int(s["merchantAmount"]), int(s["points"]), int(s["disposition"]))


def model_grade(policy: Policy, facts: int) -> Grade:
    """deriveGrade: DEFECTIVE -> A; else USED -> C; else SEAL_INTACT and (PACKAGING_INTACT or
    packaging not required) -> A; else B."""
    if facts & Facts.DEFECTIVE:
        return Grade.A
    if facts & Facts.USED:
        return Grade.C
    if facts & Facts.SEAL_INTACT and (facts & Facts.PACKAGING_INTACT or not policy.packaging_required_for_a):
        return Grade.A
    return Grade.B


def model_settlement(policy: Policy, grade: int, *, price: int, fee: int, ship: int, in_withdrawal_window: bool, hygiene_sealed: bool, facts: int, remedy: int = Remedy.REFUND) -> Split:
    """The split at `grade`: statutory when the request fell in the withdrawal window and the
    hygiene exclusion (policy hygieneExempt, sealed class, seal not attested intact, and not
    defective: Art. 16(e) exempts opened hygiene goods, not faulty ones) does not apply. Statutory
    A/B: the law refunds the price, no points. Otherwise (and for statutory C, Art. 14(2))
    refundBps and pointsBps of the price, rounded down. A statutory withdrawal adds the delivery
    fee where the policy says so. Return shipping comes off the refund (never below zero) unless
    the merchant pays it for that grade or the unit is defective. The merchant keeps the rest.

    Sources: ReturnEscrow's contract NatSpec "Settlement arithmetic", IReturnEscrow.quote, and for
    defective units README "Settlement" / commit bcf588b (the contract NatSpec does not state it).

    Remedy EXCHANGE (IReturnEscrow.Remedy, Policy.exchangeOffered): the buyer takes a voucher in
    store points worth the cash refund plus exchangeBonusBps of it (rounded down), on top of the
    grade's points; no cash goes back, the merchant keeps price + fee."""
    terms = policy.terms[grade - 1]
    defective = bool(facts & Facts.DEFECTIVE)
    excluded = policy.hygiene_exempt and hygiene_sealed and not facts & Facts.SEAL_INTACT and not defective
    statutory = in_withdrawal_window and not excluded
    if statutory and grade != Grade.C:
        refund, points = price, 0
    else:
        refund, points = price * terms.refund_bps // BPS, price * terms.points_bps // BPS
    if statutory and policy.refunds_delivery_on_withdrawal:
        refund += fee
    if not terms.merchant_pays_return_shipping and not defective:
        refund = max(refund - ship, 0)
    if remedy == Remedy.EXCHANGE:
        return Split(statutory, 0, price + fee, points + refund + refund * policy.exchange_bonus_bps // BPS, int(terms.disposition))
    return Split(statutory, refund, price + fee - refund, points, int(terms.disposition))


def refund_on_receipt_split(policy: Policy, *, price: int, fee: int, ship: int, statutory: bool, hygiene_sealed: bool, remedy: int, reason: int = 0) -> Split:
    """releaseRefundOnReceipt: what a grade-A settlement gives, the seal taken as intact (and the
    packaging: the policy takes the risk the inspection would price), and defective when that is the
    buyer's reason (ReturnReason.Defective = 1: no return shipping deducted), cash or voucher."""
    facts = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT | (Facts.DEFECTIVE if reason == 1 else 0)
    return model_settlement(policy, Grade.A, price=price, fee=fee, ship=ship, in_withdrawal_window=statutory, hygiene_sealed=hygiene_sealed, facts=facts, remedy=remedy)


def model_after_inspection(policy: Policy, status: Status, *, price: int, facts: int, claimed: int, first: tuple[int, int] | None) -> Status:
    """The status a consistent-or-not attestation leads to (IReturnEscrow.submitInspection):
    on a Refunded order only the disposition is decided (Settled; an inconsistent grade reverts,
    not modelled here); a grade that differs from deriveGrade(facts), or a second opinion that does
    not attest the first one's (facts, grade), disputes; a first consistent attestation above
    dualInspectionAbove waits for a second opinion; then A settles, B/C is Inspected."""
    if status == Status.REFUNDED:
        return Status.SETTLED
    derived = model_grade(policy, facts)
    if claimed != derived or (status == Status.SECOND_INSPECTION and first != (facts, claimed)):
        return Status.DISPUTED
    if status == Status.RETURN_REQUESTED and policy.dual_inspection_above and price > policy.dual_inspection_above:
        return Status.SECOND_INSPECTION
    return Status.SETTLED if claimed == Grade.A else Status.INSPECTED


def timeout_split(price: int, fee: int, statutory: bool) -> Split:
    """claimUninspectedRefund / claimOverdueRefund: price and delivery fee back, nothing deducted."""
    return Split(statutory, price + fee, 0, 0, int(UnitDisposition.RESTOCK))


def assert_conserves(split: Split, price: int, fee: int, policy: Policy, grade: int) -> None:
    """The properties every settlement must have, whatever the model says."""
    assert split.refund + split.merchant_amount == price + fee  # no wei lost or created
    assert 0 <= split.refund <= price + fee
    terms = policy.terms[grade - 1]
    law_overrides = split.statutory and grade != Grade.C
    assert split.points == (0 if law_overrides else price * terms.points_bps // BPS)
    assert split.points <= price
