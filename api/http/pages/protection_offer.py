"""Return protection on the pages: the buyer's optional return-shipping cover on the product page (only
in markets where returntrace/protection_law.py allows selling it to consumers, and only for the
shipping neither the law nor the brand's policy already pays), and the merchant's quote as a partial
for the brand's dashboard (templates/insurance_quote.html).

    offers = consumer_offers(reader, terms, currency_of)          # {market: Row}, for build_policy_page
    rows = merchant_rows(price_quotes(...), currency_of(address))  # for the dashboard's partial
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from babel.numbers import format_decimal

from returntrace.protection_law import offering

from ...chain.product_terms import ProductTerms
from ...read.premiums import PremiumQuotes, price_quotes
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
