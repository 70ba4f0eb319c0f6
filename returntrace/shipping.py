"""Carriers' rate cards and the return desk's shipping arithmetic, without the chain: a card read from
its signed message (the EIP-712 fields below), the price of a parcel's weight band, which return leg
a card serves, the quotes sorted by price and by speed with the cheapest and the fastest marked, and
the saving of one combined parcel over single ones. The card's EIP-712 type is the `RateCard`
document kind (returntrace/documents.py): the gateway keeps each with its signature and the block
at which the carrier's role was checked; the latest issued per carrier and lane is in force.

A card is one lane: from any market of `originMarkets` (bit m: market m, returntrace.policies) to a
destination, either one location (`destination`, a GLN) or, with `destination` 0, any return center
the accreditor approved for `destinationMarket`. Prices are in the card's currency's minor unit
(ISO 4217, e.g. cents of EUR); `bands` ascend by weight, each band's price for parcels up to its
`maxGrams`. Amounts in two currencies are never compared or added: each currency is ranked apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from eth_utils import is_address, to_checksum_address

SIGNED_RATE_CARD = "signed-rate-card"  # the quote source of the carriers' own signed cards
MAX_BANDS = 32
MAX_PARCEL_GRAMS = 70_000  # the heaviest parcel a quote is asked for (a pallet is freight, not a return)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Service(IntEnum):
    DROP_OFF = 0  # the buyer takes the parcel to the carrier's point
    PICKUP = 1  # the carrier collects it at the buyer's door

    @property
    def key(self) -> str:
        return self.name.lower().replace("_", "-")


class CardError(ValueError):
    """A rate card that cannot price anything honestly (the message says why)."""


@dataclass(frozen=True)
class WeightBand:
    max_grams: int
    price: int


@dataclass(frozen=True)
class Destination:
    """Where a return goes: a return center accredited for `markets` (bits), or the merchant's own
    organisation (`markets` 0: only a card naming its GLN serves it)."""

    gln: int
    markets: int
    kind: str  # "return_center" | "merchant"


@dataclass(frozen=True)
class RateCard:
    carrier: str  # the document's signer
    issued_at: int
    origin_markets: int
    destination: int
    destination_market: int
    service: Service
    currency: str
    bands: tuple[WeightBand, ...]
    transit_days: int
    valid_from: int
    valid_until: int

    @classmethod
    def from_message(cls, m: Mapping[str, Any]) -> RateCard:
        """The card a signed message describes; CardError when it cannot price anything honestly."""
        if not is_address(str(m.get("signer", ""))):
            raise CardError("signer must be an address")
        try:
            bands = tuple(WeightBand(int(b["maxGrams"]), int(b["price"])) for b in m["bands"])
            service = Service(int(m["service"]))
            card = cls(
                carrier=to_checksum_address(str(m["signer"])),
                issued_at=int(m["issuedAt"]),
                origin_markets=int(m["originMarkets"]),
                destination=int(m["destination"]),
                destination_market=int(m["destinationMarket"]),
                service=service,
                currency=str(m["currency"]),
                bands=bands,
                transit_days=int(m["transitDays"]),
                valid_from=int(m["validFrom"]),
                valid_until=int(m["validUntil"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CardError(f"a rate card's field is missing or malformed: {exc}") from None
        card._check()
        return card

    def _check(self) -> None:
        if not _CURRENCY.match(self.currency):
            raise CardError(f"currency {self.currency!r} is not an ISO 4217 code (three capitals)")
        if not self.origin_markets:
            raise CardError("originMarkets names no market")
        if not 0 < len(self.bands) <= MAX_BANDS:
            raise CardError(f"a card has 1 to {MAX_BANDS} weight bands")
        limits = [b.max_grams for b in self.bands]
        if limits[0] <= 0 or any(a >= b for a, b in zip(limits, limits[1:], strict=False)):
            raise CardError("weight bands must ascend strictly by maxGrams, from above 0")
        if any(b.price < 0 for b in self.bands):
            raise CardError("a band's price is negative")
        if self.transit_days <= 0:
            raise CardError("transitDays must be at least 1")
        if self.valid_until <= self.valid_from:
            raise CardError("validUntil must be after validFrom")

    def valid_at(self, time: int) -> bool:
        return self.valid_from <= time <= self.valid_until

    def band_for(self, grams: int) -> WeightBand | None:
        """The first band whose limit holds the parcel; None when it is too heavy for this card."""
        return next((b for b in self.bands if grams <= b.max_grams), None)

    def serves(self, origin_market: int, destination: Destination) -> bool:
        """Whether the lane runs from `origin_market` to `destination`."""
        if not self.origin_markets >> origin_market & 1:
            return False
        if self.destination:
            return self.destination == destination.gln
        return destination.kind == "return_center" and bool(destination.markets >> self.destination_market & 1)


@dataclass(frozen=True)
class Quote:
    """One carrier's price for one parcel on one leg, and what proves it (`proof`: the card's
    signature reference and the block its carrier's accreditation was read at)."""

    carrier: str
    service: Service
    currency: str
    price: int
    transit_days: int
    band_max_grams: int
    destination: int
    valid_until: int
    proof: Mapping[str, Any]
    source: str = SIGNED_RATE_CARD
    cheapest: bool = False
    fastest: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "carrier": self.carrier,
            "service": self.service.key,
            "currency": self.currency,
            "price": self.price,
            "transitDays": self.transit_days,
            "weightBandMaxGrams": self.band_max_grams,
            "destination": f"{self.destination:013d}",
            "validUntil": self.valid_until,
            "cheapest": self.cheapest,
            "fastest": self.fastest,
            "source": self.source,
            "proof": dict(self.proof),
        }


