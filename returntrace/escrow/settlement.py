"""A settlement as parts a parent or an auditor can read: what was paid, what came back, what was
deducted and why.

ReturnEscrow states every part itself: `OrderSettled(orderId, path, grade, settlement)` carries
the `IReturnPolicies.Settlement` struct the policies' arithmetic returned (what came back of the
price and of the delivery fee, the diminished value, the return shipping deducted, the voucher and
its bonus, the points, the merchant's share). Nothing here recomputes them: this module names the
differences and checks that the parts add up as the struct promises (`Breakdown.consistent`), so
a part altered in a copy of the log shows as "not verified", never as a wrong explanation.

    price + delivery fee − deductions = the cash value of the return
      refund remedy:   refund = that value;  points = the grade terms' points
      exchange remedy: refund = 0;           points = the grade terms' points + that value + the bonus
    merchant amount = price + delivery fee − refund

Deduction reasons:
- `grade_terms`: outside the statutory right, the policy's grade terms refund only part of the price.
- `diminished_value`: a used unit returned under the law keeps the right less the diminished value
  an inspector attested (EU 2011/83 Art. 14(2)), capped by the policy.
- `delivery_not_refunded`: the outbound delivery fee comes back only on a statutory withdrawal in
  a market whose law refunds it (EU Art. 13(1)).
- `return_shipping`: the buyer bears the return shipping the listing named, where the grade terms
  say so and the unit was not defective.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .enums import Grade, SettlementPath

GRADE_TERMS = "grade_terms"
DIMINISHED_VALUE = "diminished_value"
DELIVERY_NOT_REFUNDED = "delivery_not_refunded"
RETURN_SHIPPING = "return_shipping"

# How each settlement came about: IReturnEscrow.SettlementPath's keys, then the two ends without a return.
PATHS = SettlementPath.keys()
COMPLETED = "completed"  # OrderCompleted: no return, the merchant is paid
CANCELLED = "cancelled"  # OrderCancelled: never delivered, the buyer is refunded


@dataclass(frozen=True)
class Deduction:
    reason: str  # one of the codes above
    amount: int  # base units of the order's currency


@dataclass(frozen=True)
class Breakdown:
    """One settlement as parts. Amounts in base units of the order's currency."""

    kind: str  # one of PATHS, COMPLETED or CANCELLED
    price: int
    delivery_fee: int
    price_refunded: int  # of the price, what came back (before any return shipping)
    delivery_refunded: int  # of the delivery fee, what came back
    shipping_deducted: int  # the return shipping the buyer bore
    diminished: int  # the attested diminished value deducted from a statutory refund
    refund: int = 0  # cash credited to the buyer
    points: int = 0  # store points minted to the buyer (grade terms, plus the voucher for an exchange)
    voucher: int = 0  # of `points`: the exchange voucher (the return's cash value plus the bonus)
    exchange_bonus: int = 0  # of `voucher`: the policy's bonus
    merchant_amount: int = 0  # cash credited to the merchant
    grade: int = Grade.NONE  # the grade settled on (none: no inspection decided it)
    statutory: bool = False  # the law, not the grade terms, decided the price's refund
    disposition: int | None = (
        None  # the grade terms' fate of the unit (IReturnPolicies.Disposition), when a grade decided
    )

    @property
    def deductions(self) -> tuple[Deduction, ...]:
        """What was kept of the price and delivery fee, and why, in the order the arithmetic applies them."""
        kept_by_terms = self.price - self.price_refunded - self.diminished
        out = [
            Deduction(GRADE_TERMS, kept_by_terms),
            Deduction(DIMINISHED_VALUE, self.diminished),
            Deduction(DELIVERY_NOT_REFUNDED, self.delivery_fee - self.delivery_refunded),
            Deduction(RETURN_SHIPPING, self.shipping_deducted),
        ]
        return tuple(d for d in out if d.amount)

    @property
    def value(self) -> int:
        """What came back less the return shipping: the cash value of the return."""
        return self.price_refunded + self.delivery_refunded - self.shipping_deducted

    @property
    def consistent(self) -> bool:
        """The parts add up as IReturnPolicies.Settlement promises: refund + merchant amount = price +
        delivery fee; the cash value is the refund, or for an exchange the voucher less its bonus
        (the voucher within the points); no part is negative."""
        if self.kind in (COMPLETED, CANCELLED):
            return self.refund + self.merchant_amount == self.price + self.delivery_fee
        if (
            min(
                self.price - self.price_refunded - self.diminished,
                self.delivery_fee - self.delivery_refunded,
                self.value,
            )
            < 0
        ):
            return False
        paid = self.voucher - self.exchange_bonus if self.voucher else self.refund
        return (
            self.refund + self.merchant_amount == self.price + self.delivery_fee
            and paid == self.value
            and self.points >= self.voucher >= self.exchange_bonus
            and not (self.voucher and self.refund)
        )


def from_event(name: str, args: Mapping[str, Any], price: int, delivery_fee: int) -> Breakdown:
    """The parts of an escrow event that ended an order (`OrderSettled`, `OrderCompleted`,
    `OrderCancelled`; args as decoded, the settlement struct as a dict of its fields) for an order
    of `price` and `delivery_fee`."""
    if name == "OrderCompleted":
        return Breakdown(COMPLETED, price, delivery_fee, 0, 0, 0, 0, merchant_amount=int(args["merchantAmount"]))
    if name == "OrderCancelled":
        refund = int(args["refund"])
        return Breakdown(CANCELLED, price, delivery_fee, price, delivery_fee, 0, 0, refund=refund)
    if name != "OrderSettled":
        raise ValueError(f"{name} does not settle an order")
    # By component name from the log's struct, unconverted: a part altered in a copy of the log (the
    # index) must still make a Breakdown, which then shows as not consistent.
    s, path, grade = args["settlement"], int(args["path"]), int(args["grade"])
    return Breakdown(
        kind=PATHS[path] if path < len(PATHS) else str(path),
        price=price,
        delivery_fee=delivery_fee,
        price_refunded=int(s["priceRefunded"]),
        delivery_refunded=int(s["deliveryRefunded"]),
        shipping_deducted=int(s["shippingDeducted"]),
        diminished=int(s["diminished"]),
        refund=int(s["refund"]),
        points=int(s["points"]),
        voucher=int(s["voucher"]),
        exchange_bonus=int(s["bonus"]),
        merchant_amount=int(s["merchantAmount"]),
        grade=grade,
        statutory=bool(s["statutory"]),
        disposition=int(s["disposition"]) if grade else None,
    )
