"""returntrace/customs_regimes.py on its own: each regime's limits in calendar dates (the EU's three
years, 29 February included; the US's three years for products not of US origin; China's 30 and 45
days counted from the day after the release, ending at 24:00 Beijing time), which orders each applies
to, and the two restricted document kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from returntrace.customs_regimes import REGIMES, add_years, end_of_day
from returntrace.documents import DOCUMENTS, Authority
from returntrace.policies import MARKET_CN, MARKET_EU, MARKET_US

BEIJING = timezone(timedelta(hours=8))


def _ts(*args: int, tz: timezone = UTC) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp())


def test_three_years_end_on_the_same_date_and_29_february_on_the_28th():
    assert add_years(datetime(2026, 3, 15).date(), 3) == datetime(2029, 3, 15).date()
    assert add_years(datetime(2028, 2, 29).date(), 3) == datetime(2031, 2, 28).date()
    eu = REGIMES["EU-UCC-203"]
    exported = _ts(2028, 2, 29, 18, 30)
    (limit,) = eu.limits
    assert limit.deadline(exported, eu.zone) == _ts(2031, 3, 1) - 1  # 24:00 of 28 February 2031


def test_the_eu_limit_is_met_missed_or_pending():
    eu = REGIMES["EU-UCC-203"]
    exported = _ts(2026, 1, 10, 9)
    deadline = _ts(2029, 1, 11) - 1
    (met,) = eu.check(exported, exported + 86_400, deadline, now=deadline + 5)
    (late,) = eu.check(exported, exported + 86_400, deadline + 1, now=deadline + 5)
    (pending,) = eu.check(exported, exported + 86_400, None, now=deadline)
    (lapsed,) = eu.check(exported, exported + 86_400, None, now=deadline + 1)
    assert (met.met, late.met, pending.met, lapsed.met) == (True, False, None, False)
    assert met.deadline == deadline and met.as_json()["name"] == "reimport"


def test_china_counts_days_from_the_day_after_the_release_in_beijing_time():
    cn = REGIMES["CN-CBEC-RETURN"]
    released = _ts(2026, 3, 1, 23, 30, tz=BEIJING)  # 15:30 UTC, the same Beijing day
    declared, back = cn.check(released, None, None, now=released)
    assert (declared.limit.name, back.limit.name) == ("return_declared", "back_in_bonded_area")
    assert declared.deadline == _ts(2026, 4, 1, tz=BEIJING) - 1  # 30 days: through 31 March
    assert back.deadline == _ts(2026, 4, 16, tz=BEIJING) - 1  # 45 days: through 15 April
    requested, received = _ts(2026, 3, 31, 20, tz=BEIJING), _ts(2026, 4, 16, 0, 30, tz=BEIJING)
    declared, back = cn.check(released, requested, received, now=received)
    assert (declared.met, back.met) == (True, False)  # declared in time, back half an hour late


def test_the_us_limit_is_three_years_for_products_not_of_us_origin():
    us = REGIMES["US-HTSUS-9801.00.10"]
    (late,) = us.check(_ts(2020, 1, 1), _ts(2026, 1, 1), _ts(2026, 2, 1), _ts(2026, 3, 1))
    assert (late.limit.name, late.met, late.deadline) == ("reimport_other_origin", False, _ts(2023, 1, 2) - 1)
    assert "no time limit" in late.limit.text  # a product of the United States has none: the text says so


def test_a_regime_applies_to_goods_sold_abroad_or_imported_into_china():
    eu, us, cn = REGIMES["EU-UCC-203"], REGIMES["US-HTSUS-9801.00.10"], REGIMES["CN-CBEC-RETURN"]
    assert eu.applies(MARKET_US) and eu.applies(MARKET_CN) and not eu.applies(MARKET_EU)
    assert us.applies(MARKET_EU) and not us.applies(MARKET_US)
    assert cn.applies(MARKET_CN) and not cn.applies(MARKET_EU)
    assert {r.clearance for r in (eu, us)} == {"export"} and cn.clearance == "import_release"


def test_end_of_day_is_the_last_second_in_the_zone():
    assert end_of_day(datetime(2026, 5, 1).date(), BEIJING) == _ts(2026, 5, 1, 15, 59, 59)


def test_the_declaration_and_the_rating_are_restricted_kinds_with_their_signers():
    declaration, rating = DOCUMENTS["CustomsDeclaration"], DOCUMENTS["SatisfactionRating"]
    assert declaration.restricted and rating.restricted
    assert not any(DOCUMENTS[k].restricted for k in ("OrganizationName", "RateCard", "ProductInfo"))
    assert declaration.authority is Authority.ACTOR and declaration.subject == ("gtin", "serial")
    # The analytics read these fields by name (issue 12 §3): satisfied = score >= 4.
    assert rating.fields == (
        ("address", "buyer"),
        ("uint256", "orderId"),
        ("uint8", "score"),
        ("address", "signer"),
        ("uint64", "issuedAt"),
    )
    assert rating.authority is Authority.BUYER and rating.subject == ("orderId",)
    assert rating.subject_of({"orderId": 7}) == "orderId=7"
