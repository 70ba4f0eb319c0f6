"""Return protection on the pages: the buyer's optional return-shipping cover on the product page (only
in markets where returntrace/protection_law.py allows selling it to consumers, and only for the
shipping neither the law nor the brand's policy already pays), and the merchant's quotes for the
brand's dashboard (templates/insurance_quote.html, included by analytics.html).

    offers = consumer_offers(reader, terms, currency_of)          # {market: Row}, for build_policy_page
    quotes = dashboard_quotes(reader, terms, markets, currency_of)  # [MerchantQuote], for the dashboard
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from babel.numbers import format_decimal

from returntrace.policies import MARKET_NAMES
from returntrace.protection_law import offering

from ...chain.product_terms import ProductTerms
from ...read.premiums import PremiumQuotes, median_prices, price_quotes
from ...store.index import IndexReader
from .consumer_page import Currency, Row, format_amount
from .i18n import _, current


def _percent(ratio: str | None) -> str:
    """An exact "n/d" ratio as a percentage to a tenth, rounded down, in the page's number format."""
    top, _slash, bottom = (ratio or "0").partition("/")
    tenths = int(top) * 1000 // int(bottom or 1)
    return f"{format_decimal(Decimal(tenths).scaleb(-1), format='#,##0.0', locale=current().locale)} %"


def consumer_offers(reader: IndexReader, terms: ProductTerms, currency_of: Callable[[str], Currency]) -> dict[int, Row]:
    """{market: the offer's row} for each market of the product whose law lets consumers buy the cover
    and whose return shipping the index knows, priced in the market's first currency."""
    offers: dict[int, Row] = {}
    for m in terms.markets:
        if m.law is None or m.policy is None or not m.currencies or not offering(m.market).to_consumers:
            continue  # no index read where the law lets no consumer buy it
        address, currency_terms = sorted(m.currencies, key=lambda c: int(c[0], 16) != 0)[0]
        quotes = price_quotes(reader, terms.gtin, terms.class_flags, m, address.lower(), currency_terms.decimals, None)
        if quotes.consumer is None:
            continue
        currency = currency_of(address)
        b = quotes.consumer.breakdown
        offers[m.market] = Row(
            _("Return shipping cover (optional)"),
            _(
                "For %(premium)s you can add a cover that pays the return shipping you would otherwise pay "
                "yourself (about %(shipping)s). Your rights by law and the brand's policy above are the same "
                "with or without it."
            )
            % {
                "premium": format_amount(quotes.consumer.premium, currency),
                "shipping": format_amount(b["returnShipping"], currency),
            },
        )
    return offers


def merchant_rows(quotes: PremiumQuotes, currency: Currency) -> list[Row]:
    """The merchant's quote as rows for templates/insurance_quote.html (empty without a price)."""
    q = quotes.merchant
    if q is None:
        return []
    b = q.breakdown
    return [
        Row(_("Premium per unit"), format_amount(q.premium, currency), emphasis=True),
        Row(_("Return probability"), _percent(b["returnProbability"]["value"])),
        Row(_("Expected cost of a return"), format_amount(b["expectedLossPerReturn"], currency)),
        Row(
            _("History"),
            _("%(orders)s orders, %(returns)s returns of this product; %(category)s orders of its class")
            % {
                "orders": quotes.stats.gtin.orders,
                "returns": quotes.stats.gtin.returns,
                "category": quotes.stats.category.orders,
            },
        ),
        Row(_("Read from the index at block"), str(quotes.stats.block)),
    ]


@dataclass(frozen=True)
class MerchantQuote:
    """One line of the dashboard's return protection: a GTIN in a market and currency, priced at the
    median price of its orders there; `rows` empty (and `price` None) when it has no order there yet."""

    gtin: str
    market: str
    price: str | None  # in the currency's symbol, as every amount
    rows: list[Row]
    link: str | None  # the full answer: GET /v1/insurance/quote at that price


def dashboard_quotes(
    reader: IndexReader,
    terms: ProductTerms,
    markets: Collection[int] | None,
    currency_of: Callable[[str], Currency],
) -> list[MerchantQuote]:
    """The merchant's quote for each market the product is sold in (of `markets`; None: all) and each of
    the market's currencies its orders were paid in, at their median price (read.premiums.median_prices)."""
    out = []
    for m in terms.markets:
        if m.law is None or m.policy is None or (markets is not None and m.market not in markets):
            continue
        code = MARKET_NAMES.get(m.market, str(m.market))
        medians = median_prices(reader, terms.gtin, m.market)
        priced = [(a, c.decimals, medians[a.lower()]) for a, c in m.currencies if a.lower() in medians]
        if not priced:
            out.append(MerchantQuote(terms.gtin, code, None, [], None))
            continue
        for address, decimals, price in priced:
            currency = currency_of(address)
            quotes = price_quotes(reader, terms.gtin, terms.class_flags, m, address.lower(), decimals, price)
            query = urlencode({"gtin": terms.gtin, "market": code, "price": price, "currency": address})
            out.append(
                MerchantQuote(
                    terms.gtin,
                    code,
                    format_amount(price, currency),
                    merchant_rows(quotes, currency),
                    f"/v1/insurance/quote?{query}",
                )
            )
    return out
