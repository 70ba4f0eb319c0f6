"""Return analytics as a pure computation: rows in, figures out, no I/O.

The gateway's reader (api/read/analytics.py) turns the index (orders as the escrow's logs folded
them, store-points redemptions) and the signed documents (buyers' satisfaction ratings, the brand's
analytics settings) into the rows below; `figures` computes every number the dashboard and
`/v1/analytics/…` show. docs/analytics.md defines each figure for brands; the definitions here are
the same, word for word where it matters:

- An order is *returned* when the escrow recorded a return reason for it: a return request, or a
  defect claim at the reissue desk.
- The *return rate* of a group is its returned orders over its orders, both of the orders placed in
  the selection; by month it is the purchase-month cohort (returns of the orders placed that month
  over the orders placed that month, whenever they came back).
- The *reason* is the return desk's code the buyer confirmed when signing the request, or, without
  one, the escrow's coarse reason.
- *Time to refund*: from the return request's block to the block of the settlement that paid it
  (for a defective unit replaced at the reissue desk, from the defect claim to the replacement's
  delivery: path `reissue`); p50 and p90 by the nearest-rank method.
- *Cost of a return* (per currency, base units): the return shipping the merchant bore (the order's
  return shipping fee less what was deducted from the buyer) plus what went back to the buyer
  (cash refund and every store point minted) less the residual value recovered (the price times
  the brand's rate for the unit's disposition: restocked, donated, recycled; destroyed recovers 0).
- *Return cost per order*: the returns' costs over the orders placed; the *cost reduction* compares
  it with the brand's baseline period.
- *Membership points*: the grade points and exchange bonuses minted on the selected orders, and the
  points redeemed at their merchants in the selected period. Points are a merchant's, not a product's:
  a brand sees the redemptions of a merchant that is its own account only (None, with the reason, for
  any other merchant, which may sell other brands' products); an auditor sees every merchant's.
- *Satisfied*: a buyer-signed rating of 4 or 5 (of 1..5); the share is over the rated orders.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .escrow import Grade, Remedy, ReturnReason, SettlementPath, UnitDisposition

# The brief's targets.
TARGET_RETURN_RATE = 0.08  # below
TARGET_COST_REDUCTION = (0.30, 0.40)  # return costs down 30-40 % against the baseline
TARGET_SATISFACTION = 0.90  # above
SATISFIED_SCORE = 4  # a rating of 4 or 5 of 5
BPS = 10_000
REISSUE = "reissue"  # the path of a return that ended in a replacement (the reissue desk), not a refund
# A merchant that is not the brand's own account may sell other brands' products too; its points (and
# their redemptions) cannot be told apart by product, so the brand is not shown them.
NOT_ATTRIBUTABLE = "merchant_not_the_brand"


@dataclass(frozen=True)
class OrderRow:
    """One escrow order with its product, as the index folded it. Amounts in the currency's base units."""

    order_id: int
    gtin: str
    brand: str
    merchant: str
    market: int
    currency: str
    price: int
    placed_at: int  # unix seconds (block time of OrderPlaced)
    buyer: str = ""
    return_shipping_fee: int = 0
    reason: int | None = None  # ReturnReason; None: not returned
    reason_code: str | None = None  # the return desk's code the buyer confirmed (returntrace/reasons.py)
    requested_at: int | None = None
    remedy: int | None = None  # Remedy
    grade: int | None = None  # Grade (0 or None: none decided)
    disposition: int | None = None  # UnitDisposition the grade terms decided
    settlement_path: int | None = None  # SettlementPath of the OrderSettled that paid the return
    settled_at: int | None = None  # block time of that OrderSettled
    reissued_at: int | None = None  # block time of the ReissueCompleted that replaced a defective unit
    refund: int = 0
    points: int = 0  # every store point minted (grade points + the exchange voucher)
    voucher: int = 0  # of points: the exchange voucher (with its bonus)
    bonus: int = 0  # of voucher: the exchange bonus
    shipping_deducted: int = 0

    @property
    def returned(self) -> bool:
        return self.reason is not None

    @property
    def settled(self) -> bool:
        return self.settlement_path is not None

    @property
    def path(self) -> str | None:
        """How the return ended: the settlement path's key, `reissue` for a replacement, None while open."""
        if self.settled_at is not None:
            return SettlementPath.key_of(self.settlement_path or 0)
        return REISSUE if self.reissued_at is not None else None

    @property
    def wait(self) -> int | None:
        """Seconds from the return request (or defect claim) to its refund (or replacement); None while open."""
        done = self.settled_at if self.settled_at is not None else self.reissued_at
        return done - self.requested_at if done is not None and self.requested_at is not None else None


