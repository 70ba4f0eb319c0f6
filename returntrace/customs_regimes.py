"""The customs regimes under which returned goods come back without paying duty twice, and the date
arithmetic of their limits. Sources: docs/customs.md (the texts, copied into docs/customs/).

    regime = REGIMES["EU-UCC-203"]
    regime.applies(order_market=MARKET_US)               # sold abroad, so the return is a re-import
    [check.as_json() for check in regime.check(cleared_at, requested_at, received_at, now)]

A regime is claimed in one market (`market`), against one customs clearance of the unit: the export
from that market (EU, US), or the release into it of a cross-border e-commerce import (China, customs
modes 1210/9610). The limits run from that clearance's date; periods follow the regime's own rules of
computation (EU: Regulation 1182/71 Art. 3; China: Civil Code Art. 201-203), counted in the regime's
time zone. What the goods' state must be is stated (`condition`) and shown next to the inspection's
attested state: customs, not this table, decides whether it holds.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from .i18n import N_
from .policies import MARKET_CN, MARKET_EU, MARKET_US

RECEIVED = "received"  # measured to the return center's receiving scan (the goods are back)
REQUESTED = "requested"  # measured to the buyer's return request (the return is declared)


@dataclass(frozen=True)
class Limit:
    """`years` and `days` from the clearance, ending at 24:00 of the last day in the regime's zone."""

    name: str  # "reimport", "return_declared", "back_in_bonded_area"
    measured_to: str  # RECEIVED or REQUESTED
    text: str  # what the law says, in one line
    years: int = 0
    days: int = 0

    def deadline(self, cleared_at: int, zone: timezone) -> int:
        """The last second (unix) of the period that starts at `cleared_at`."""
        start = datetime.fromtimestamp(cleared_at, zone).date()
        last = add_years(start, self.years) + timedelta(days=self.days)
        return end_of_day(last, zone)


@dataclass(frozen=True)
class Check:
    """One limit against the unit's dates: `met` is None while the measured event has not happened
    and the deadline has not passed."""

    limit: Limit
    cleared_at: int
    deadline: int
    at: int | None  # when the measured event happened (None: not yet)
    met: bool | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.limit.name,
            "text": self.limit.text,
            "measuredTo": self.limit.measured_to,
            "from": self.cleared_at,
            "deadline": self.deadline,
            "at": self.at,
            "met": self.met,
        }


@dataclass(frozen=True)
class Regime:
    code: str
    market: int  # where the relief is claimed
    clearance: str  # "export" (from `market`) or "import_release" (into `market`)
    name: str
    legal_basis: str
    condition: str  # the state the goods must come back in
    utc_offset_hours: int  # the zone its days are counted in
    limits: tuple[Limit, ...]
    source: str  # the copy of its texts in the repository

    @property
    def zone(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))

    def applies(self, order_market: int) -> bool:
        """Whether an order sold into `order_market` is a cross-border return under this regime: goods
        exported from the regime's market and sold abroad come back (re-import), or goods imported into
        it by cross-border e-commerce go back to the bonded area."""
        if self.clearance == "export":
            return order_market != self.market
        return order_market == self.market

    def check(self, cleared_at: int, requested_at: int | None, received_at: int | None, now: int) -> list[Check]:
        """Each limit against the return's dates, as of `now` (unix seconds)."""
        out = []
        for limit in self.limits:
            deadline = limit.deadline(cleared_at, self.zone)
            at = received_at if limit.measured_to == RECEIVED else requested_at
            if at is not None:
                met: bool | None = cleared_at <= at <= deadline
            else:
                met = False if now > deadline else None
            out.append(Check(limit, cleared_at, deadline, at, met))
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "market": self.market,
            "clearance": self.clearance,
            "name": self.name,
            "legalBasis": self.legal_basis,
            "condition": self.condition,
            "timeZone": f"UTC{self.utc_offset_hours:+d}",
            "source": self.source,
        }


def add_years(day: date, years: int) -> date:
    """The same date `years` later; a date the later year lacks (29 February) becomes the last day of
    that month (Regulation 1182/71 Art. 3(2)(c))."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def end_of_day(day: date, zone: timezone) -> int:
    """The last second of `day` in `zone` (a period ends at 24:00 of its last day)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()) + 86_400 - 1


REGIMES: dict[str, Regime] = {
    r.code: r
    for r in (
        Regime(
            "EU-UCC-203",
            MARKET_EU,
            "export",
            N_("Returned goods relief (EU)"),
            "Regulation (EU) No 952/2013 (Union Customs Code) Art. 203; Delegated Regulation (EU) 2015/2446 "
            "Art. 158; Implementing Regulation (EU) 2015/2447 Art. 253",
            N_(
                "re-imported in the same state in which they were exported (use, repair, restoration to good "
                "condition and maintenance allowed: Delegated Regulation 2015/2446 Art. 158)"
            ),
            0,  # the Union has no one zone: days are counted in UTC
            (Limit("reimport", RECEIVED, N_("re-imported within 3 years of the export"), years=3),),
            "docs/customs/eu-ucc-203.md",
        ),
        Regime(
            "US-HTSUS-9801.00.10",
            MARKET_US,
            "export",
            N_("Products of the United States returned (US)"),
            "Harmonized Tariff Schedule of the United States, subheading 9801.00.10; 19 CFR 10.1; CBP CSMS # 49163963",
            N_(
                "returned without having been advanced in value or improved in condition by any process of "
                "manufacture or other means while abroad"
            ),
            0,
            # Products of the United States come back at any time; any other product within 3 years.
            (
                Limit(
                    "reimport_other_origin",
                    RECEIVED,
                    N_("returned within 3 years of the export (products of the United States: no time limit)"),
                    years=3,
                ),
            ),
            "docs/customs/us-htsus-9801.md",
        ),
        Regime(
            "CN-CBEC-RETURN",
            MARKET_CN,
            "import_release",
            N_("Cross-border e-commerce retail import returns (China)"),
            "General Administration of Customs Announcement No. 194 of 2018 (supervision of cross-border "
            "e-commerce retail imports and exports), its returns provisions; customs modes 1210 and 9610",
            N_("returned in the state released, able to be sold again (second sale)"),
            8,
            (
                Limit("return_declared", REQUESTED, N_("return declared within 30 days of the release"), days=30),
                Limit(
                    "back_in_bonded_area",
                    RECEIVED,
                    N_("back in the bonded area within 45 days of the release"),
                    days=45,
                ),
            ),
            "docs/customs/cn-cbec-returns.md",
        ),
    )
}


def utc_day(timestamp: int) -> str:
    """A timestamp's UTC date, ISO 8601: what the evidence page prints next to each time."""
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()
