"""Return analytics (returntrace/analytics.py) against an independent, straightforward computation of
the same definitions (docs/analytics.md) on generated synthetic logs: orders, returns, settlements,
grades, dispositions, ratings and redemptions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returntrace import analytics
from returntrace.analytics import OrderRow, Rating, Redemption, Selection, Settings

GTINS = ("04012345000016", "04012345000023", "04012345000030")
MERCHANTS = ("0xM1", "0xM2")
BUYERS = ("0xb1", "0xb2", "0xb3")
CURRENCIES = ("native", "0xusdc")
START = 1_767_225_600  # 2026-01-01
DAY = 86_400
CODES = (None, "size_fit", "defective", "changed_mind")


@st.composite
def an_order(draw: st.DrawFn, order_id: int) -> OrderRow:
    placed = START + draw(st.integers(0, 150)) * DAY + draw(st.sampled_from([0, 1, 3600, DAY - 1]))  # edges of periods
    price = draw(st.integers(1, 10**6))
    base = dict(
        order_id=order_id,
        gtin=draw(st.sampled_from(GTINS)),
        brand="0xBrand",
        merchant=draw(st.sampled_from(MERCHANTS)),
        market=draw(st.integers(0, 2)),
        currency=draw(st.sampled_from(CURRENCIES)),
        price=price,
        placed_at=placed,
        buyer=draw(st.sampled_from(BUYERS)),
        return_shipping_fee=draw(st.integers(0, 1000)),
    )
    if not draw(st.booleans()):
        return OrderRow(**base)
    requested = placed + draw(st.integers(0, 30 * DAY))
    if draw(st.integers(0, 5)) == 0:  # a defective unit replaced at the reissue desk: no settlement
        replaced = requested + draw(st.integers(0, 9 * DAY)) if draw(st.booleans()) else None
        return OrderRow(**base, reason=1, requested_at=requested, reissued_at=replaced)
    settled = draw(st.booleans())
    grade = draw(st.integers(0, 3)) if settled else draw(st.sampled_from([None, 0]))
    voucher = draw(st.integers(0, price)) if settled else 0
    return OrderRow(
        **base,
        reason=draw(st.integers(0, 6)),
        reason_code=draw(st.sampled_from(CODES)),
        requested_at=requested,
        remedy=draw(st.sampled_from([None, 0, 1])),
        grade=grade,
        disposition=draw(st.integers(0, 3)) if grade else None,
        settlement_path=draw(st.integers(0, 8)) if settled else None,
        settled_at=requested + draw(st.integers(0, 20 * DAY)) if settled else None,
        refund=draw(st.integers(0, price)) if settled else 0,
        points=voucher + (draw(st.integers(0, 500)) if settled else 0),
        voucher=voucher,
        bonus=draw(st.integers(0, voucher)),
        shipping_deducted=draw(st.integers(0, base["return_shipping_fee"])) if settled else 0,
    )


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[OrderRow], list[Rating], list[Redemption], Settings, Selection]:
    n = draw(st.integers(0, 40))
    orders = [draw(an_order(i + 1)) for i in range(n)]
    ratings = [
        Rating(
            draw(st.integers(1, max(1, n))),
            draw(st.integers(0, 6)),
            draw(st.sampled_from(BUYERS)),
            draw(st.integers(0, 5)),
        )
        for _ in range(draw(st.integers(0, 15)))
    ]
    spent = [
        Redemption(
            draw(st.sampled_from(MERCHANTS)),
            draw(st.sampled_from(CURRENCIES)),
            draw(st.integers(1, 999)),
            START + draw(st.integers(0, 160)) * DAY,
        )
        for _ in range(draw(st.integers(0, 5)))
    ]
    start = START + draw(st.integers(0, 60)) * DAY
    config = Settings(
        baseline_from=start,
        baseline_to=start + draw(st.integers(1, 60)) * DAY,
        restock_bps=draw(st.integers(0, 10_000)),
        donate_bps=draw(st.integers(0, 10_000)),
        recycle_bps=draw(st.integers(0, 10_000)),
        high_return_bps=draw(st.integers(0, 10_000)),
    )
    chosen = draw(st.sets(st.sampled_from(GTINS), min_size=1))
    selection = Selection(
        gtins=frozenset(chosen) if draw(st.booleans()) else None,
        markets=frozenset(draw(st.sets(st.integers(0, 2), min_size=1))) if draw(st.booleans()) else None,
        placed_from=START + draw(st.integers(0, 80)) * DAY if draw(st.booleans()) else None,
        placed_to=START + draw(st.integers(80, 160)) * DAY if draw(st.booleans()) else None,
    )
    return orders, ratings, spent, config, selection


# ------------------------------------------------------------------ the independent computation


def month(ts: int) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return f"{d.year:04d}-{d.month:02d}"


def nearest_rank(values: list[int], p: int) -> int | None:
    if not values:
        return None
    values = sorted(values)
    rank = 1
    while rank * 100 < p * len(values):  # the smallest rank with rank/n >= p/100
        rank += 1
    return values[rank - 1]


def kept(o: OrderRow, s: Selection) -> bool:
    if s.gtins is not None and o.gtin not in s.gtins:
        return False
    if s.markets is not None and o.market not in s.markets:
        return False
    if s.placed_from is not None and o.placed_at < s.placed_from:
        return False
    return not (s.placed_to is not None and o.placed_at >= s.placed_to)


def rate_rows(orders: list[OrderRow], key) -> list[dict]:
    keys = sorted({key(o) for o in orders}, key=str)
    out = []
    for k in keys:
        group = [o for o in orders if key(o) == k]
        back = len([o for o in group if o.reason is not None])
        out.append({"key": k, "orders": len(group), "returns": back, "rate": back / len(group)})
    return out


def residual_rate(o: OrderRow, c: Settings) -> int:
    if o.disposition == 0:
        return c.restock_bps
    if o.disposition == 1:
        return c.donate_bps
    if o.disposition == 2:
        return c.recycle_bps
    return 0


def net_cost(o: OrderRow, c: Settings) -> int:
    shipping = o.return_shipping_fee - o.shipping_deducted
    return shipping + o.refund + o.points - o.price * residual_rate(o, c) // 10_000


def cost_per_order(orders: list[OrderRow], currency: str, c: Settings) -> float:
    mine = [o for o in orders if o.currency == currency]
    costs = [net_cost(o, c) for o in mine if o.reason is not None and o.settlement_path is not None]
    return sum(costs) / len(mine)


def reason_of(o: OrderRow) -> str:
    names = ["withdrawal", "defective", "not_as_described", "wrong_item", "damaged_in_transit", "no_longer_needed"]
    return o.reason_code or (names + ["other"])[o.reason]


def check(orders, ratings, spent, config, selection, got) -> None:
    chosen = [o for o in orders if kept(o, selection)]
    back = [o for o in chosen if o.reason is not None]
    assert got["orders"] == len(chosen) and got["returns"] == len(back)
    assert got["returnRate"]["rate"] == (len(back) / len(chosen) if chosen else None)
    assert got["byGtin"] == rate_rows(chosen, lambda o: o.gtin)
    assert got["byMarket"] == rate_rows(chosen, lambda o: o.market)
    assert got["byMonth"] == rate_rows(chosen, lambda o: month(o.placed_at))
    for entry in got["byReason"]:
        n = len([o for o in back if reason_of(o) == entry["key"]])
        assert (entry["returns"], entry["rate"]) == (n, n / len(chosen))
    assert sum(e["returns"] for e in got["byReason"]) == len(back)

    for letter, g in (("A", 1), ("B", 2), ("C", 3)):
        assert got["gradeMix"]["grades"][letter] == len([o for o in back if o.grade == g])
    with_remedy = [o for o in back if o.remedy is not None]
    assert got["exchangeShare"]["returns"] == len(with_remedy)
    assert got["exchangeShare"]["exchanges"] == len([o for o in with_remedy if o.remedy == 1])

    def done(o: OrderRow) -> int | None:
        return o.settled_at if o.settled_at is not None else o.reissued_at

    waits = [o for o in back if done(o) is not None]
    for m in range(3):
        times = [done(o) - o.requested_at for o in waits if o.market == m]
        entry = [e for e in got["timeToRefund"]["byMarket"] if e["key"] == str(m)]
        if times:
            assert entry == [{"key": str(m), "count": len(times), "p50": nearest_rank(times, 50),
                              "p90": nearest_rank(times, 90)}]  # fmt: skip
        else:
            assert entry == []
    assert sum(e["count"] for e in got["timeToRefund"]["byPath"]) == len(waits)
    replaced = [done(o) - o.requested_at for o in waits if o.settled_at is None]
    entry = [e for e in got["timeToRefund"]["byPath"] if e["key"] == "reissue"]
    assert entry == ([{"key": "reissue", "count": len(replaced), "p50": nearest_rank(replaced, 50),
                       "p90": nearest_rank(replaced, 90)}] if replaced else [])  # fmt: skip

    for currency in CURRENCIES:
        mine = [o for o in chosen if o.currency == currency]
        if not mine:
            assert currency not in got["costs"]
            continue
        c = got["costs"][currency]
        paid = [o for o in mine if o.reason is not None and o.settlement_path is not None]
        assert c["net"] == sum(net_cost(o, config) for o in paid)
        assert c["perOrder"] == cost_per_order(chosen, currency, config)
        assert c["shipping"] == sum(o.return_shipping_fee - o.shipping_deducted for o in paid)
        then = [o for o in orders if o.currency == currency and kept(o, Selection(
            selection.gtins, selection.markets, config.baseline_from, config.baseline_to))]  # fmt: skip
        reduction = got["costReduction"][currency]["reduction"]
        base = cost_per_order(then, currency, config) if then else None
        assert reduction == (1 - c["perOrder"] / base if base else None)

    latest: dict[int, Rating] = {}
    buyers = {o.order_id: o.buyer for o in chosen}
    for r in ratings:
        mine = buyers.get(r.order_id) == r.signer and 1 <= r.score <= 5
        if mine and (r.order_id not in latest or latest[r.order_id].issued_at < r.issued_at):
            latest[r.order_id] = r
    happy = len([r for r in latest.values() if r.score >= 4])
    assert (got["satisfaction"]["rated"], got["satisfaction"]["satisfied"]) == (len(latest), happy)

    high = [row for row in rate_rows(chosen, lambda o: o.gtin) if row["rate"] * 10_000 > config.high_return_bps]
    assert [g["gtin"] for g in got["highReturns"]] == [
        row["key"] for row in sorted(high, key=lambda row: (-row["rate"], row["key"]))
    ]
    for g in got["highReturns"]:
        mine = [o for o in back if o.gtin == g["gtin"]]
        counts = {reason_of(o): 0 for o in mine}
        for o in mine:
            counts[reason_of(o)] += 1
        assert g["topReasons"][0]["returns"] == max(counts.values())

    lo, hi = selection.placed_from, selection.placed_to
    spent_then = [d for d in spent if (lo is None or d.at >= lo) and (hi is None or d.at < hi)]
    for entry in got["membership"]:
        mine = [o for o in chosen if o.merchant == entry["merchant"] and o.currency == entry["currency"]]
        settled = [o for o in mine if o.settlement_path is not None]
        assert entry["gradePoints"] == sum(o.points - o.voucher for o in settled)
        assert entry["exchangeBonus"] == sum(o.bonus for o in settled)
        assert entry["redeemed"] == sum(
            d.amount for d in spent_then if d.merchant == entry["merchant"] and d.currency == entry["currency"]
        )
    assert sum(e["redeemed"] for e in got["membership"]) == sum(d.amount for d in spent_then)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_figures_agree_with_an_independent_computation(log):
    orders, ratings, spent, config, selection = log
    got = analytics.figures(orders, selection, config, ratings, spent)
    check(orders, ratings, spent, config, selection, got)


def test_percentile_is_nearest_rank():
    assert analytics.percentile([], 50) is None
    assert analytics.percentile([5], 90) == 5
    assert analytics.percentile([1, 2, 3, 4], 50) == 2
    assert analytics.percentile(range(1, 11), 90) == 9
    assert analytics.percentile(range(1, 12), 90) == 10


def test_targets_and_trend_by_hand():
    """Ten orders of one GTIN in January (two returned) and ten in February (five returned)."""
    jan, feb = START, START + 31 * DAY
    rows = [
        OrderRow(i, GTINS[0], "0xB", "0xM1", 0, "native", 1000, jan if i <= 10 else feb, buyer="0xb1")
        for i in range(1, 21)
    ]
    returned = {1: jan, 2: jan, 11: feb, 12: feb, 13: feb, 14: feb, 15: feb}
    rows = [
        replace(o, reason=5, requested_at=returned[o.order_id] + DAY) if o.order_id in returned else o for o in rows
    ]
    got = analytics.figures(rows, Selection(), Settings(high_return_bps=2000))
    assert got["returnRate"] == {"rate": 7 / 20, "target": 0.08, "met": False}
    assert [(m["key"], m["rate"]) for m in got["byMonth"]] == [("2026-01", 0.2), ("2026-02", 0.5)]
    [high] = got["highReturns"]
    assert (high["gtin"], high["trend"], high["topReasons"]) == (
        GTINS[0],
        "rising",
        [{"reason": "no_longer_needed", "returns": 7}],
    )
    assert analytics.figures(rows, Selection(), Settings(high_return_bps=3500))["highReturns"] == []


def test_satisfaction_counts_only_the_buyers_own_latest_rating():
    o = OrderRow(1, GTINS[0], "0xB", "0xM1", 0, "native", 1000, START, buyer="0xB1")
    ratings = [Rating(1, 5, "0xb1", 1), Rating(1, 2, "0xb1", 2), Rating(1, 5, "0xstranger", 3), Rating(2, 5, "0xb1", 1)]
    got = analytics.satisfaction([o], ratings)
    assert (got["rated"], got["satisfied"], got["met"]) == (1, 0, False)
    assert analytics.satisfaction([o], ratings[:1])["met"] is True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.sets(st.sampled_from(MERCHANTS)))
def test_a_brand_sees_only_its_own_merchants_redemptions(log, own):
    """Redemptions of a merchant outside `own` are never counted: its rows show None and the reason."""
    orders, ratings, spent, config, selection = log
    got = analytics.figures(orders, selection, config, ratings, spent, own)["membership"]
    lo, hi = selection.placed_from, selection.placed_to
    for entry in got:
        if entry["merchant"] in own:
            assert entry["redeemedReason"] is None
            assert entry["redeemed"] == sum(
                d.amount
                for d in spent
                if (d.merchant, d.currency) == (entry["merchant"], entry["currency"])
                and (lo is None or d.at >= lo)
                and (hi is None or d.at < hi)
            )
        else:
            assert (entry["redeemed"], entry["redeemedReason"]) == (None, analytics.NOT_ATTRIBUTABLE)
    sold_by = {o.merchant for o in orders if selection.keeps(o)}
    assert {e["merchant"] for e in got if e["merchant"] not in own} == sold_by - own  # each one said why


def test_another_brands_redemptions_at_a_shared_merchant_are_not_shown():
    """The leak: brands A and B sell through one merchant account; A's buyer redeems 700 points there.
    B sees that merchant's redemptions as not attributable, never A's 700; the merchant's own brand
    (its account) and an auditor see them."""
    shop, b_own = "0xshop", "0xbrandb"
    a = OrderRow(1, GTINS[0], "0xbranda", shop, 0, "native", 1000, START, buyer=BUYERS[0])
    b = OrderRow(2, GTINS[1], b_own, shop, 0, "native", 1000, START, buyer=BUYERS[1])
    b_at_home = replace(b, order_id=3, merchant=b_own)
    spent = [Redemption(shop, "native", 700, START + DAY), Redemption(b_own, "native", 50, START + DAY)]
    seen_by_b = analytics.figures([b, b_at_home], Selection(), Settings(), (), spent, {b_own})["membership"]
    assert [(e["merchant"], e["redeemed"], e["redeemedReason"]) for e in seen_by_b] == [
        (b_own, 50, None),
        (shop, None, analytics.NOT_ATTRIBUTABLE),
    ]
    [seen_by_shop] = analytics.figures([a], Selection(), Settings(), (), spent, {shop})["membership"]
    assert seen_by_shop["redeemed"] == 700
    auditor = analytics.figures([a, b], Selection(), Settings(), (), spent)["membership"]
    assert {e["merchant"]: e["redeemed"] for e in auditor} == {shop: 700, b_own: 50}