@dataclass(frozen=True)
class Redemption:
    """A PointsRedeemed log: `amount` points of `currency` burned at `merchant`."""

    merchant: str
    currency: str
    amount: int
    at: int | None = None


@dataclass(frozen=True)
class Rating:
    """A SatisfactionRating document: `score` 1..5 for `order_id`, signed by `signer`."""

    order_id: int
    score: int
    signer: str
    issued_at: int = 0


@dataclass(frozen=True)
class Settings:
    """A brand's analytics settings (the ReturnAnalyticsSettings document; defaults without one)."""

    baseline_from: int | None = None  # unix seconds, inclusive; None: no baseline set
    baseline_to: int | None = None  # exclusive
    restock_bps: int = BPS  # residual value of a restocked unit, of its price
    donate_bps: int = 0
    recycle_bps: int = 0
    high_return_bps: int = 800  # the high-return report lists GTINs above this return rate

    def residual_bps(self, disposition: int | None) -> int:
        return {
            UnitDisposition.RESTOCK: self.restock_bps,
            UnitDisposition.DONATE: self.donate_bps,
            UnitDisposition.RECYCLE: self.recycle_bps,
        }.get(disposition, 0)  # type: ignore[call-overload]


def month_of(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


def percentile(values: Iterable[int], p: int) -> int | None:
    """The nearest-rank p-th percentile: the smallest value at least p % of the values do not exceed."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p * len(ordered) / 100) - 1)]


def reason_key(o: OrderRow) -> str:
    """The return desk's code when the buyer confirmed one, else the escrow's coarse reason."""
    if o.reason_code:
        return o.reason_code
    return ReturnReason.key_of(o.reason) if o.reason is not None else "none"


def _rate(returns: int, orders: int) -> float | None:
    return returns / orders if orders else None


def _rates(orders: list[OrderRow], key: Callable[[OrderRow], Any]) -> list[dict[str, Any]]:
    groups: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for o in orders:
        g = groups[key(o)]
        g[0] += 1
        g[1] += o.returned
    return [
        {"key": k, "orders": n, "returns": r, "rate": _rate(r, n)}
        for k, (n, r) in sorted(groups.items(), key=lambda item: str(item[0]))
    ]


def return_cost(o: OrderRow, settings: Settings) -> dict[str, int]:
    """The cost of one settled return in its currency's base units (see the module's definition)."""
    shipping = max(0, o.return_shipping_fee - o.shipping_deducted)
    paid_back = o.refund + o.points
    residual = o.price * settings.residual_bps(o.disposition) // BPS
    return {
        "shipping": shipping,
        "paidBack": paid_back,
        "residual": residual,
        "net": shipping + paid_back - residual,
    }


def _costs(orders: list[OrderRow], settings: Settings) -> dict[str, dict[str, Any]]:
    """Per currency: orders placed, settled returns, their cost parts summed, cost per return and per order."""
    out: dict[str, dict[str, Any]] = {}
    for o in orders:
        c = out.setdefault(
            o.currency,
            {
                "orders": 0,
                "settledReturns": 0,
                "price": 0,
                "shipping": 0,
                "paidBack": 0,
                "residual": 0,
                "net": 0,
                "residualBy": {d.key: 0 for d in UnitDisposition},
            },
        )
        c["orders"] += 1
        if not (o.returned and o.settled):
            continue
        parts = return_cost(o, settings)
        c["settledReturns"] += 1
        c["price"] += o.price
        for name in ("shipping", "paidBack", "residual", "net"):
            c[name] += parts[name]
        if o.disposition is not None:
            c["residualBy"][UnitDisposition.key_of(o.disposition)] += parts["residual"]
    for c in out.values():
        c["perReturn"] = c["net"] / c["settledReturns"] if c["settledReturns"] else None
        c["perOrder"] = c["net"] / c["orders"] if c["orders"] else None
        c["paidBackOfPrice"] = c["paidBack"] / c["price"] if c["price"] else None
    return dict(sorted(out.items()))


def _times(orders: list[OrderRow], key: Callable[[OrderRow], str]) -> list[dict[str, Any]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for o in orders:
        if o.returned and o.wait is not None:
            groups[key(o)].append(o.wait)
    return [
        {"key": k, "count": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90)}
        for k, v in sorted(groups.items())
    ]


def _trend(monthly: list[dict[str, Any]]) -> str:
    """rising / falling / flat: the latest cohort's rate against the earliest's (two cohorts at least)."""
    rated = [m["rate"] for m in monthly if m["rate"] is not None]
    if len(rated) < 2 or rated[-1] == rated[0]:
        return "flat"
    return "rising" if rated[-1] > rated[0] else "falling"


def satisfaction(orders: list[OrderRow], ratings: Iterable[Rating]) -> dict[str, Any]:
    """Over the selected orders: the latest rating each order's own buyer signed (others are ignored)."""
    buyers = {o.order_id: o.buyer.lower() for o in orders}
    latest: dict[int, Rating] = {}
    for r in ratings:
        if buyers.get(r.order_id) != r.signer.lower() or not 1 <= r.score <= 5:
            continue
        if r.order_id not in latest or r.issued_at > latest[r.order_id].issued_at:
            latest[r.order_id] = r
    satisfied = sum(1 for r in latest.values() if r.score >= SATISFIED_SCORE)
    share = _rate(satisfied, len(latest))
    return {
        "rated": len(latest),
        "satisfied": satisfied,
        "share": share,
        "target": TARGET_SATISFACTION,
        "met": share is not None and share > TARGET_SATISFACTION,
    }