def quote(card: RateCard, grams: int, destination: Destination, proof: Mapping[str, Any]) -> Quote | None:
    """The card's quote for a parcel of `grams` to `destination` (None: too heavy for the card)."""
    band = card.band_for(grams)
    if band is None:
        return None
    return Quote(
        carrier=card.carrier,
        service=card.service,
        currency=card.currency,
        price=band.price,
        transit_days=card.transit_days,
        band_max_grams=band.max_grams,
        destination=destination.gln,
        valid_until=card.valid_until,
        proof=proof,
    )


def _price_order(q: Quote) -> tuple:
    return (q.currency, q.price, q.transit_days, q.carrier, q.destination, q.service)


def _speed_order(q: Quote) -> tuple:
    return (q.transit_days, q.currency, q.price, q.carrier, q.destination, q.service)


def ranked(quotes: Iterable[Quote]) -> tuple[list[Quote], list[Quote]]:
    """(by price, by speed): the quotes marked — `cheapest` the lowest price in its currency (ties
    all marked), `fastest` the fewest transit days of all — and sorted, by price within each
    currency (then speed), and by transit days (then price)."""
    quotes = list(quotes)
    lowest: dict[str, int] = {}
    for q in quotes:
        lowest[q.currency] = min(q.price, lowest.get(q.currency, q.price))
    quickest = min((q.transit_days for q in quotes), default=0)
    marked = [replace(q, cheapest=q.price == lowest[q.currency], fastest=q.transit_days == quickest) for q in quotes]
    return sorted(marked, key=_price_order), sorted(marked, key=_speed_order)


def cheapest_by_currency(quotes: Iterable[Quote]) -> dict[str, Quote]:
    """The cheapest quote in each currency (ties: the faster, then the carrier's address)."""
    best: dict[str, Quote] = {}
    for q in sorted(quotes, key=_price_order):
        best.setdefault(q.currency, q)
    return best


@dataclass(frozen=True)
class CombinedOffer:
    """One parcel for several returns to one destination, in one currency: `singles` the cheapest
    quote of each return sent alone, `combined` the cheapest for their total weight, `saving` the
    difference (positive, or there is no offer)."""

    destination: int
    currency: str
    orders: tuple[int, ...]
    total_grams: int
    singles: Mapping[int, Quote]
    combined: Quote

    @property
    def singles_total(self) -> int:
        return sum(q.price for q in self.singles.values())

    @property
    def saving(self) -> int:
        return self.singles_total - self.combined.price


def combined_offers(
    destination: int,
    weights: Mapping[int, int],
    singles: Mapping[int, Sequence[Quote]],
    combined: Sequence[Quote],
) -> list[CombinedOffer]:
    """The offers, per currency, of combining the returns `weights` names (order id -> grams, two at
    least) into one parcel to `destination`: in a currency where every return has a single quote and
    the total weight a combined one, and only where combining saves money. Largest saving first."""
    if len(weights) < 2:
        return []
    per_order = {o: cheapest_by_currency(singles.get(o, ())) for o in weights}
    offers = []
    for currency, together in cheapest_by_currency(combined).items():
        if not all(currency in per_order[o] for o in weights):
            continue
        offer = CombinedOffer(
            destination=destination,
            currency=currency,
            orders=tuple(sorted(weights)),
            total_grams=sum(weights.values()),
            singles={o: per_order[o][currency] for o in sorted(weights)},
            combined=together,
        )
        if offer.saving > 0:
            offers.append(offer)
    return sorted(offers, key=lambda x: (-x.saving, x.currency))
