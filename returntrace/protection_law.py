"""To whom return protection may be offered, per market: the merchant always (it insures its own return
costs); a consumer only where that is lawful and only for what the law does not already give.

Sources (docs/insurance.md, "Who may buy it"):
- EU: the Unfair Commercial Practices Directive 2005/29, Annex I no. 10, blacklists presenting rights
  the law gives consumers as a distinctive feature of the trader's offer. Within 14 days the Consumer
  Rights Directive 2011/83/EU already refunds the price and standard delivery (Art. 9, 13(1)); a
  "return protection" sold next to it would sell the withdrawal right back. We offer consumers nothing
  in the EU (the direct cost of sending the goods back is the consumer's, Art. 14(1), but a cover of it
  sold as "return protection" is too easily read as the right itself).
- China: the Consumer Rights Protection Law Art. 25 gives 7 days to return without reason and leaves
  return shipping to the consumer unless agreed: a return-shipping cover (退货运费险) adds what the law
  does not give.
- United States: no general statutory right to return; the merchant's policy governs. A cover of the
  return shipping the policy leaves to the buyer adds what neither the law nor the policy gives.
A market not listed offers consumers nothing until its law is reviewed and added here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .policies import MARKET_NAMES

RETURN_SHIPPING = "return_shipping"


@dataclass(frozen=True)
class Offering:
    market: str  # market code (returntrace.policies.MARKET_NAMES), or the market number
    consumer_covers: tuple[str, ...]  # what may be sold to consumers; () none
    basis: str  # the law, in one line

    @property
    def to_consumers(self) -> bool:
        return bool(self.consumer_covers)


OFFERINGS: dict[str, Offering] = {
    "EU": Offering(
        "EU",
        (),
        "UCPD 2005/29 Annex I no. 10: the statutory withdrawal right (CRD 2011/83 Art. 9, 13) must not be "
        "sold as an extra; merchants only",
    ),
    "CN": Offering(
        "CN",
        (RETURN_SHIPPING,),
        "Consumer Rights Protection Law Art. 25: 7-day return without reason, return shipping the "
        "consumer's unless agreed; the cover pays that shipping",
    ),
    "US": Offering(
        "US",
        (RETURN_SHIPPING,),
        "No general statutory right of return; the merchant's policy governs; the cover pays the return "
        "shipping the policy leaves to the buyer",
    ),
}


def offering(market: int) -> Offering:
    """Who may buy return protection in `market`: consumers only where the table says so."""
    code = MARKET_NAMES.get(market, str(market))
    return OFFERINGS.get(code, Offering(code, (), "not reviewed: merchants only"))
