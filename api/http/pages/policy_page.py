"""What the product page (`GET /01/{gtin}`) and the unit page's policy section say: a product's return
terms per market, from the contracts' law and policy at a stated block (api/chain/product_terms.py),
in plain words in the page's language.

Pure presentation, no I/O: figures come from the structs read at the block; the legal references
(customs relief, where disputes are mediated) are fixed text per market, in the catalogues.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from returntrace.escrow import BPS, Law, Policy
from returntrace.policies import DAY, MARKET_NAMES
from returntrace.vocab import HYGIENE_SEALED

from ...chain.product_terms import MarketTerms, OrderTerms, ProductTerms
from ...read.names import Named
from .consumer_page import GRADE_MEANING, Row, format_time, short_address
from .i18n import N_, _, ngettext
from .product_info import NameLookup, ProductCard, product_card

MARKET_TITLE = {"EU": N_("European Union"), "US": N_("United States"), "CN": N_("China")}

# Where a buyer turns when the brand and the escrow's arbiter did not settle it.
MEDIATION = {
    "EU": N_(
        "The European Consumer Centre of your country (ECC-Net) advises for free on purchases from another EU "
        "country and can take up the complaint with the seller; or a national consumer dispute resolution (ADR) "
        "body. The EU's online dispute resolution platform closed on 20 July 2025."
    ),
    "CN": N_(
        "The national consumer complaint line 12315 (State Administration for Market Regulation): call 12315 or "
        "use the 12315 platform online."
    ),
    "US": N_(
        "Your state's consumer protection agency (usually the attorney general's office); the Federal Trade "
        "Commission takes reports at ReportFraud.ftc.gov."
    ),
}
# Duties and customs when a cross-border purchase goes back.
CUSTOMS = {
    "EU": N_(
        "Import duty paid on goods sent back because they were defective or not as agreed can be repaid "
        "(Union Customs Code Art. 118); goods of EU origin that come back unchanged within three years are "
        "free of import duty (returned goods relief, Art. 203)."
    ),
    "CN": N_(
        "A cross-border e-commerce import (customs modes 1210 and 9610) whose return is declared within 30 days "
        "of its customs release and that is back in the bonded area within 45 days is not taxed, and your annual "
        "cross-border shopping quota is restored (General Administration of Customs Announcement No. 194 of 2018). "
        "Exported goods re-imported in their original state within one year for reasons of quality or "
        "specification pay no import duty (Customs Tariff Law of the People's Republic of China)."
    ),
    "US": N_(
        "American goods returned without having been improved abroad enter free of duty (HTSUS 9801.00.10); "
        "duty paid on imported goods that did not conform and are exported again can be refunded as drawback "
        "(19 U.S.C. 1313(c))."
    ),
}


@dataclass
class Center:
    location: int  # GLN of the site
    organization: int  # GLN of the organisation that runs it
    location_name: Named | None = None
    organization_name: Named | None = None


@dataclass
class MarketSection:
    market: str  # "EU", or the market number
    title: str
    rows: list[Row]
    grades: list[Row] = field(default_factory=list)
    return_centers: list[Center] = field(default_factory=list)
    sold: bool = True  # False: no law or policy is set, the escrow sells nothing there
    summary: str = ""  # the periods in one line, shown while the section is folded
    open: bool = True  # unfolded (a <details> element: the page stays script-free)


@dataclass
class PolicyPage:
    gtin: str
    brand: str
    brand_short: str
    digital_link: str
    hygiene_sealed: bool
    block: int
    block_hash: str
    stated: str  # "Terms as the chain states them at block 1,234 (3 May 2026, 14:05 UTC)"
    markets: list[MarketSection]
    brand_name: Named | None = None
    product: ProductCard | None = None


def period(seconds: int) -> str:
    """A policy time as a reader counts it: "30 days", "1 day", or "12 hours" when not whole days."""
    if seconds % DAY:
        hours = -(-seconds // 3600)
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    days = seconds // DAY
    return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}


def _share(bps: int) -> str:
    return f"{bps * 100 / BPS:g}"


def _offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "−"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def market_code(market: int) -> str:
    return MARKET_NAMES.get(market, str(market))


def _window_rows(law: Law, policy: Policy) -> list[Row]:
    rows = []
    if law.withdrawal_days:
        text = ngettext(
            "By law: %(days)s day to withdraw without giving a reason, from the day after delivery",
            "By law: %(days)s days to withdraw without giving a reason, from the day after delivery",
            law.withdrawal_days,
        ) % {"days": law.withdrawal_days}
        text += _(", until midnight %(zone)s on the last day") % {"zone": _offset(law.utc_offset_minutes)}
        if law.weekends_extend:
            text += _("; a period ending on a weekend or public holiday ends on the next working day")
        rows.append(Row(_("Right of withdrawal"), text, emphasis=True))
    else:
        rows.append(Row(_("Right of withdrawal"), _("None by law: returns follow the brand's policy")))
    rows.append(
        Row(
            _("Return window"),
            _(
                "The brand's policy: %(period)s from delivery (the carrier's signed delivery scan starts it); "
                "the longer of this and the law's period applies"
            )
            % {"period": period(policy.return_window)},
            emphasis=not law.withdrawal_days,
        )
    )
    return rows


def _statutory_text(law: Law, policy: Policy) -> str:
    if law.refunds_delivery:
        text = _("Within the legal period the law sets the least you get back: the full price and standard delivery")
    else:
        text = _("Within the legal period the law sets the least you get back: the full price (not delivery)")
    if law.diminished_value and policy.max_diminished_bps:
        text += _(", less the diminished value of a used unit, at most %(share)s %% of the price") % {
            "share": _share(policy.max_diminished_bps)
        }
    elif law.used_loses_right:
        text += _("; the goods must come back in good condition, or the right is lost")
    return text + _statutory_shipping(policy)


def _statutory_shipping(policy: Policy) -> str:
    """Who bears the return shipping inside the legal right: the grade's terms, never the buyer for a
    defective unit (ReturnPolicies.settlement). The consumer bears it only if told (EU 2011/83 Art. 14(1));
    the grade rows are headed as returns outside the legal right, so it is said here too."""
    yours = [letter for letter, t in zip("ABC", policy.terms, strict=True) if not t.merchant_pays_return_shipping]
    if not yours:
        return _("; return shipping: the brand pays it")
    if len(yours) == len(policy.terms):
        return _("; return shipping: you pay the amount stated when you bought, except for a defective unit")
    brands = [letter for letter in "ABC" if letter not in yours]
    return _(
        "; return shipping: you pay the amount stated when you bought for %(yours)s, the brand pays it for "
        "%(brands)s and for a defective unit"
    ) % {"yours": _grades(yours), "brands": _grades(brands)}


def _grades(letters: list[str]) -> str:
    return ngettext("grade %(grades)s", "grades %(grades)s", len(letters)) % {"grades": ", ".join(letters)}


def _grade_rows(policy: Policy) -> list[Row]:
    rows = []
    for letter, terms in zip("ABC", policy.terms, strict=True):
        cash, points = _share(terms.refund_bps), _share(terms.points_bps)
        if terms.refund_bps and terms.points_bps:
            paid = _("%(cash)s %% of the price in cash and %(points)s %% in store points") % {
                "cash": cash,
                "points": points,
            }
        elif terms.points_bps:
            paid = _("%(points)s %% of the price in store points, no cash") % {"points": points}
        elif terms.refund_bps:
            paid = _("%(cash)s %% of the price in cash") % {"cash": cash}
        else:
            paid = _("nothing back")
        shipping = (
            _("the brand pays return shipping")
            if terms.merchant_pays_return_shipping
            else _("you pay the return shipping stated when you bought")
        )
        meaning = _(GRADE_MEANING[letter])
        rows.append(
            Row(_("Grade %(grade)s — %(meaning)s") % {"grade": letter, "meaning": meaning}, f"{paid}; {shipping}")
        )
    return rows


def _money_rows(law: Law, policy: Policy, currency_name: Callable[[str], str], m: MarketTerms) -> list[Row]:
    rows = []
    if law.withdrawal_days:
        rows.append(Row(_("Refund by law"), _statutory_text(law, policy), emphasis=True))
    if policy.exchange_offered:
        rows.append(
            Row(
                _("Exchange"),
                _(
                    "Instead of cash, a voucher of store points worth the refund plus a %(bonus)s %% bonus, if you "
                    "choose it"
                )
                % {"bonus": _share(policy.exchange_bonus_bps)},
            )
        )
    if policy.refund_on_return:
        rows.append(Row(_("Refund on return"), _("Paid as soon as an accredited return centre scans your parcel in")))
    if policy.free_pickup:
        rows.append(Row(_("Pickup"), _("The brand collects returns at your door, free of charge")))
    if m.currencies:
        rows.append(Row(_("Currencies"), ", ".join(currency_name(address) for address, _terms in m.currencies)))
    return rows


def _deadline_rows(law: Law, policy: Policy) -> list[Row]:
    rows = []
    if law.refund_days:
        days = {"period": ngettext("%(n)s day", "%(n)s days", law.refund_days) % {"n": law.refund_days}}
        if law.refund_from_receipt:
            text = _("Within %(period)s of the brand receiving the return") % days
        elif policy.free_pickup:
            text = _("Within %(period)s of your withdrawal") % days
        else:
            text = (
                _(
                    "Within %(period)s of your withdrawal; the brand may wait until the goods are back or a "
                    "carrier's scan proves you sent them"
                )
                % days
            )
        rows.append(
            Row(
                _("Refund due"),
                text + _("; if it is late, you claim it from the escrow yourself"),
                emphasis=True,
            )
        )
    rows.append(
        Row(
            _("Inspection"),
            _(
                "Within %(period)s of the return centre's receiving scan; not inspected in time, the return "
                "is refunded in full"
            )
            % {"period": period(policy.inspection_sla)},
        )
    )
    rows.append(
        Row(
            _("Delivery"),
            _("Not delivered within %(period)s: cancel for a full refund")
            % {"period": period(policy.delivery_timeout)},
        )
    )
    return rows


def _hygiene_row(law: Law, policy: Policy) -> Row:
    if law.hygiene_exception and policy.hygiene_exempt:
        text = _("Hygiene-sealed: once you open the seal, the legal right of withdrawal is lost")
        if law.exception_needs_confirmation:
            text += _(" (only if you confirmed this when you bought)")
        text += _("; the grade terms still apply")
    elif not law.withdrawal_days:
        # No statutory right to lose (a US-style market): the seal only counts for the brand's grade.
        text = _(
            "Hygiene-sealed: there is no legal right of withdrawal here; an opened seal is graded by the brand's terms"
        )
    else:
        text = _("Hygiene-sealed, but here an opened seal does not cost you the legal right")
    return Row(_("Hygiene"), text)


def _cross_border_rows(code: str, policy: Policy) -> list[Row]:
    rows = [
        Row(
            _("Time"),
            _(
                "A carrier's scan proves when you sent it back: a return sent in time counts, however long it "
                "travels; a scan relayed within %(period)s counts at the time it was signed"
            )
            % {"period": period(policy.max_relay_delay)},
        )
    ]
    if code in CUSTOMS:
        rows.append(Row(_("Duties and customs"), _(CUSTOMS[code])))
    rows.append(
        Row(
            _("Customs proof"),
            _(
                "The unit's customs clearance is on the blockchain as a sealed reference to its declaration, so "
                "the brand can show customs that this return is the unit it exported"
            ),
        )
    )
    return rows


def _dispute_rows(code: str, policy: Policy) -> list[Row]:
    rows = [
        Row(
            _("Contest a grade"),
            _(
                "Within %(period)s of a grade B or C; an independent arbiter decides within %(arbiter)s, and if "
                "it does not, the inspector's attested facts decide"
            )
            % {"period": period(policy.dispute_window), "arbiter": period(policy.arbiter_timeout)},
        )
    ]
    rows.append(
        Row(
            _("If it is not resolved"),
            _(MEDIATION[code]) if code in MEDIATION else _("The consumer authority of your country"),
            emphasis=True,
        )
    )
    return rows


def _centers(m: MarketTerms, names: NameLookup | None) -> list[Center]:
    return [
        Center(
            location,
            organization,
            names.organization(location) if names else None,
            names.organization(organization) if names else None,
        )
        for location, organization in m.return_centers
    ]


def market_section(
    m: MarketTerms, hygiene_sealed: bool, currency_name: Callable[[str], str], names: NameLookup | None = None
) -> MarketSection:
    """One market's terms: the window, money per grade, deadlines, hygiene, cross-border and disputes."""
    code = market_code(m.market)
    title = _(MARKET_TITLE[code]) if code in MARKET_TITLE else _("Market %(market)s") % {"market": code}
    if m.law is None or m.policy is None:
        return MarketSection(
            code, title, [Row(_("Returns"), _("No return policy is set for this market yet"))], sold=False
        )
    law, policy = m.law, m.policy
    rows = _window_rows(law, policy) + _money_rows(law, policy, currency_name, m) + _deadline_rows(law, policy)
    if hygiene_sealed:
        rows.append(_hygiene_row(law, policy))
    rows += _cross_border_rows(code, policy) + _dispute_rows(code, policy)
    rows.append(
        Row(
            _("Policy version"),
            _("Version %(version)s of the %(market)s policy") % {"version": m.policy_version, "market": code},
        )
    )
    return MarketSection(code, title, rows, _grade_rows(policy), _centers(m, names), summary=_summary(law, policy))


