"""The brand's return analytics dashboard, `/desk/analytics`: the figures of GET /v1/analytics with
charts drawn on the server (api/http/pages/charts.py), the filters as a plain GET form, each figure's
definition, CSV links, and the merchant's return-protection premium per GTIN and market
(api/http/pages/protection_offer.py, priced as GET /v1/insurance/quote prices). Behind the desk's
Sign-In with Ethereum session: a brand sees its own products, an auditor every brand
(api/http/routes/analytics.py decides who sees what). No script runs but the sign-in's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from returntrace.analytics import REISSUE
from returntrace.escrow import SettlementPath
from returntrace.policies import MARKET_NAMES

from ...chain.guard import ChainUnavailable
from ...errors import ApiError
from ..auth.session import OptionalStanding
from ..deps import ServicesDep
from ..routes.analytics import Query_, analytics_query, compute
from ..routes.resolver import currency_lookup
from . import charts, i18n, page_language, render
from .desk import _sign_in, headers, refused_page
from .i18n import N_, _
from .protection_offer import MerchantQuote, dashboard_quotes
from .signed_in import signed_in

router = APIRouter(tags=["desk"], include_in_schema=False)

# What each figure means: the page's definitions (docs/analytics.md says the same at length).
DEFINITIONS = (
    (
        N_("Return rate"),
        N_(
            "Returned orders over the orders placed. By month it is the purchase-month cohort: the returns of "
            "the orders placed that month over the orders placed that month, whenever they came back. An order "
            "is returned when the escrow recorded a return reason (a return request or a defect claim)."
        ),
    ),
    (
        N_("Reason"),
        N_(
            "The return desk's reason code the buyer confirmed when signing the return request; without one, the "
            "escrow's coarse reason."
        ),
    ),
    (N_("Grade mix"), N_("The grades the inspections settled on (A unopened, B opened, C used), of the returns.")),
    (N_("Exchange share"), N_("Returns settled with an exchange voucher over returns with a chosen remedy.")),
    (
        N_("Time to refund"),
        N_(
            "From the block of the return request to the block of the settlement that paid it; p50 and p90 are "
            "the nearest-rank median and 90th percentile."
        ),
    ),
    (
        N_("Cost of a return"),
        N_(
            "Return shipping the merchant bore, plus the refund and the store points paid back, less the residual "
            "value recovered: the price times your rate for restocked, donated or recycled units (your signed "
            "settings). Per currency, in its base units."
        ),
    ),
    (
        N_("Cost reduction"),
        N_("1 − return cost per order placed now ÷ the same in your baseline period. Target: 30 to 40 %."),
    ),
    (
        N_("Satisfaction"),
        N_("Ratings of 4 or 5 (of 5) over the rated orders; only ratings signed by the order's own buyer count."),
    ),
    (
        N_("Return protection premium"),
        N_(
            "Your premium per unit for insuring your return costs, as GET /v1/insurance/quote prices it: for each "
            "of your products in the selection and each market it is sold in, at the median price (nearest rank) "
            "of its orders there in that currency, of every indexed order (not only the selected period); its "
            "return history is every indexed order too. Expected cost of a return: refund and points less the "
            "returned unit's value, return shipping you pay, handling."
        ),
    ),
    (
        N_("Membership points"),
        N_(
            "Grade points and exchange bonuses issued per merchant, and points redeemed. Points belong to the "
            "merchant, not to a product: you see the redemptions of a merchant that is your own account only; "
            "another merchant may sell other brands' products, so its redemptions are not attributable to you."
        ),
    ),
)

PATH_NAMES = {
    SettlementPath.GRADED.key: N_("graded"),
    SettlementPath.ARBITRATED.key: N_("arbitrated"),
    SettlementPath.ARBITER_SILENT.key: N_("arbiter silent"),
    SettlementPath.OVERDUE.key: N_("timeout (statutory refund due)"),
    SettlementPath.UNINSPECTED.key: N_("timeout (not inspected)"),
    SettlementPath.ON_RECEIPT.key: N_("refund on receipt"),
    SettlementPath.DISPATCHED.key: N_("sent back, never received"),
    SettlementPath.UNIT_CLOSED.key: N_("unit closed"),
    SettlementPath.REISSUE_FAILED.key: N_("reissue failed"),
    REISSUE: N_("replaced (reissue)"),
}
TRENDS = {"rising": N_("rising"), "falling": N_("falling"), "flat": N_("flat")}


def _rate_bars(rows: list[dict[str, Any]], names: dict[Any, str] | None = None) -> list[charts.Bar]:
    return [
        charts.Bar(
            (names or {}).get(r["key"], str(r["key"])),
            r["rate"] or 0,
            charts.percent(r["rate"]),
            (r["rate"] or 0) >= 0.08,
        )
        for r in rows
    ]


def _charts(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "month": charts.bars(_("Return rate by purchase month"), _rate_bars(f["byMonth"]), 0.08),
        "gtin": charts.bars(_("Return rate by GTIN"), _rate_bars(f["byGtin"]), 0.08),
        "market": charts.bars(_("Return rate by market"), _rate_bars(f["byMarket"], dict(MARKET_NAMES)), 0.08),
        "reason": charts.bars(
            _("Returns by reason"),
            [charts.Bar(r["key"].replace("_", " "), r["share"], charts.percent(r["share"])) for r in f["byReason"]],
        ),
        "grades": charts.bars(
            _("Grade mix"),
            [charts.Bar(_("Grade %(grade)s") % {"grade": g}, n, str(n)) for g, n in f["gradeMix"]["grades"].items()],
        ),
        "path": charts.bars(
            _("Time to refund (p50) by path"),
            [
                charts.Bar(_(PATH_NAMES.get(r["key"], r["key"])), r["p50"] or 0, charts.duration(r["p50"]))
                for r in f["timeToRefund"]["byPath"]
            ],
        ),
    }


def _protection(services: Any, q: Query_, f: dict[str, Any]) -> dict[str, Any]:
    """The merchant's quotes for the selection's GTINs (a brand: its own; an auditor: those with orders)."""
    gtins = sorted(q.scope.gtins) if q.scope.gtins else list(q.own_gtins) or [r["key"] for r in f["byGtin"]]
    quotes: list[MerchantQuote] = []
    try:
        with services.index.read() as reader:
            for gtin in gtins:
                terms = services.product_terms.terms(gtin)
                if terms is not None:
                    quotes += dashboard_quotes(reader, terms, q.scope.markets, currency_lookup(services.pages))
    except ChainUnavailable:
        return {"quotes": quotes, "unavailable": True}
    return {"quotes": quotes, "unavailable": False}


@router.get("/desk/analytics")
def analytics_page(request: Request, who: OptionalStanding, services: ServicesDep) -> Response:
    if who is None:
        return _sign_in(request)
    params = request.query_params
    try:
        q = analytics_query(
            services,
            who,
            brand=params.get("brand") or None,
            gtin=[g for g in params.getlist("gtin") if g] or None,
            market=[m for m in params.getlist("market") if m] or None,
            time_from=params.get("from") or None,
            time_to=params.get("to") or None,
        )
    except ApiError as exc:
        if exc.code != "not_a_brand":  # another brand's GTIN, a bad filter: the dashboard's own refusals
            raise
        return refused_page(request, who, exc)
    f = compute(services, q)
    query = urlencode([(k, v) for k, v in params.multi_items() if v and k != "lang"])
    with i18n.use(page_language(request)):
        context = {
            "f": f,
            "q": q,
            "charts": _charts(f),
            "protection": _protection(services, q, f),
            "definitions": [(_(term), _(text)) for term, text in DEFINITIONS],
            "paths": {k: _(v) for k, v in PATH_NAMES.items()},
            "trends": {k: _(v) for k, v in TRENDS.items()},
            "markets": MARKET_NAMES,
            "selected": {
                "gtin": set(params.getlist("gtin")),
                "market": set(params.getlist("market")),
                "from": params.get("from", ""),
                "to": params.get("to", ""),
                "brand": params.get("brand", ""),
            },
            "query": query,
            "percent": charts.percent,
            "duration": charts.duration,
            "signed_in": signed_in(request, q.who.account, "auditor" if q.who.auditor else "brand"),
        }
        return render(request, "analytics.html", context, headers=headers())
