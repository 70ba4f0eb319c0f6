"""Return analytics for brands and auditors (docs/analytics.md defines every figure).

    GET /v1/analytics                 every figure (JSON)
    GET /v1/analytics/{table}         one table: return-rates, grade-mix, exchange-share, time-to-refund,
                                      costs, targets, satisfaction, high-returns, membership
                                      (JSON, or CSV with ?format=csv or Accept: text/csv)

Filters: `brand` (address), `gtin` (repeatable), `market` (EU, US, CN or its number; repeatable),
`from` / `to` (purchase time, unix seconds or ISO 8601; `to` exclusive). Signed in (Sign-In with
Ethereum) as a brand, the figures are of that brand's products only (the brand the registry
registered each GTIN to, as indexed), while the registry accredits it as a brand at the head block
(a revoked brand's session reads nothing): another brand or another brand's GTIN is 403. Auditors
(RT_AUDITORS) see every brand. Anyone else: 401 signed out, 403 signed in.

Every answer states the index block the figures were computed at and its proof against the chain
(`index`: the block's hash as the chain has it, the escrow's order count there against the orders
indexed); every CSV row carries that block (`indexBlock`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from returntrace import analytics, gs1
from returntrace.policies import MARKET_NAMES
from returntrace.vocab import Role

from ...chain.parties import Standing
from ...errors import ApiError, parse_storable
from ...read.analytics import Scope, brand_gtins
from ..auth.session import OptionalStanding
from ..deps import ServicesDep
from ..responses import AnalyticsOut, AnalyticsTableOut
from .audit import _time

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])


@dataclass(frozen=True)
class Query_:
    """A checked analytics request: whose data, which products and markets, which purchase period."""

    scope: Scope
    placed_from: int | None
    placed_to: int | None
    settings_brand: str | None  # whose ReturnAnalyticsSettings apply
    who: Standing
    own_gtins: tuple[str, ...]  # the signed-in brand's GTINs (the page's choices); () for an auditor


def _market(value: str) -> int:
    names = {name.lower(): number for number, name in MARKET_NAMES.items()}
    number = names.get(value.strip().lower())
    if number is None:
        number = parse_storable(value, "market")
    if number is None or not 0 <= number < 64:
        raise ApiError(400, "invalid_market", f"market must be EU, US, CN or a number 0-63, got {value!r}")
    return number


def _gtin(value: str) -> str:
    try:
        return gs1.normalize_gtin(value)
    except gs1.GS1Error as exc:
        raise ApiError(400, "invalid_gtin", str(exc)) from None


def analytics_query(
    services: ServicesDep,
    who: OptionalStanding,
    brand: Annotated[str | None, Query(description="the brand's address (auditors; a brand: its own)")] = None,
    gtin: Annotated[list[str] | None, Query(description="GTIN-8/12/13/14, repeatable")] = None,
    market: Annotated[list[str] | None, Query(description="EU, US, CN or the market number, repeatable")] = None,
    time_from: Annotated[str | None, Query(alias="from", description="orders placed from: unix seconds or ISO")] = None,
    time_to: Annotated[str | None, Query(alias="to", description="orders placed before: unix seconds or ISO")] = None,
) -> Query_:
    if who is None:
        raise ApiError(401, "not_signed_in", "return analytics are for brands and auditors: sign in with Ethereum")
    if brand is not None and not is_address(brand):
        raise ApiError(400, "invalid_brand", f"brand must be an address, got {brand!r}")
    named: str | None = to_checksum_address(brand) if brand else None
    own = tuple(brand_gtins(services.index, who.account))
    gtins = frozenset(_gtin(g) for g in gtin) if gtin else None
    if who.auditor:
        brands = frozenset({named}) if named else None
        settings_brand = named
    elif own and who.roles & Role.BRAND:  # its products stay registered to it; its accreditation may not
        if named is not None and named != who.account:
            raise ApiError(403, "not_your_brand", f"{who.account} sees its own products' figures, not {named}'s")
        foreign = sorted((gtins or frozenset()) - set(own))
        if foreign:
            raise ApiError(403, "not_your_product", f"GTIN {foreign[0]} is not registered to {who.account}")
        brands, settings_brand = frozenset({who.account}), who.account
    else:
        raise ApiError(
            403,
            "not_a_brand",
            f"{who.account} is no brand with registered products at block {who.block} and no auditor: analytics "
            "are theirs",
            block=who.block,
        )
    placed_from = _time(time_from, "from") if time_from else None
    placed_to = _time(time_to, "to") if time_to else None
    markets = frozenset(_market(m) for m in market) if market else None
    scope = Scope(brands, gtins, markets, every_merchant=who.auditor)
    return Query_(scope, placed_from, placed_to, settings_brand, who, own)


AnalyticsQuery = Annotated[Query_, Depends(analytics_query)]


def compute(services: Any, q: Query_) -> dict[str, Any]:
    return services.analytics.figures(q.scope, q.placed_from, q.placed_to, q.settings_brand)


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        if format not in ("json", "csv"):
            raise ApiError(400, "invalid_format", f"format must be json or csv, got {format!r}")
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def csv_text(rows: list[dict[str, Any]], block: int | None) -> str:
    """The rows as CSV, each with the index block its figures were computed at."""
    out = io.StringIO()
    columns = ["indexBlock"] + list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"indexBlock": block, **{k: "" if v is None else v for k, v in row.items()}})
    return out.getvalue()


@router.get(
    "",
    response_model=AnalyticsOut,
    summary="Every return figure of the signed-in brand's products (auditors: any brand)",
)
def get_figures(q: AnalyticsQuery, services: ServicesDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "private, no-store"
    return compute(services, q)


@router.get(
    "/{table}",
    response_model=AnalyticsTableOut,
    summary="One table of the figures, as JSON or CSV (?format=csv or Accept: text/csv)",
    responses={200: {"content": {"text/csv": {}}}},
)
def get_table(
    table: str,
    request: Request,
    q: AnalyticsQuery,
    services: ServicesDep,
    response: Response,
    format: Annotated[str | None, Query(description="json or csv")] = None,
) -> Any:
    if table not in analytics.TABLES:
        raise ApiError(404, "unknown_table", f"no table {table!r}: {', '.join(analytics.TABLES)}")
    figures = compute(services, q)
    rows = analytics.tables(figures, MARKET_NAMES)[table]
    headers = {"Cache-Control": "private, no-store"}
    if _wants_csv(request, format):
        headers["Content-Disposition"] = f'attachment; filename="returntrace-{table}.csv"'
        return Response(csv_text(rows, figures["index"]["block"]), media_type="text/csv", headers=headers)
    response.headers.update(headers)
    return {"table": table, "index": figures["index"], "rows": rows}