def _summary(law: Law, policy: Policy) -> str:
    values = {"law": period(law.withdrawal_days * DAY), "period": period(policy.return_window)}
    if law.withdrawal_days:
        return _("%(law)s to withdraw by law, %(period)s under the brand's policy") % values
    return _("%(period)s to return under the brand's policy") % values


def stated(block: int, block_time: int | None) -> str:
    when = format_time(block_time)[0]
    values = {"block": f"{block:,}", "time": when}
    return (
        _("Terms as the blockchain states them at block %(block)s (%(time)s)") % values
        if when
        else _("Terms as the blockchain states them at block %(block)s") % values
    )


def _with_offer(section: MarketSection, offer: Row | None) -> MarketSection:
    """The section with the consumer's optional cover before its policy version row (where offered)."""
    if offer is None or not section.sold:
        return section
    return replace(section, rows=[*section.rows[:-1], offer, section.rows[-1]])


def build_policy_page(
    terms: ProductTerms,
    currency_name: Callable[[str], str],
    digital_link: str,
    names: NameLookup | None = None,
    offers: Mapping[int, Row] | None = None,
) -> PolicyPage:
    """The product page: what the product is (the brand's signed information) and its terms in each
    market it is sold in, at the block they were read; `offers` the consumer's return-shipping cover
    per market, only where the law allows selling it (api/http/pages/protection_offer.py)."""
    hygiene = bool(terms.class_flags & HYGIENE_SEALED)
    offers = offers or {}
    return PolicyPage(
        gtin=terms.gtin,
        brand=terms.brand,
        brand_short=short_address(terms.brand),
        digital_link=digital_link,
        hygiene_sealed=hygiene,
        block=terms.block,
        block_hash=terms.block_hash,
        stated=stated(terms.block, terms.block_time),
        # one market: unfolded; several: each folded to its periods, the reader opens theirs
        markets=[
            replace(
                _with_offer(market_section(m, hygiene, currency_name, names), offers.get(m.market)),
                open=len(terms.markets) == 1,
            )
            for m in terms.markets
        ],
        brand_name=names.actor(terms.brand) if names else None,
        product=product_card(names.product(terms.gtin)) if names else None,
    )


def order_section(
    terms: OrderTerms, currency_name: Callable[[str], str], names: NameLookup | None = None
) -> MarketSection:
    """The unit page's policy section: the terms the order was bought under, with its dates filled in."""
    section = market_section(terms.market, terms.hygiene_sealed, currency_name, names)
    dates = []
    closes = format_time(terms.window_closes_at)[0]
    dates.append(
        Row(_("Return window closes"), closes, emphasis=True)
        if closes
        else Row(_("Return window closes"), _("Not delivered yet: the window starts with the delivery scan"))
    )
    due = format_time(terms.refund_due_at)[0]
    if due:
        dates.append(Row(_("Refund due by"), due, emphasis=True))
    elif terms.in_withdrawal:
        dates.append(
            Row(
                _("Refund due by"),
                _("Set when the return centre receives it or a carrier's scan proves you sent it"),
                emphasis=True,
            )
        )
    section.rows = dates + section.rows
    section.rows.append(Row(_("Checked"), stated(terms.block, terms.block_time)))
    return section
