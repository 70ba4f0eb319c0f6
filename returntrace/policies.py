"""Return policies as ReturnEscrow takes them, and presets for real markets with their legal basis.

Times are seconds. Basis points: 10,000 = 100 %. Tuples follow IReturnEscrow.Policy's field order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import astuple, dataclass, replace
from enum import IntEnum

DAY = 24 * 3600


class Grade(IntEnum):
    NONE = 0
    A = 1  # unopened, seal intact
    B = 2  # opened, unused
    C = 3  # used


class UnitDisposition(IntEnum):
    """What happens to a returned unit (IReturnEscrow.Disposition)."""

    RESTOCK = 0
    DONATE = 1
    RECYCLE = 2
    DESTROY = 3


class Facts:
    """Inspection fact bits an inspector attests."""

    SEAL_INTACT = 1
    PACKAGING_INTACT = 2
    USED = 4
    DEFECTIVE = 8


@dataclass(frozen=True)
class GradeTerms:
    refund_bps: int
    points_bps: int
    merchant_pays_return_shipping: bool
    disposition: UnitDisposition


@dataclass(frozen=True)
class Policy:
    withdrawal_window: int  # statutory right of withdrawal from delivery; 0: none
    return_window: int  # voluntary return window from delivery
    refund_deadline: int  # statutory: refund due this long after the request
    inspection_sla: int  # after the return warehouse's receiving scan
    dispute_window: int  # after a B/C inspection, for the buyer to contest
    delivery_timeout: int  # no delivery scan by then: the buyer may cancel
    refunds_delivery_on_withdrawal: bool
    hygiene_exempt: bool  # opened hygiene-sealed goods lose the statutory right
    packaging_required_for_a: bool
    terms: tuple[GradeTerms, GradeTerms, GradeTerms]  # A, B, C
    refund_on_return: bool = False  # refund at an accredited return center's receiving scan
    exchange_offered: bool = False  # the buyer may take a voucher instead of cash
    exchange_bonus_bps: int = 0  # the voucher's bonus on top of the cash refund
    reissue_auto_approve_limit: int = 0  # defect claims on orders priced at or under it: approved at once
    dual_inspection_above: int = 0  # orders priced above it need two inspectors of different organisations

    def as_tuple(self) -> tuple:
        fields = astuple(replace(self, terms=()))
        i = [f.name for f in dataclasses.fields(self)].index("terms")
        return fields[:i] + (tuple(astuple(t) for t in self.terms),) + fields[i + 1 :]

    @classmethod
    def from_tuple(cls, values: tuple | list) -> "Policy":
        """The inverse of as_tuple: an IReturnEscrow.Policy as the ABI decodes it (a `policy(market,
        version)` call or a PolicySet log), in the struct's field order (tests check it against the ABI)."""
        fields = dataclasses.fields(cls)
        if len(values) != len(fields):
            raise ValueError(f"a Policy has {len(fields)} fields, got {len(values)}")
        kw: dict = {}
        for f, value in zip(fields, values):
            if f.name == "terms":
                kw[f.name] = tuple(GradeTerms(int(r), int(p), bool(m), UnitDisposition(int(d))) for r, p, m, d in value)
            else:
                kw[f.name] = bool(value) if f.type in ("bool", bool) else int(value)
        return cls(**kw)


