"""Return analytics' rows from the index and the signed documents (returntrace/analytics.py computes).

One read transaction of the index gives every order of the selected products with its product,
the time of the settlement that paid its return, and the StorePoints redemptions; the documents
store gives the buyers' `SatisfactionRating`s and the brand's `ReturnAnalyticsSettings`; the
reason-code store the return desk's code each buyer confirmed when signing the request.

The figures are stated at the index's block, with the chain's proof of it (`proof`): the block's
hash as the chain has it now (the index describes the canonical chain) and the escrow's order count
at that block against the orders indexed (none missing, none extra).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from returntrace import analytics
from returntrace.analytics import OrderRow, Rating, Redemption, Settings

from ..chain.blocks import at
from ..chain.guard import ChainUnavailable
from ..chain.proofs import BlockReads
from ..store.documents import Document
from ..store.index import IndexReader, SqliteIndex

SETTINGS_KIND = "ReturnAnalyticsSettings"  # the brand's settings (returntrace/documents.py)
RATING_KIND = "SatisfactionRating"  # a buyer's rating of an order's return (returntrace/documents.py)

# idx_orders with its product: the brand of the GTIN as the registry registered it, the block time of
# the OrderSettled that paid the return (a later settlement of the same order: its latest), and for a
# defect claimed at the reissue desk, when it was claimed and when the replacement was delivered.
_ORDERS_SQL = """
SELECT o.order_id, u.gtin, p.brand, o.merchant, o.market, o.currency, o.price, o.placed_at, o.buyer,
       o.return_shipping_fee, o.reason, o.requested_at, o.remedy, o.grade, o.settled_disposition,
       o.settlement_path, o.refund, o.points, o.voucher, o.bonus, o.shipping_deducted,
       (SELECT MAX(e.block_time) FROM idx_escrow_events e WHERE e.order_id = o.order_id AND e.name = 'OrderSettled'),
       (SELECT MIN(e.block_time) FROM idx_escrow_events e WHERE e.order_id = o.order_id AND e.name = 'DefectClaimed'),
       (SELECT MAX(e.block_time) FROM idx_escrow_events e WHERE e.order_id = o.order_id AND e.name = 'ReissueCompleted')
FROM idx_orders o JOIN idx_units u ON u.unit_id = o.unit_id JOIN idx_products p ON p.gtin = u.gtin
"""


class DocumentSource(Protocol):
    def current(self, kind: str, subject: str) -> Document | None: ...
    def current_of_kind(self, kind: str) -> list[Document]: ...


class ReasonCodes(Protocol):
    def codes(self, order_ids: list[int]) -> dict[int, str]: ...


@dataclass(frozen=True)
class Scope:
    """Whose data: `brands` None is every brand (an auditor); GTINs and markets None: no condition.
    `every_merchant`: an auditor, who sees every merchant's redemptions; a brand sees only those of a
    merchant that is one of `brands` (points are the merchant's, and a merchant may sell other brands')."""

    brands: frozenset[str] | None
    gtins: frozenset[str] | None = None
    markets: frozenset[int] | None = None
    every_merchant: bool = False

    def attributable(self, merchants: set[str]) -> set[str] | None:
        """The merchants whose redemptions are this scope's (None: every merchant's)."""
        if self.every_merchant or self.brands is None:
            return None
        own = {b.lower() for b in self.brands}
        return {m for m in merchants if m.lower() in own}


def _int(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


def order_rows(r: IndexReader, scope: Scope) -> list[OrderRow]:
    """Every indexed order of the scope's products (placed at any time: the baseline needs them)."""
    where, params = [], []
    for column, values in (("p.brand", scope.brands), ("u.gtin", scope.gtins), ("o.market", scope.markets)):
        if values is not None:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params += sorted(values)
    sql = _ORDERS_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY o.order_id"
    out = []
    for row in r.db.execute(sql, params):
        (order_id, gtin, brand, merchant, market, currency, price, placed_at, buyer, fee, reason, requested_at) = row[
            :12
        ]
        (remedy, grade, disposition, path, refund, points, voucher, bonus, deducted, settled_at) = row[12:22]
        claimed_at, reissued_at = row[22:]
        out.append(
            OrderRow(
                order_id=int(order_id),
                gtin=gtin,
                brand=brand,
                merchant=merchant,
                market=int(market),
                currency=currency,
                price=int(price),
                placed_at=_int(placed_at),
                buyer=buyer,
                return_shipping_fee=_int(fee),
                reason=reason,
                requested_at=requested_at if requested_at is not None else claimed_at,
                remedy=remedy,
                grade=grade,
                disposition=disposition,
                settlement_path=path,
                settled_at=settled_at if path is not None else None,
                reissued_at=reissued_at,
                refund=_int(refund),
                points=_int(points),
                voucher=_int(voucher),
                bonus=_int(bonus),
                shipping_deducted=_int(deducted),
            )
        )
    return out


