"""Return protection priced from return history: the premium per unit, with every input and step.

Pure arithmetic, no I/O (the gateway gathers the history, api/read/return_stats.py, and the market's
law and policy from the chain). docs/insurance.md states the formula with a worked example that
tests/unit/test_insurance.py checks.

    p      = Z·p_gtin + (1 − Z)·p_category            Z = n / (n + k)   (Bühlmann credibility, n orders)
    p_category = Z_c·p_observed + (1 − Z_c)·p_prior   Z_c = n_c / (n_c + k)
    E[loss | return] = shipping·S + handling + Σ_g mix_g·max(refund_g + points_g − residual_g, 0)
    premium = ⌈p · E[loss] · (1 + expense + margin)⌉, then at least the floor and at most the cap
    (a cover whose expected payout is zero costs nothing: no floor, and no consumer quote at all)

The grade mix and the statutory share (returns the law refunds in full, whatever their grade) are
blended the same way over settled returns. A grade's refund and points are its GradeTerms (the
market's policy, returntrace.escrow), a statutory return's refund the whole price; the residual value
a returned unit keeps per grade is a parameter. Money is integers in the currency's base units;
probabilities and intermediate amounts are exact fractions, rounded once: the premium up to the next
base unit (the insurer never under-collects by rounding), the breakdown's amounts half up for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .escrow import BPS, Grade, Policy

GRADES = (Grade.A, Grade.B, Grade.C)
ROUNDING = "premium rounded up to the next base unit; breakdown amounts half up"


@dataclass(frozen=True)
class Outcome:
    """One order as the history counts it: returned or not, and if settled after a return its grade
    (None: settled without one, or not settled yet) and whether the law decided the refund."""

    returned: bool
    grade: Grade | None = None
    statutory: bool = False


@dataclass(frozen=True)
class History:
    """Counts at one level (a GTIN, or its category) in one market."""

    orders: int = 0
    returns: int = 0
    graded: tuple[int, int, int] = (0, 0, 0)  # settled returns graded A, B, C
    statutory: int = 0  # of the graded returns, those the law refunded in full

    @property
    def graded_total(self) -> int:
        return sum(self.graded)

    def as_json(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "returns": self.returns,
            "graded": dict(zip("ABC", self.graded, strict=True)),
            "statutory": self.statutory,
        }


def tally(outcomes: Iterable[Outcome]) -> History:
    """The counts of a set of orders; the same set in any order gives the same counts."""
    orders = returns = statutory = 0
    graded = [0, 0, 0]
    for o in outcomes:
        orders += 1
        if not o.returned:
            continue
        returns += 1
        if o.grade is not None and Grade.A <= o.grade <= Grade.C:
            graded[int(o.grade) - 1] += 1
            statutory += o.statutory
    return History(orders, returns, (graded[0], graded[1], graded[2]), statutory)


@dataclass(frozen=True)
class Prior:
    """What a market is assumed to do before any history (assumptions, not law: docs/insurance.md)."""

    return_rate: Fraction
    grade_mix: tuple[Fraction, Fraction, Fraction]
    statutory_share: Fraction


# Per market code (returntrace.policies.MARKET_NAMES). Statutory share: the share of returns made
# within the law's withdrawal period, assuming returns spread evenly over the longer of it and the
# policy's window (EU 14 of 30 days, China 7 of 7, US none).
PRIORS: dict[str, Prior] = {
    "EU": Prior(Fraction(15, 100), (Fraction(70, 100), Fraction(20, 100), Fraction(10, 100)), Fraction(14, 30)),
    "US": Prior(Fraction(15, 100), (Fraction(70, 100), Fraction(20, 100), Fraction(10, 100)), Fraction(0)),
    "CN": Prior(Fraction(10, 100), (Fraction(70, 100), Fraction(20, 100), Fraction(10, 100)), Fraction(1)),
}
DEFAULT_PRIOR = PRIORS["EU"]  # a market without its own row


@dataclass(frozen=True)
class Parameters:
    """The pricing's knobs; basis points of 10,000."""

    k: int = 50  # orders at which a GTIN's own return rate gets half the weight
    k_grades: int = 20  # graded returns at which a GTIN's own grade mix gets half the weight
    residual_bps: tuple[int, int, int] = (8_000, 4_000, 500)  # what a returned A, B, C unit still sells for
    handling_bps: int = 300  # receiving, inspecting and restocking one return, of the price
    expense_bps: int = 1_500  # the insurer's expenses, on the risk premium
    margin_bps: int = 500  # its margin, on the risk premium
    floor: int = 0  # base units: the least premium (the gateway sets 1/100 of the currency's unit)
    cap_bps: int = 2_000  # the merchant's most premium, of the price
    consumer_cap_bps: int = 5_000  # the buyer's most premium, of the return shipping it covers