# EU, Directive 2011/83/EU: 14-day withdrawal from delivery (Art. 9); refund of all payments,
# standard delivery included, within 14 days of the withdrawal (Art. 13(1)); deduction only for
# diminished value from handling beyond what establishing the goods' nature needs (Art. 14(2));
# sealed goods unsuitable for return for health or hygiene reasons are excluded once unsealed
# (Art. 16(e)); delivery within 30 days unless agreed otherwise (Art. 18). The 30-day return
# window and the grade terms are the merchant's voluntary policy on top.
EU = Policy(
    withdrawal_window=14 * DAY,
    return_window=30 * DAY,
    refund_deadline=14 * DAY,
    inspection_sla=5 * DAY,
    dispute_window=5 * DAY,
    delivery_timeout=30 * DAY,
    refunds_delivery_on_withdrawal=True,
    hygiene_exempt=True,
    packaging_required_for_a=True,
    terms=(
        GradeTerms(10_000, 0, True, UnitDisposition.RESTOCK),
        GradeTerms(8_000, 0, False, UnitDisposition.DONATE),
        GradeTerms(0, 3_000, False, UnitDisposition.RECYCLE),
    ),
    # Voluntary, on top of the law: refunds at accredited local return centers; an exchange voucher
    # with a 5 % bonus, which the buyer must choose expressly (Art. 13(1) allows another means of
    # refund only with the consumer's express agreement); defects up to 1 coin reissued on the
    # buyer's evidence (the trader must bring goods into conformity free of charge, Directive
    # (EU) 2019/771 Art. 14); two independent inspections above 5 coins.
    refund_on_return=True,
    exchange_offered=True,
    exchange_bonus_bps=500,
    reissue_auto_approve_limit=10**18,
    dual_inspection_above=5 * 10**18,
)

# US: no general federal right of withdrawal for online sales; returns are the merchant's
# voluntary policy (here 30 days). The FTC Mail Order Rule (16 CFR 435) requires shipping within
# the promised time or 30 days, hence the delivery timeout.
US = Policy(
    withdrawal_window=0,
    return_window=30 * DAY,
    refund_deadline=0,
    inspection_sla=7 * DAY,
    dispute_window=7 * DAY,
    delivery_timeout=30 * DAY,
    refunds_delivery_on_withdrawal=False,
    hygiene_exempt=False,
    packaging_required_for_a=False,
    terms=(
        GradeTerms(10_000, 0, True, UnitDisposition.RESTOCK),
        GradeTerms(7_500, 0, False, UnitDisposition.DONATE),
        GradeTerms(0, 5_000, False, UnitDisposition.RECYCLE),
    ),
    # Voluntary: refund at drop-off at an accredited return center and exchange-first with a 10 %
    # bonus, as US return platforms offer; defects up to 1 coin reissued on evidence (implied
    # warranty of merchantability, UCC 2-314); two independent inspections above 5 coins.
    refund_on_return=True,
    exchange_offered=True,
    exchange_bonus_bps=1_000,
    reissue_auto_approve_limit=10**18,
    dual_inspection_above=5 * 10**18,
)

# China cross-border: Consumer Rights Protection Law Art. 25, seven-day no-reason return for
# distance sales; the price (not the delivery fee) is refunded within seven days; return
# shipping is the consumer's unless agreed. The 2017 Interim Measures on 7-day no-reason returns
# (Art. 7) exclude goods that, once unsealed, may affect health or safety: opened hygiene-sealed
# baby products. The law counts the 7 refund days from the merchant's receipt of the goods; the
# contract counts them from the request and never earlier than the receipt (see README, Limits).
CN = Policy(
    withdrawal_window=7 * DAY,
    return_window=7 * DAY,
    refund_deadline=7 * DAY,
    inspection_sla=3 * DAY,
    dispute_window=3 * DAY,
    delivery_timeout=30 * DAY,
    refunds_delivery_on_withdrawal=False,
    hygiene_exempt=True,
    packaging_required_for_a=False,
    terms=(
        GradeTerms(10_000, 0, False, UnitDisposition.RESTOCK),
        GradeTerms(8_000, 0, False, UnitDisposition.DONATE),
        GradeTerms(0, 3_000, False, UnitDisposition.RECYCLE),
    ),
    # Cash refunds only, after inspection (no exchange voucher, no refund on receipt); defective goods
    # are replaced on evidence up to 1 coin (CRPL Art. 24: return, replacement or repair for goods that
    # fail quality requirements); two independent inspections above 5 coins.
    reissue_auto_approve_limit=10**18,
    dual_inspection_above=5 * 10**18,
)

MARKET_EU, MARKET_US, MARKET_CN = 0, 1, 2
PRESETS: dict[int, Policy] = {MARKET_EU: EU, MARKET_US: US, MARKET_CN: CN}
MARKET_NAMES = {MARKET_EU: "EU", MARKET_US: "US", MARKET_CN: "CN"}