def membership(
    orders: list[OrderRow], redemptions: Iterable[Redemption], attributable: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Per merchant and currency: grade points and exchange bonuses issued on the orders, points redeemed.
    `attributable`: the merchants whose redemptions are the viewer's (None: every merchant's, an auditor);
    another merchant's redemptions are never counted, its rows say why (`redeemedReason`)."""
    own = None if attributable is None else {m.lower() for m in attributable}

    def shown(merchant: str) -> bool:
        return own is None or merchant.lower() in own

    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"gradePoints": 0, "exchangeBonus": 0, "redeemed": 0}
    )
    for o in orders:
        if o.settled and (o.points - o.voucher or o.bonus):
            r = rows[(o.merchant, o.currency)]
            r["gradePoints"] += o.points - o.voucher
            r["exchangeBonus"] += o.bonus
        elif not shown(o.merchant):
            rows[(o.merchant, o.currency)]  # listed, so the page says why its redemptions are not shown
    for d in redemptions:
        if shown(d.merchant):
            rows[(d.merchant, d.currency)]["redeemed"] += d.amount
    return [
        {
            "merchant": m,
            "currency": c,
            **v,
            "issued": v["gradePoints"] + v["exchangeBonus"],
            "redeemed": v["redeemed"] if shown(m) else None,
            "redeemedReason": None if shown(m) else NOT_ATTRIBUTABLE,
        }
        for (m, c), v in sorted(rows.items())
    ]


