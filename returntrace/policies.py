"""Presets for real markets with their legal basis: consumer laws, return policies and currencies as
ReturnPolicies takes them (the types are returntrace.escrow's).

Policy times are seconds, the law's periods whole days. Basis points: 10,000 = 100 %.
"""

from __future__ import annotations

from .escrow import Currency, GradeTerms, Law, Policy, UnitDisposition

DAY = 24 * 3600


# EU, Directive 2011/83/EU: 14 days to withdraw from delivery (Art. 9); all payments, standard
# delivery included, refunded within 14 days of the withdrawal (Art. 13(1)), withheld until the goods
# are back or their dispatch is proved unless the trader collects them (Art. 13(3)); the consumer bears
# the direct cost of return if told (Art. 14(1)) and only the diminished value of handling beyond
# what establishing the goods' nature needs (Art. 14(2)); sealed hygiene goods unsealed after delivery
# are excluded (Art. 16(e)). Periods in whole days ending with the last day; a weekend or holiday end
# moves to the next working day (Regulation 1182/71 Art. 3). The latest time zone of the Union is that
# of its outermost regions in the Caribbean (UTC-4): the buyer's last moment anywhere in it.
EU_LAW = Law(
    withdrawal_days=14,
    refund_days=14,
    refund_from_receipt=False,
    refunds_delivery=True,
    hygiene_exception=True,
    exception_needs_confirmation=False,
    used_loses_right=False,
    diminished_value=True,
    weekends_extend=True,
    utc_offset_minutes=-240,
)

# US: no general federal right of withdrawal for online sales; returns follow the merchant's policy.
# Periods are the policy's (seconds); the offset (Hawaii) only matters if a law sets day periods.
US_LAW = Law(
    withdrawal_days=0,
    refund_days=0,
    refund_from_receipt=False,
    refunds_delivery=False,
    hygiene_exception=False,
    exception_needs_confirmation=False,
    used_loses_right=False,
    diminished_value=False,
    weekends_extend=False,
    utc_offset_minutes=-600,
)

# China, Consumer Rights Protection Law Art. 25: seven days from receipt to return without reason;
# goods must come back in good condition; goods unsuitable by nature are excluded only if the
# consumer confirmed it at purchase; the price (not delivery) is refunded within seven days of the
# merchant's receipt; return shipping is the consumer's unless agreed. Civil Code Art. 201-203: a
# period in days starts the next day, ends at 24:00 of its last day, and one ending on a statutory
# rest day or holiday ends on the day after it. UTC+8 throughout.
CN_LAW = Law(
    withdrawal_days=7,
    refund_days=7,
    refund_from_receipt=True,
    refunds_delivery=False,
    hygiene_exception=True,
    exception_needs_confirmation=True,
    used_loses_right=True,
    diminished_value=False,
    weekends_extend=True,
    utc_offset_minutes=480,
)

# The merchants' voluntary policies on top of the law: a 30-day return window, grade terms for returns
# outside the statutory right, refunds at accredited local return centers, an exchange voucher with a
# bonus the buyer must choose expressly (Art. 13(1) allows another means of refund only with the
# consumer's agreement), at most 30 % of the price as attested diminished value of a used unit.
EU = Policy(
    return_window=30 * DAY,
    inspection_sla=5 * DAY,
    dispute_window=5 * DAY,
    delivery_timeout=30 * DAY,
    arbiter_timeout=14 * DAY,
    max_relay_delay=DAY,
    hygiene_exempt=True,
    packaging_required_for_a=True,
    terms=(
        GradeTerms(10_000, 0, True, UnitDisposition.RESTOCK),
        GradeTerms(8_000, 0, False, UnitDisposition.DONATE),
        GradeTerms(0, 3_000, False, UnitDisposition.RECYCLE),
    ),
    refund_on_return=True,
    exchange_offered=True,
    exchange_bonus_bps=500,
    max_diminished_bps=3_000,
)

# US: the merchant's policy is the contract (the FTC Mail Order Rule, 16 CFR 435, sets the delivery
# timeout); refund at drop-off at an accredited center and exchange-first with a 10 % bonus, as US
# return platforms offer.
US = Policy(
    return_window=30 * DAY,
    inspection_sla=7 * DAY,
    dispute_window=7 * DAY,
    delivery_timeout=30 * DAY,
    arbiter_timeout=14 * DAY,
    max_relay_delay=DAY,
    hygiene_exempt=False,
    packaging_required_for_a=False,
    terms=(
        GradeTerms(10_000, 0, True, UnitDisposition.RESTOCK),
        GradeTerms(7_500, 0, False, UnitDisposition.DONATE),
        GradeTerms(0, 5_000, False, UnitDisposition.RECYCLE),
    ),
    refund_on_return=True,
    exchange_offered=True,
    exchange_bonus_bps=1_000,
)

# China cross-border: cash refunds after inspection (no exchange voucher, no refund on receipt); a used
# or opened hygiene unit (confirmed at purchase) is refunded by the grade terms.
CN = Policy(
    return_window=7 * DAY,
    inspection_sla=3 * DAY,
    dispute_window=3 * DAY,
    delivery_timeout=30 * DAY,
    arbiter_timeout=7 * DAY,
    max_relay_delay=DAY,
    hygiene_exempt=True,
    packaging_required_for_a=False,
    terms=(
        GradeTerms(10_000, 0, False, UnitDisposition.RESTOCK),
        GradeTerms(8_000, 0, False, UnitDisposition.DONATE),
        GradeTerms(0, 3_000, False, UnitDisposition.RECYCLE),
    ),
)

# The native coin (18 decimals) in every market: defects up to 1 coin reissued on the buyer's evidence,
# two independent inspections above 5 coins.
NATIVE = Currency(allowed=True, decimals=18, reissue_auto_approve_limit=10**18, dual_inspection_above=5 * 10**18)

MARKET_EU, MARKET_US, MARKET_CN = 0, 1, 2
LAWS: dict[int, Law] = {MARKET_EU: EU_LAW, MARKET_US: US_LAW, MARKET_CN: CN_LAW}
PRESETS: dict[int, Policy] = {MARKET_EU: EU, MARKET_US: US, MARKET_CN: CN}
MARKET_NAMES = {MARKET_EU: "EU", MARKET_US: "US", MARKET_CN: "CN"}
