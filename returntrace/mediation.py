"""Where a buyer turns when a dispute about a return is not resolved, per market: one table, with
its sources, read by the case pages (api/http) and the policy pages alike.

The on-chain dispute comes first (ReturnEscrow.openDispute: an arbiter decides within the policy's
arbiterTimeout, else the attested facts decide); these bodies are the public routes beyond it. The
EU's Online Dispute Resolution platform closed on 20 July 2025 (Regulation (EU) 2024/3228 repealed
Regulation (EU) No 524/2013): it is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass

from .policies import MARKET_CN, MARKET_EU, MARKET_US


@dataclass(frozen=True)
class Route:
    name: str
    what: str  # what it does for the buyer, in one sentence
    url: str


@dataclass(frozen=True)
class Mediation:
    market: int
    routes: tuple[Route, ...]
    sources: tuple[str, ...]  # the texts this entry rests on


MEDIATION: dict[int, Mediation] = {
    MARKET_EU: Mediation(
        MARKET_EU,
        (
            Route(
                "European Consumer Centres Network (ECC-Net)",
                "Free help with a complaint against a trader in another EU country, Iceland or Norway.",
                "https://commission.europa.eu/live-work-travel-eu/consumer-rights-and-complaints/"
                "resolve-your-consumer-complaint/european-consumer-centres-network-ecc-net_en",
            ),
            Route(
                "The national alternative dispute resolution (ADR) body",
                "An out-of-court body approved under Directive 2013/11/EU in the trader's country.",
                "https://consumer-redress.ec.europa.eu/dispute-resolution-bodies_en",
            ),
        ),
        (
            "Directive 2013/11/EU on consumer ADR",
            "Regulation (EU) 2024/3228 (repeal of the ODR Regulation; the ODR platform closed on 20 July 2025)",
        ),
    ),
    MARKET_CN: Mediation(
        MARKET_CN,
        (
            Route(
                "12315 (State Administration for Market Regulation)",
                "The national consumer complaint hotline and platform; it mediates between consumer and seller.",
                "https://www.12315.cn/",
            ),
        ),
        (
            "Consumer Rights Protection Law of the PRC, Art. 39",
            "SAMR Measures on Handling Market Regulation Complaints",
        ),
    ),
    MARKET_US: Mediation(
        MARKET_US,
        (
            Route(
                "Your state's consumer protection office",
                "The state attorney general's or consumer agency's complaint and mediation service.",
                "https://www.usa.gov/state-consumer",
            ),
            Route(
                "Federal Trade Commission (ReportFraud.ftc.gov)",
                "Reports of unfair business practices; the FTC does not resolve individual complaints.",
                "https://reportfraud.ftc.gov/",
            ),
        ),
        ("FTC Act §5 (15 U.S.C. §45)", "USA.gov, State consumer protection offices"),
    ),
}


def routes_for(market: int | None) -> Mediation | None:
    return MEDIATION.get(market) if market is not None else None