def high_returns(orders: list[OrderRow], settings: Settings, top: int = 3) -> list[dict[str, Any]]:
    """GTINs whose return rate is above the brand's threshold: top reasons, monthly trend, cost caused."""
    by_gtin: dict[str, list[OrderRow]] = defaultdict(list)
    for o in orders:
        by_gtin[o.gtin].append(o)
    out = []
    for gtin, rows in sorted(by_gtin.items()):
        returns = [o for o in rows if o.returned]
        if len(returns) * BPS <= settings.high_return_bps * len(rows):
            continue
        reasons = Counter(reason_key(o) for o in returns)
        monthly = _rates(rows, lambda o: month_of(o.placed_at))
        out.append(
            {
                "gtin": gtin,
                "orders": len(rows),
                "returns": len(returns),
                "rate": len(returns) / len(rows),
                "topReasons": [
                    {"reason": k, "returns": n}
                    for k, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
                ],
                "trend": _trend(monthly),
                "monthly": monthly,
                "cost": {c: v["net"] for c, v in _costs(rows, settings).items() if v["settledReturns"]},
            }
        )
    return sorted(out, key=lambda g: (-g["rate"], g["gtin"]))


@dataclass
class Selection:
    """What the figures are about: None is no condition. Times are unix seconds, `to` exclusive."""

    gtins: frozenset[str] | None = None
    markets: frozenset[int] | None = None
    placed_from: int | None = None
    placed_to: int | None = None

    def during(self, ts: int | None) -> bool:
        """Whether a time falls in the selected period (an unknown time: kept)."""
        return ts is None or (
            (self.placed_from is None or ts >= self.placed_from) and (self.placed_to is None or ts < self.placed_to)
        )

    def keeps(self, o: OrderRow) -> bool:
        return (
            (self.gtins is None or o.gtin in self.gtins)
            and (self.markets is None or o.market in self.markets)
            and (self.placed_from is None or o.placed_at >= self.placed_from)
            and (self.placed_to is None or o.placed_at < self.placed_to)
        )


