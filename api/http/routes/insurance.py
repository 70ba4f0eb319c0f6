"""Return protection priced from the product's return history (docs/insurance.md).

    GET /v1/insurance/quote?gtin=…&market=…&price=…[&currency=…]

The merchant's premium for insuring its return costs on one unit at `price` (the currency's base
units), and, where the market's law allows selling it to consumers (returntrace/protection_law.py),
the buyer's return-shipping cover; each with its breakdown, the index block its history was read at
and the chain block its law and policy were read at. Public: it shows counts and averages, no order.
"""

from __future__ import annotations

from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Query

from returntrace import gs1
from returntrace.policies import MARKET_NAMES

from ...chain.guard import ChainUnavailable
from ...chain.product_terms import MarketTerms, ProductTerms
from ...errors import ApiError
from ...read.premiums import price_quotes
from ..deps import ServicesDep
from ..responses import InsuranceQuoteOut

router = APIRouter(prefix="/v1/insurance", tags=["insurance"])

MAX_PRICE = 2**96 - 1  # IReturnEscrow.Listing.price is a uint96
_CODES = {code: market for market, code in MARKET_NAMES.items()}


def _gtin(value: str) -> str:
    try:
        return gs1.normalize_gtin(value.strip())
    except gs1.GS1Error as exc:
        raise ApiError(400, "invalid_gtin", str(exc)) from None


def _price(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 40:
        raise ApiError(400, "invalid_price", f"price must be a whole number of base units, got {value!r}")
    price = int(text)
    if not 0 < price <= MAX_PRICE:
        raise ApiError(400, "price_out_of_range", f"price must be 1 to {MAX_PRICE} base units, got {price}")
    return price


def _market(terms: ProductTerms, value: str) -> MarketTerms:
    text = value.strip().upper()
    number = _CODES.get(text, int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None)
    if number is None:
        raise ApiError(400, "invalid_market", f"market must be {', '.join(_CODES)} or a market number, got {value!r}")
    market = next((m for m in terms.markets if m.market == number), None)
    if market is None or market.law is None or market.policy is None:
        raise ApiError(
            400,
            "not_sold_in_market",
            f"GTIN {terms.gtin} is not sold in market {value}"
            + ("" if market is None else " (no law or return policy is set there)"),
        )
    return market


def _currency(market: MarketTerms, value: str | None) -> tuple[str, int]:
    """(address, decimals) of the asked currency, or of the market's first (the native coin first)."""
    allowed = sorted(market.currencies, key=lambda c: int(c[0], 16) != 0)
    if not allowed:
        raise ApiError(400, "not_sold_in_market", f"market {market.market} sells in no currency")
    if value is None:
        address, terms = allowed[0]
        return address.lower(), terms.decimals
    if not is_address(value):
        raise ApiError(400, "invalid_address", f"currency {value!r} is not an address")
    wanted = to_checksum_address(value)
    for address, terms in allowed:
        if to_checksum_address(address) == wanted:
            return address.lower(), terms.decimals
    raise ApiError(400, "currency_not_allowed", f"market {market.market} does not sell in {wanted}")


@router.get(
    "/quote",
    response_model=InsuranceQuoteOut,
    summary="Return protection for a product in a market: the merchant's premium and, where lawful, the buyer's",
)
def quote(
    services: ServicesDep,
    gtin: Annotated[str, Query(max_length=20, description="GTIN-8, -12, -13 or -14")],
    market: Annotated[str, Query(max_length=8, description="EU, US, CN or the market number")],
    price: Annotated[str, Query(max_length=48, description="the unit's price in the currency's base units")],
    currency: Annotated[
        str | None, Query(max_length=42, description="ERC-20 address; default the market's native coin")
    ] = None,
) -> dict[str, Any]:
    gtin14, amount = _gtin(gtin), _price(price)
    try:
        terms = services.product_terms.terms(gtin14)
    except ChainUnavailable as exc:
        raise ApiError(503, "chain_unavailable", f"the product's terms could not be read: {exc}") from exc
    if terms is None:
        raise ApiError(404, "unknown_product", f"no brand registered GTIN {gtin14}")
    m = _market(terms, market)
    address, decimals = _currency(m, currency)
    with services.index.read() as reader:
        quotes = price_quotes(reader, gtin14, terms.class_flags, m, address, decimals, amount)
    return {
        **quotes.as_json(),
        "price": str(amount),
        "chain": {"block": terms.block, "blockHash": terms.block_hash},
    }
