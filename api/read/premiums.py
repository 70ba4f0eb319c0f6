"""Return-protection quotes for a product in one market: its history from the index
(api/read/return_stats.py), the market's law and policy from the chain (api/chain/product_terms.py),
priced by returntrace/insurance.py, offered to whom returntrace/protection_law.py allows.

The endpoint (`GET /v1/insurance/quote`), the product page's consumer offer and the brand's dashboard
all call `price_quotes`; the dashboard prices at `median_prices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from returntrace import insurance
from returntrace.analytics import percentile
from returntrace.policies import MARKET_NAMES
from returntrace.protection_law import RETURN_SHIPPING, Offering, offering

from ..chain.product_terms import MarketTerms
from ..store.index import IndexReader
from .return_stats import ReturnStats, return_stats


@dataclass(frozen=True)
class PremiumQuotes:
    gtin: str
    market: MarketTerms
    currency: str
    decimals: int
    stats: ReturnStats
    offering: Offering
    merchant: insurance.Quote | None  # None: no price asked
    consumer: insurance.Quote | None  # None: not offered to consumers here, or it would pay nothing

    def as_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "gtin": self.gtin,
            "market": MARKET_NAMES.get(self.market.market, str(self.market.market)),
            "marketId": self.market.market,
            "policyVersion": self.market.policy_version,
            "currency": self.currency,
            "decimals": self.decimals,
            "offeredTo": ["merchant", *(["consumer"] if self.offering.to_consumers else [])],
            "consumerCovers": list(self.offering.consumer_covers),
            "lawBasis": self.offering.basis,
            "history": {
                "category": {"classFlags": s.class_flags, **s.category.as_json()},
                "gtin": s.gtin.as_json(),
                "returnShippingFrom": s.return_shipping_level,
            },
            "quotes": [
                {"for": q.audience, "cover": q.cover, "premium": str(q.premium), "breakdown": q.breakdown}
                for q in (self.merchant, self.consumer)
                if q is not None
            ],
            "index": {"block": s.block},
        }


def parameters(decimals: int) -> insurance.Parameters:
    """The default knobs with a floor of one hundredth of the currency's unit."""
    return insurance.Parameters(floor=10 ** max(decimals - 2, 0))


def price_quotes(
    reader: IndexReader,
    gtin: str,
    class_flags: int,
    market: MarketTerms,
    currency: str,
    decimals: int,
    price: int | None,
) -> PremiumQuotes:
    """The merchant's quote for a unit at `price` (None: none) and, where the market allows it and the
    cover would pay something (insurance.consumer_shipping_quote), the consumer's return-shipping
    cover. `market` must have a law and a policy."""
    if market.policy is None or market.law is None:
        raise ValueError(f"market {market.market} has no law or policy")
    stats = return_stats(reader, gtin, market.market, class_flags, currency)
    prior = insurance.PRIORS.get(MARKET_NAMES.get(market.market, ""), insurance.DEFAULT_PRIOR)
    shipping = stats.return_shipping or Fraction(0)
    risk = insurance.Risk(shipping, market.policy, stats.gtin, stats.category, prior, parameters(decimals))
    merchant = insurance.merchant_quote(price, risk) if price is not None else None
    allowed = offering(market.market)
    consumer = insurance.consumer_shipping_quote(risk) if RETURN_SHIPPING in allowed.consumer_covers else None
    return PremiumQuotes(gtin, market, currency, decimals, stats, allowed, merchant, consumer)


def median_prices(reader: IndexReader, gtin: str, market: int) -> dict[str, int]:
    """{currency (lower case): the nearest-rank median price} of the GTIN's indexed orders in `market`,
    counted as the quote's history counts them (placed, not cancelled before delivery)."""
    prices: dict[str, list[int]] = {}
    for currency, price in reader.db.execute(
        "SELECT o.currency, o.price FROM idx_orders o JOIN idx_units u ON u.unit_id = o.unit_id"
        " WHERE u.gtin = ? AND o.market = ? AND NOT (o.status = 'cancelled' AND o.requested_at IS NULL)",
        (gtin, market),
    ):
        prices.setdefault(currency.lower(), []).append(int(price))
    return {c: p for c, values in sorted(prices.items()) if (p := percentile(values, 50)) is not None}