def _cost_reduction(
    current: dict[str, dict[str, Any]], baseline: dict[str, dict[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """Per currency: return cost per order now against the baseline period's (1 - now / then)."""
    out: dict[str, dict[str, Any]] = {}
    for currency, c in current.items():
        b = (baseline or {}).get(currency)
        then = b["perOrder"] if b else None
        reduction = 1 - c["perOrder"] / then if then and c["perOrder"] is not None else None
        out[currency] = {
            "perOrder": c["perOrder"],
            "baselinePerOrder": then,
            "reduction": reduction,
            "target": list(TARGET_COST_REDUCTION),
            "met": reduction is not None and reduction >= TARGET_COST_REDUCTION[0],
        }
    return out


def figures(
    orders: Iterable[OrderRow],
    selection: Selection,
    settings: Settings,
    ratings: Iterable[Rating] = (),
    redemptions: Iterable[Redemption] = (),
    attributable: Collection[str] | None = None,
) -> dict[str, Any]:
    """Every figure of the dashboard over the orders `selection` keeps (the baseline period is taken
    from all the orders given with the selection's GTINs and markets); `attributable` as `membership`."""
    everything = list(orders)
    chosen = [o for o in everything if selection.keeps(o)]
    returns = [o for o in chosen if o.returned]
    graded = Counter(Grade.key_of(o.grade) for o in returns if o.grade)
    remedies = [o for o in returns if o.remedy is not None]
    exchanges = sum(1 for o in remedies if o.remedy == Remedy.EXCHANGE)
    costs = _costs(chosen, settings)
    baseline = None
    if settings.baseline_from is not None and settings.baseline_to is not None:
        period = Selection(selection.gtins, selection.markets, settings.baseline_from, settings.baseline_to)
        baseline = _costs([o for o in everything if period.keeps(o)], settings)
    rate = _rate(len(returns), len(chosen))
    return {
        "orders": len(chosen),
        "returns": len(returns),
        "returnRate": {
            "rate": rate,
            "target": TARGET_RETURN_RATE,
            "met": rate is not None and rate < TARGET_RETURN_RATE,
        },
        "byGtin": _rates(chosen, lambda o: o.gtin),
        "byMarket": _rates(chosen, lambda o: o.market),
        "byMonth": _rates(chosen, lambda o: month_of(o.placed_at)),
        "byReason": [
            {"key": k, "returns": n, "share": n / len(returns), "rate": n / len(chosen)}
            for k, n in sorted(Counter(reason_key(o) for o in returns).items())
        ],
        "gradeMix": {
            "graded": sum(graded.values()),
            "grades": {g.key.upper(): graded.get(g.key, 0) for g in Grade if g != Grade.NONE},
        },
        "exchangeShare": {"returns": len(remedies), "exchanges": exchanges, "share": _rate(exchanges, len(remedies))},
        "timeToRefund": {
            "byMarket": _times(chosen, lambda o: str(o.market)),
            "byPath": _times(chosen, lambda o: o.path or ""),
        },
        "costs": costs,
        "costReduction": _cost_reduction(costs, baseline),
        "satisfaction": satisfaction(chosen, ratings),
        "highReturns": high_returns(chosen, settings),
        "membership": membership(chosen, [d for d in redemptions if selection.during(d.at)], attributable),
    }


def _market(key: Any, names: dict[int, str]) -> str:
    return names.get(int(key), str(key))


def tables(f: dict[str, Any], market_names: dict[int, str]) -> dict[str, list[dict[str, Any]]]:
    """The figures as flat tables, one row per entry (the CSV exports and the page's tables)."""
    rates = [
        {
            "dimension": dimension,
            **row,
            "key": _market(row["key"], market_names) if dimension == "market" else row["key"],
        }
        for dimension, name in (("gtin", "byGtin"), ("market", "byMarket"), ("month", "byMonth"))
        for row in f[name]
    ] + [
        {"dimension": "reason", "key": r["key"], "orders": f["orders"], "returns": r["returns"], "rate": r["rate"]}
        for r in f["byReason"]
    ]
    times = [
        {
            "dimension": dimension,
            "key": _market(row["key"], market_names) if dimension == "market" else row["key"],
            "count": row["count"],
            "p50Seconds": row["p50"],
            "p90Seconds": row["p90"],
        }
        for dimension, name in (("market", "byMarket"), ("path", "byPath"))
        for row in f["timeToRefund"][name]
    ]
    costs = [
        {
            "currency": currency,
            **{k: v for k, v in c.items() if k != "residualBy"},
            **{f"residual_{d}": v for d, v in c["residualBy"].items()},
            "baselinePerOrder": f["costReduction"][currency]["baselinePerOrder"],
            "reduction": f["costReduction"][currency]["reduction"],
        }
        for currency, c in f["costs"].items()
    ]
    s = f["satisfaction"]
    targets = [
        {"figure": "return_rate", "value": f["returnRate"]["rate"], "target": "< 0.08", "met": f["returnRate"]["met"]}
    ]
    targets += [
        {"figure": f"cost_reduction_{currency}", "value": r["reduction"], "target": ">= 0.30", "met": r["met"]}
        for currency, r in f["costReduction"].items()
    ]
    targets.append({"figure": "satisfaction", "value": s["share"], "target": "> 0.90", "met": s["met"]})
    return {
        "return-rates": rates,
        "grade-mix": [{"grade": g, "returns": n} for g, n in f["gradeMix"]["grades"].items()],
        "exchange-share": [f["exchangeShare"]],
        "time-to-refund": times,
        "costs": costs,
        "targets": targets,
        "satisfaction": [{k: v for k, v in s.items()}],
        "high-returns": [
            {
                "gtin": g["gtin"],
                "orders": g["orders"],
                "returns": g["returns"],
                "rate": g["rate"],
                "trend": g["trend"],
                "topReasons": "; ".join(f"{r['reason']}: {r['returns']}" for r in g["topReasons"]),
                "cost": "; ".join(f"{c}: {v}" for c, v in g["cost"].items()),
            }
            for g in f["highReturns"]
        ],
        "membership": f["membership"],
    }


TABLES = (
    "return-rates",
    "grade-mix",
    "exchange-share",
    "time-to-refund",
    "costs",
    "targets",
    "satisfaction",
    "high-returns",
    "membership",
)
