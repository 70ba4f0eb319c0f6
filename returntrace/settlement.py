"""ReturnEscrow's settlement arithmetic, as parts: what the buyer paid, what was deducted and why.

The escrow emits only the totals of a settlement (refund, merchant amount, points). A parent or an
auditor needs to see where a difference went, so this module states the same arithmetic as
`ReturnEscrow._settlement` step by step. It is the one Python mirror of that arithmetic (the
gateway's return options use it too); every breakdown shown is checked against the amounts the
escrow's event states (`Breakdown.matches`), so a drift between the two shows as "not verified",
never as a wrong explanation.

    price + delivery fee − deductions = the cash value of the return
      refund remedy:   refund = that value;  points = the grade terms' points
      exchange remedy: refund = 0;           points = the grade terms' points + that value + the bonus
    merchant amount = price + delivery fee − refund

Deduction reasons (codes, in the order the escrow applies them):
- `grade_terms`: outside the statutory right (or for a statutory grade C), the policy's grade terms
  refund `refundBps` of the price; the rest of the price is deducted. For a statutory grade C this is
  the diminished value (EU 2011/83 Art. 14(2)).
- `delivery_not_refunded`: the outbound delivery fee is refunded only for a statutory withdrawal
  in a market whose law refunds it (EU Art. 13(1)); otherwise it is kept.
- `return_shipping`: the grade terms let the buyer bear return shipping (`returnShippingFee` of the
  listing, never more than what is left), unless the unit was attested defective.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .policies import Grade, Policy

BPS = 10_000

GRADE_TERMS = "grade_terms"
DIMINISHED_VALUE = "diminished_value"
DELIVERY_NOT_REFUNDED = "delivery_not_refunded"
RETURN_SHIPPING = "return_shipping"

# How each settlement came about (the escrow event that paid it).
GRADED = "graded"  # OrderSettled with a grade: after inspection, acceptance, dispute or arbiter
TIMEOUT_REFUND = "timeout_refund"  # OrderSettled with grade None: price and delivery back, nothing deducted
REFUND_ON_RECEIPT = "refund_on_receipt"  # RefundReleasedOnReceipt: as grade A, at an accredited return center
COMPLETED = "completed"  # OrderCompleted: no return, the merchant is paid
CANCELLED = "cancelled"  # OrderCancelled: never delivered, the buyer is refunded


@dataclass(frozen=True)
class Deduction:
    reason: str  # one of the codes above
    amount: int  # base units of the order's currency


@dataclass(frozen=True)
class Breakdown:
    """One settlement as parts. Amounts in base units of the order's currency."""

    kind: str
    price: int
    delivery_fee: int
    deductions: tuple[Deduction, ...] = ()
    refund: int = 0  # cash credited to the buyer
    points: int = 0  # store points minted to the buyer (grade terms, plus the voucher for an exchange)
    voucher: int = 0  # of `points`: the exchange voucher (the return's cash value plus the bonus)
    exchange_bonus: int = 0  # of `voucher`: the policy's bonus
    merchant_amount: int = 0  # cash credited to the merchant
    grade: int = Grade.NONE
    statutory: bool = False  # the law, not the grade terms, decided the price's refund
    hygiene_exception: bool = False  # the request was statutory but the broken seal of a hygiene good lost the right

    @property
    def value(self) -> int:
        """Price and delivery less the deductions: the cash value of the return."""
        return self.price + self.delivery_fee - sum(d.amount for d in self.deductions)

    def matches(self, refund: int, merchant_amount: int, points: int) -> bool:
        """Whether the escrow's event states these same totals."""
        return (self.refund, self.merchant_amount, self.points) == (int(refund), int(merchant_amount), int(points))


def graded(
    price: int,
    delivery_fee: int,
    return_shipping_fee: int,
    policy: Policy,
    grade: int,
    statutory: bool,
    defective: bool,
    exchange: bool,
    request_statutory: bool | None = None,
) -> Breakdown:
    """`ReturnEscrow._settlement` for a grade. `statutory` is the settlement's (the request fell in
    the statutory window and no hygiene exception applies); `request_statutory` the request's, when
    known, to tell a hygiene exception apart."""
    terms = policy.terms[int(grade) - 1]
    deductions: list[Deduction] = []
    points = 0
    if statutory and grade != Grade.C:
        refund = price  # the law overrides the A/B grade terms
    else:
        refund = price * terms.refund_bps // BPS
        points = price * terms.points_bps // BPS
        if price - refund:
            deductions.append(Deduction(DIMINISHED_VALUE if statutory else GRADE_TERMS, price - refund))
    if statutory and policy.refunds_delivery_on_withdrawal:
        refund += delivery_fee
    elif delivery_fee:
        deductions.append(Deduction(DELIVERY_NOT_REFUNDED, delivery_fee))
    if not terms.merchant_pays_return_shipping and not defective:
        shipping = min(return_shipping_fee, refund)
        refund -= shipping
        if shipping:
            deductions.append(Deduction(RETURN_SHIPPING, shipping))
    voucher = bonus = 0
    if exchange:  # the cash stays with the merchant; the voucher is the refund plus the bonus
        bonus = refund * policy.exchange_bonus_bps // BPS
        voucher = refund + bonus
        points += voucher
        refund = 0
    return Breakdown(
        kind=GRADED, price=price, delivery_fee=delivery_fee, deductions=tuple(deductions), refund=refund, points=points,
        voucher=voucher, exchange_bonus=bonus, merchant_amount=price + delivery_fee - refund, grade=int(grade), statutory=statutory,
        hygiene_exception=bool(request_statutory) and not statutory,
    )


def refund_on_receipt(price: int, delivery_fee: int, return_shipping_fee: int, policy: Policy, statutory: bool, defective_reason: bool, exchange: bool) -> Breakdown:
    """`ReturnEscrow._releaseOnReceipt`: grade A with the seal and packaging taken as intact (so no
    hygiene exception applies), defective when the buyer's reason was a defect."""
    return replace(graded(price, delivery_fee, return_shipping_fee, policy, Grade.A, statutory, defective_reason, exchange), kind=REFUND_ON_RECEIPT)


def without_return(kind: str, price: int, delivery_fee: int) -> Breakdown:
    """A timeout refund or a cancellation (everything back to the buyer), or a completion (everything
    to the merchant): nothing deducted."""
    total = price + delivery_fee
    if kind == COMPLETED:
        return Breakdown(kind=kind, price=price, delivery_fee=delivery_fee, merchant_amount=total)
    return Breakdown(kind=kind, price=price, delivery_fee=delivery_fee, refund=total)