def redemptions(r: IndexReader, merchants: set[str]) -> list[Redemption]:
    """The PointsRedeemed logs of these merchants (points are the merchant's, not a product's)."""
    out = []
    for merchant, currency, amount, when in r.db.execute(
        "SELECT json_extract(args, '$.merchant'), json_extract(args, '$.currency'), json_extract(args, '$.amount'),"
        " block_time FROM idx_escrow_events WHERE name = 'PointsRedeemed' ORDER BY block, log_index"
    ):
        if merchant in merchants:
            out.append(Redemption(merchant, currency, int(amount), when))
    return out


def settings_of(document: Document | None) -> Settings:
    """A brand's ReturnAnalyticsSettings document as Settings; the defaults without one."""
    if document is None:
        return Settings()
    m = document.message
    start, end = int(m["baselineFrom"]), int(m["baselineTo"])
    return Settings(
        baseline_from=start if start or end else None,
        baseline_to=end if start or end else None,
        restock_bps=int(m["restockBps"]),
        donate_bps=int(m["donateBps"]),
        recycle_bps=int(m["recycleBps"]),
        high_return_bps=int(m["highReturnBps"]),
    )


def ratings(documents: DocumentSource) -> list[Rating]:
    """Every SatisfactionRating in force (the computation keeps only those the order's buyer signed)."""
    return [
        Rating(int(d.message["orderId"]), int(d.message["score"]), d.signer, int(d.issued_at))
        for d in documents.current_of_kind(RATING_KIND)
    ]


class AnalyticsReader:
    def __init__(
        self,
        index: SqliteIndex,
        documents: DocumentSource,
        reads: BlockReads | None = None,
        codes: ReasonCodes | None = None,
    ) -> None:
        self.index, self.documents, self.reads, self.codes = index, documents, reads, codes

    def settings(self, brand: str | None) -> tuple[Settings, dict[str, Any] | None]:
        """The brand's settings and the document they come from ({id, issuedAt}); defaults for none."""
        if brand is None:
            return Settings(), None
        document = self.documents.current(SETTINGS_KIND, f"signer={brand.lower()}")
        source = {"id": document.id, "issuedAt": document.issued_at} if document else None
        return settings_of(document), source

    def figures(
        self,
        scope: Scope,
        placed_from: int | None = None,
        placed_to: int | None = None,
        settings_brand: str | None = None,
    ) -> dict[str, Any]:
        """The figures of `scope` for orders placed from `placed_from` to `placed_to` (exclusive), with
        the brand's settings (`settings_brand`: the signed-in brand; an auditor's view uses the defaults
        unless it names one), stated at the index's block."""
        with self.index.read() as r:
            cursor = r.cursor()
            count = r.db.execute("SELECT COUNT(*) FROM idx_orders").fetchone()[0]
            rows = order_rows(r, scope)
            merchants = {o.merchant for o in rows}
            attributable = scope.attributable(merchants)
            spent = redemptions(r, merchants if attributable is None else attributable)
        if self.codes is not None:
            found = self.codes.codes([o.order_id for o in rows if o.returned])
            rows = [_with_code(o, found.get(o.order_id)) for o in rows]
        settings, source = self.settings(settings_brand)
        selection = analytics.Selection(scope.gtins, scope.markets, placed_from, placed_to)
        out = analytics.figures(rows, selection, settings, ratings(self.documents), spent, attributable)
        out["settings"] = {**settings.__dict__, "document": source}
        out["index"] = self.proof(cursor.block if cursor else None, cursor.block_hash if cursor else None, count)
        return out

    def proof(self, block: int | None, block_hash: str | None, orders: int) -> dict[str, Any]:
        """The index's block proved against the chain: its hash, and the escrow's orderCount there."""
        out: dict[str, Any] = {"block": block, "blockHash": block_hash, "orders": orders, "verified": False}
        if block is None or self.reads is None:
            out["reason"] = "not_indexed" if block is None else "no_chain"
            return out
        reads = self.reads
        try:
            chain_hash = reads.guard.guarded(lambda: "0x" + bytes(reads.w3.eth.get_block(block)["hash"]).hex())
            onchain = reads.order_count(at(block, block_hash))
        except ChainUnavailable as exc:
            out["reason"] = f"chain_unavailable: {exc}"
            return out
        out["onchainOrders"] = onchain
        if chain_hash != block_hash:
            out["reason"] = "reorganised"
        elif onchain != orders:
            out["reason"] = "order_count_mismatch"
        else:
            out["verified"] = True
            out["reason"] = None
        return out


def _with_code(o: OrderRow, code: str | None) -> OrderRow:
    return o if code is None else replace(o, reason_code=code)


def brand_gtins(index: SqliteIndex, brand: str) -> list[str]:
    """The GTINs the registry registered to `brand`."""
    with index.read() as r:
        return [g for (g,) in r.db.execute("SELECT gtin FROM idx_products WHERE brand = ? ORDER BY gtin", (brand,))]