@dataclass(frozen=True)
class Risk:
    """What a unit's premiums are priced from in one market: `shipping` the average return shipping of
    the market's orders in the quote's currency, the market's `policy`, the histories of the GTIN and
    of its category, the market's `prior` and the pricing's `params`."""

    shipping: Fraction
    policy: Policy
    gtin: History
    category: History
    prior: Prior
    params: Parameters = Parameters()


@dataclass(frozen=True)
class Blend:
    """A credibility-weighted figure: own·z + other·(1 − z)."""

    own: Fraction | None  # None: no own history
    other: Fraction
    z: Fraction

    @property
    def value(self) -> Fraction:
        return self.other if self.own is None else self.z * self.own + (1 - self.z) * self.other

    def as_json(self) -> dict[str, Any]:
        return {"own": _ratio(self.own), "other": _ratio(self.other), "z": _ratio(self.z), "value": _ratio(self.value)}


def credibility(n: int, k: int) -> Fraction:
    """Bühlmann's Z = n / (n + k): 0 without history, one half at k, towards 1 with more."""
    return Fraction(n, n + k) if n + k else Fraction(0)


def _rate(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def _blend(own: Fraction | None, n: int, other: Fraction, k: int) -> Blend:
    return Blend(own, other, credibility(n, k) if own is not None else Fraction(0))


def _mix(h: History) -> tuple[Fraction, ...] | None:
    total = h.graded_total
    return tuple(Fraction(c, total) for c in h.graded) if total else None


def blended_inputs(risk: Risk) -> dict[str, Any]:
    """The return probability, grade mix and statutory share: the category's observation over the
    market's prior, then the GTIN's over that (each level weighted by its own credibility)."""
    gtin, category, prior, params = risk.gtin, risk.category, risk.prior, risk.params
    cat_rate = _blend(_rate(category.returns, category.orders), category.orders, prior.return_rate, params.k)
    rate = _blend(_rate(gtin.returns, gtin.orders), gtin.orders, cat_rate.value, params.k)
    cat_mix, own_mix = _mix(category), _mix(gtin)
    mixes = []
    for i in range(3):
        c = _blend(cat_mix[i] if cat_mix else None, category.graded_total, prior.grade_mix[i], params.k_grades)
        mixes.append(_blend(own_mix[i] if own_mix else None, gtin.graded_total, c.value, params.k_grades))
    cat_stat = _blend(
        _rate(category.statutory, category.graded_total),
        category.graded_total,
        prior.statutory_share,
        params.k_grades,
    )
    stat = _blend(_rate(gtin.statutory, gtin.graded_total), gtin.graded_total, cat_stat.value, params.k_grades)
    return {"category_rate": cat_rate, "rate": rate, "mix": mixes, "category_statutory": cat_stat, "statutory": stat}


@dataclass(frozen=True)
class Quote:
    """A premium and how it was reached: `breakdown` holds every input and intermediate."""

    audience: str  # "merchant" or "consumer"
    cover: str  # "return_costs" (the merchant's) or "return_shipping" (the consumer's)
    premium: int  # base units
    breakdown: dict[str, Any] = field(default_factory=dict)


def _amount(x: Fraction) -> str:
    """An exact amount as the breakdown shows it: base units rounded half up."""
    return str((x.numerator * 2 + x.denominator) // (2 * x.denominator))


def _ratio(x: Fraction | None) -> str | None:
    return None if x is None else f"{x.numerator}/{x.denominator}" if x.denominator != 1 else str(x.numerator)


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


def _bounded(risk: Fraction, params: Parameters, cap: int) -> tuple[int, dict[str, Any]]:
    loaded = risk * (BPS + params.expense_bps + params.margin_bps) / BPS
    raw = _ceil(loaded)
    premium = min(max(raw, params.floor), cap) if raw else 0  # no floor on a cover that pays nothing
    return premium, {
        "riskPremium": _amount(risk),
        "expenseBps": params.expense_bps,
        "marginBps": params.margin_bps,
        "loaded": str(raw),
        "floor": str(params.floor),
        "cap": str(cap),
        "bound": None if premium == raw else "cap" if premium == cap else "floor",  # the cap wins over the floor
    }


def merchant_quote(price: int, risk: Risk) -> Quote:
    """The merchant's premium for insuring its return costs on one unit sold at `price` (base units)."""
    if price <= 0:
        raise ValueError("price must be positive")
    shipping, policy, params = risk.shipping, risk.policy, risk.params
    b = blended_inputs(risk)
    sigma: Fraction = b["statutory"].value
    grades = []
    grade_loss = Fraction(0)
    merchant_ships = Fraction(0)
    for i, g in enumerate(GRADES):
        terms = policy.grade_terms(g)
        mix = b["mix"][i].value
        policy_refund = Fraction(price * (terms.refund_bps + terms.points_bps), BPS)
        # A statutory return refunds the whole price whatever the grade; a policy return follows the
        # grade's terms. Return shipping follows the grade's terms either way, as the escrow settles it
        # (ReturnPolicies.settlement: the law leaves it to the buyer "unless agreed", and the terms agree).
        refund = sigma * price + (1 - sigma) * policy_refund
        residual = Fraction(price * params.residual_bps[i], BPS)
        loss = max(refund - residual, Fraction(0))  # a return the unit's resale more than pays costs nothing
        grade_loss += mix * loss
        if terms.merchant_pays_return_shipping:
            merchant_ships += mix
        grades.append(
            {
                "grade": g.name,
                "mix": b["mix"][i].as_json(),
                "refundBps": terms.refund_bps,
                "pointsBps": terms.points_bps,
                "merchantPaysReturnShipping": terms.merchant_pays_return_shipping,
                "refund": _amount(refund),
                "residualBps": params.residual_bps[i],
                "residual": _amount(residual),
                "loss": _amount(loss),
            }
        )
    handling = Fraction(price * params.handling_bps, BPS)
    shipping_loss = shipping * merchant_ships
    expected_loss = shipping_loss + handling + grade_loss
    p = b["rate"].value
    premium, bounds = _bounded(p * expected_loss, params, price * params.cap_bps // BPS)
    return Quote(
        "merchant",
        "return_costs",
        premium,
        {
            "price": str(price),
            "returnProbability": b["rate"].as_json(),
            "categoryReturnProbability": b["category_rate"].as_json(),
            "statutoryShare": b["statutory"].as_json(),
            "categoryStatutoryShare": b["category_statutory"].as_json(),
            "k": params.k,
            "kGrades": params.k_grades,
            "grades": grades,
            "returnShipping": _amount(shipping),
            "merchantShippingShare": _ratio(merchant_ships),
            "shippingLoss": _amount(shipping_loss),
            "handlingBps": params.handling_bps,
            "handling": _amount(handling),
            "gradeLoss": _amount(grade_loss),
            "expectedLossPerReturn": _amount(expected_loss),
            **bounds,
            "premium": str(premium),
            "rounding": ROUNDING,
        },
    )


def consumer_shipping_quote(risk: Risk) -> Quote | None:
    """The buyer's premium for having their return shipping paid where the brand's grade terms leave it
    to the buyer (the escrow deducts it from the refund of those grades, statutory or not). Capped at a
    share of the shipping it covers. None when it would pay nothing: no shipping, or the merchant pays
    it on every grade (or no return is expected): such a cover is never sold."""
    shipping, policy, params = risk.shipping, risk.policy, risk.params
    b = blended_inputs(risk)
    buyer_share = sum(
        (b["mix"][i].value for i, g in enumerate(GRADES) if not policy.grade_terms(g).merchant_pays_return_shipping),
        Fraction(0),
    )
    covered = shipping * buyer_share
    if b["rate"].value * covered == 0:
        return None
    p = b["rate"].value
    premium, bounds = _bounded(p * covered, params, _ceil(shipping) * params.consumer_cap_bps // BPS)
    return Quote(
        "consumer",
        "return_shipping",
        premium,
        {
            "returnProbability": b["rate"].as_json(),
            "categoryReturnProbability": b["category_rate"].as_json(),
            "gradeMix": {g.name: b["mix"][i].as_json() for i, g in enumerate(GRADES)},
            "returnShipping": _amount(shipping),
            "buyerPaysShare": _ratio(buyer_share),
            "expectedLossPerReturn": _amount(covered),
            **bounds,
            "premium": str(premium),
            "rounding": ROUNDING,
        },
    )
