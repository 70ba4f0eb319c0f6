"""The analytics reader's SQL (api/read/analytics.py) against the rows it reads: a synthetic index
written through the index's own write path (bench/analytics.py), read back as a brand and as an
auditor, gives the figures the pure computation gives on the rows that were written."""

from __future__ import annotations

from pathlib import Path

from api.read.analytics import AnalyticsReader, Scope
from api.store.documents import Document
from api.store.index import SqliteIndex
from bench.analytics import BRANDS, synthetic_index
from returntrace import analytics
from returntrace.analytics import Rating, Selection, Settings


class Documents:
    """The documents store's two reads: one brand's settings, one buyer's rating (signed by someone else too)."""

    def __init__(self, brand: str, rated: int, buyer: str) -> None:
        self.brand, self.rated, self.buyer = brand, rated, buyer

    def _doc(self, kind: str, signer: str, message: dict) -> Document:
        return Document("0x01", kind, "", signer, 5, message, "0x", 1, "0x", 0.0)

    def current(self, kind: str, subject: str) -> Document | None:
        assert kind == "ReturnAnalyticsSettings"
        if subject != f"signer={self.brand.lower()}":
            return None
        fields = {"baselineFrom": 1_767_225_600, "baselineTo": 1_769_904_000, "restockBps": 9_000,
                  "donateBps": 2_000, "recycleBps": 500, "highReturnBps": 2_600}  # fmt: skip
        return self._doc(kind, self.brand, fields)

    def current_of_kind(self, kind: str) -> list[Document]:
        assert kind == "SatisfactionRating"
        return [
            self._doc(kind, self.buyer, {"buyer": self.buyer, "orderId": self.rated, "score": 5}),
            self._doc(kind, "0x" + "9" * 40, {"buyer": self.buyer, "orderId": self.rated + 1, "score": 1}),
        ]


def test_the_reader_reads_back_what_the_index_holds(tmp_path: Path):
    orders, spent = synthetic_index(tmp_path / "index.sqlite3", (1, "0xR", "0xE", 1, 10, "0xab"), events=3_000)
    brand = BRANDS[0].address
    first = next(o for o in orders if o.brand == brand)
    reader = AnalyticsReader(SqliteIndex(tmp_path / "index.sqlite3"), Documents(brand, first.order_id, first.buyer))
    settings = Settings(1_767_225_600, 1_769_904_000, 9_000, 2_000, 500, 2_600)
    ratings = [Rating(first.order_id, 5, first.buyer, 5), Rating(first.order_id + 1, 1, "0x" + "9" * 40, 5)]

    got = reader.figures(Scope(frozenset({brand})), settings_brand=brand)
    mine = [o for o in orders if o.brand == brand]
    # No synthetic merchant is a brand's own account: none of their redemptions is the brand's to see.
    want = analytics.figures(mine, Selection(), settings, ratings, [], attributable=())
    assert {k: v for k, v in got.items() if k not in ("settings", "index")} == want
    assert got["membership"] and all(e["redeemed"] is None for e in got["membership"])
    assert got["satisfaction"]["rated"] == 1 and got["settings"]["donate_bps"] == 2_000
    assert any(e["key"] == "reissue" for e in got["timeToRefund"]["byPath"])  # defect claims and replacements read
    assert got["index"] == {"block": 10, "blockHash": "0xab", "orders": len(orders), "verified": False,
                            "reason": "no_chain"}  # fmt: skip

    # An auditor's view of every brand, one market and one period, with the defaults.
    window = Selection(None, frozenset({1}), 1_770_000_000, 1_775_000_000)
    every = reader.figures(Scope(None, None, frozenset({1})), window.placed_from, window.placed_to)
    want = analytics.figures([o for o in orders if o.market == 1], window, Settings(), ratings, spent)
    assert {k: v for k, v in every.items() if k not in ("settings", "index")} == want
    assert {g["key"] for g in every["byGtin"]} > {o.gtin for o in mine if o.market == 1 and window.keeps(o)}
