"""The shipping arithmetic without a chain (returntrace/shipping.py): a card read from its signed
fields, its weight bands, the lanes it serves, the ranking with its marks, and the combined saving."""

from __future__ import annotations

import pytest

from returntrace import shipping
from returntrace.shipping import CardError, Destination, RateCard, Service

CARRIER = "0x" + "11" * 20
OTHER = "0x" + "22" * 20
CENTER = Destination(9506000000032, 1 << 0, "return_center")  # accredited for the EU
MERCHANT = Destination(9506000000018, 0, "merchant")


def card_fields(**changes) -> dict:
    fields = {
        "signer": CARRIER,
        "issuedAt": 900,
        "originMarkets": 1 << 0,
        "destination": 0,
        "destinationMarket": 0,
        "service": int(Service.DROP_OFF),
        "currency": "EUR",
        "bands": [
            {"maxGrams": 1000, "price": 450},
            {"maxGrams": 5000, "price": 690},
            {"maxGrams": 20000, "price": 1290},
        ],
        "transitDays": 3,
        "validFrom": 1_000,
        "validUntil": 2_000,
    }
    return {**fields, **changes}


def test_a_card_prices_the_band_that_holds_the_parcel():
    card = RateCard.from_message(card_fields())
    assert [card.band_for(g).price for g in (1, 1000, 1001, 5000, 20000)] == [450, 450, 690, 690, 1290]
    assert card.band_for(20001) is None
    assert shipping.quote(card, 20001, CENTER, {}) is None


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"currency": "eur"}, "ISO 4217"),
        ({"originMarkets": 0}, "originMarkets"),
        ({"bands": []}, "weight bands"),
        ({"bands": [{"maxGrams": 5000, "price": 1}, {"maxGrams": 1000, "price": 2}]}, "ascend"),
        ({"bands": [{"maxGrams": 0, "price": 1}]}, "ascend"),
        ({"bands": [{"maxGrams": 10, "price": -1}]}, "negative"),
        ({"transitDays": 0}, "transitDays"),
        ({"validUntil": 1_000}, "validUntil"),
        ({"service": 7}, "malformed"),
        ({"signer": "nobody"}, "address"),
    ],
)
def test_a_card_that_cannot_price_honestly_is_refused(changes, why):
    with pytest.raises(CardError, match=why):
        RateCard.from_message(card_fields(**changes))


def test_validity_includes_both_ends():
    card = RateCard.from_message(card_fields())
    assert [card.valid_at(t) for t in (999, 1000, 2000, 2001)] == [False, True, True, False]


def test_a_lane_to_a_market_serves_its_accredited_centers_and_a_named_gln_only_itself():
    to_market = RateCard.from_message(card_fields())
    assert to_market.serves(0, CENTER)
    assert not to_market.serves(1, CENTER)  # from the US: not this card's origin
    assert not to_market.serves(0, MERCHANT)  # the merchant is no return center of the market
    us_centers = RateCard.from_message(card_fields(destinationMarket=1))
    assert not us_centers.serves(0, CENTER)
    named = RateCard.from_message(card_fields(destination=MERCHANT.gln))
    assert named.serves(0, MERCHANT) and not named.serves(0, CENTER)


def _quote(carrier=CARRIER, price=500, days=3, currency="EUR"):
    card = RateCard.from_message(
        card_fields(signer=carrier, currency=currency, transitDays=days, bands=[{"maxGrams": 5000, "price": price}])
    )
    return shipping.quote(card, 800, CENTER, {"card": f"{carrier}-{price}-{days}"})


def test_ranking_sorts_by_price_and_by_speed_and_marks_the_cheapest_per_currency_and_the_fastest():
    slow_cheap, fast_dear, mid, tie_cheap = (
        _quote(price=400, days=5),
        _quote(price=900, days=1),
        _quote(price=600),
        _quote(OTHER, 400, 2),
    )
    usd = _quote(OTHER, price=100, days=4, currency="USD")
    by_price, by_speed = shipping.ranked([mid, fast_dear, slow_cheap, usd, tie_cheap])
    assert [(q.currency, q.price, q.transit_days) for q in by_price] == [
        ("EUR", 400, 2),
        ("EUR", 400, 5),
        ("EUR", 600, 3),
        ("EUR", 900, 1),
        ("USD", 100, 4),
    ]
    assert [q.transit_days for q in by_speed] == [1, 2, 3, 4, 5]
    cheapest = {(q.currency, q.price, q.transit_days) for q in by_price if q.cheapest}
    assert cheapest == {("EUR", 400, 2), ("EUR", 400, 5), ("USD", 100, 4)}  # per currency, ties all marked
    assert [(q.price, q.transit_days) for q in by_price if q.fastest] == [(900, 1)]
    assert shipping.ranked([]) == ([], [])


def test_the_combined_saving_is_the_singles_sum_less_the_combined_price_in_one_currency():
    singles = {
        7: [_quote(price=450), _quote(OTHER, price=480, days=1)],
        9: [_quote(price=690), _quote(price=700, currency="USD")],
    }
    combined = [_quote(price=990), _quote(OTHER, price=950, days=4), _quote(price=10, currency="USD")]
    (offer,) = shipping.combined_offers(CENTER.gln, {7: 800, 9: 3000}, singles, combined)
    assert (offer.currency, offer.orders, offer.total_grams) == ("EUR", (7, 9), 3800)
    assert {o: q.price for o, q in offer.singles.items()} == {7: 450, 9: 690}
    assert (offer.singles_total, offer.combined.price, offer.saving) == (1140, 950, 190)
    # USD: order 7 has no single quote in it, so nothing is compared in USD.


def test_no_offer_when_combining_saves_nothing_or_there_is_one_return():
    singles = {7: [_quote(price=300)], 9: [_quote(price=300)]}
    assert shipping.combined_offers(CENTER.gln, {7: 800, 9: 800}, singles, [_quote(price=600)]) == []
    assert shipping.combined_offers(CENTER.gln, {7: 800}, singles, [_quote(price=1)]) == []
