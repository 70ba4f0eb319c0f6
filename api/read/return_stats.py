"""Orders and returns per GTIN and per category in one market, from the index: the return history the
premium is priced from (returntrace/insurance.py), in a shape any report can share.

A product's category is its product class as the registry records it (`idx_products.class_flags`,
set at ProductRegistered and by ProductClassReviewed): the one classification the chain proves, the
same across brands. The brand's signed ProductInfo document carries no category field.

An order counts once it is placed and not cancelled before delivery; it is a return once its buyer
requested one (`requested_at`); a return counts in the grade mix once settled with a grade A, B or C
(`settlement_path` set), and as statutory when the settlement says the law decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from returntrace.escrow import Grade
from returntrace.insurance import History, Outcome, tally

from ..store.index import IndexReader


@dataclass(frozen=True)
class OrderRow:
    gtin: str
    outcome: Outcome
    currency: str
    return_shipping_fee: int


@dataclass(frozen=True)
class ReturnStats:
    """One market's history for a GTIN and its category (all products of the same class, the GTIN's
    included), with the average return shipping of their orders in one currency."""

    market: int
    class_flags: int
    gtin: History
    category: History
    return_shipping: Fraction | None  # None: no order in this currency at either level
    return_shipping_level: str | None  # "gtin", "category" or None
    block: int | None  # the index's last block (None: nothing indexed yet)


def order_rows(reader: IndexReader, market: int, class_flags: int) -> list[OrderRow]:
    """Every indexed order of `market` whose product has these class flags."""
    rows = reader.db.execute(
        "SELECT u.gtin, o.requested_at, o.grade, o.statutory, o.settlement_path, o.currency, o.return_shipping_fee"
        " FROM idx_orders o JOIN idx_units u ON u.unit_id = o.unit_id JOIN idx_products p ON p.gtin = u.gtin"
        " WHERE o.market = ? AND p.class_flags = ? AND NOT (o.status = 'cancelled' AND o.requested_at IS NULL)",
        (market, class_flags),
    ).fetchall()
    out = []
    for gtin, requested_at, grade, statutory, path, currency, shipping in rows:
        settled = path is not None and grade is not None and Grade.A <= int(grade) <= Grade.C
        outcome = Outcome(
            returned=requested_at is not None,
            grade=Grade(int(grade)) if settled else None,
            statutory=bool(statutory) if settled else False,
        )
        out.append(OrderRow(gtin, outcome, currency.lower(), int(shipping)))
    return out


def _average(values: list[int]) -> Fraction | None:
    return Fraction(sum(values), len(values)) if values else None


def summarize(rows: list[OrderRow], gtin: str, market: int, class_flags: int, currency: str) -> ReturnStats:
    """The counts and the average return shipping (the GTIN's orders in `currency`, else the category's)."""
    own = [r for r in rows if r.gtin == gtin]
    shipping = _average([r.return_shipping_fee for r in own if r.currency == currency.lower()])
    level: str | None = "gtin" if shipping is not None else None
    if shipping is None:
        shipping = _average([r.return_shipping_fee for r in rows if r.currency == currency.lower()])
        level = "category" if shipping is not None else None
    return ReturnStats(
        market=market,
        class_flags=class_flags,
        gtin=tally(r.outcome for r in own),
        category=tally(r.outcome for r in rows),
        return_shipping=shipping,
        return_shipping_level=level,
        block=None,
    )


def return_stats(reader: IndexReader, gtin: str, market: int, class_flags: int, currency: str) -> ReturnStats:
    """The GTIN's and its category's history in `market` as indexed, with the index's block."""
    cursor = reader.cursor()
    stats = summarize(order_rows(reader, market, class_flags), gtin, market, class_flags, currency)
    return replace(stats, block=cursor.block if cursor else None)
