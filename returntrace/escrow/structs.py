"""The escrow's structs as IReturnEscrow and IReturnPolicies declare them, field for field.

Read them with `Order.decode(escrow.functions.order(id).call(), escrow.abi)` (any struct class the
same way); pass them to a call with `as_tuple()`. Amounts are base units of the order's currency,
times unix seconds, basis points 10,000 = 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass

from .abi import AbiStruct
from .enums import Grade, OrderStatus, Remedy, ReturnReason, UnitDisposition

BPS = 10_000  # ReturnPolicies._BPS


@dataclass(frozen=True)
class Listing(AbiStruct):
    """IReturnEscrow.Listing: a unit offered for sale by its brand (merchant zero: not listed)."""

    SOLIDITY = "IReturnEscrow.Listing"

    merchant: str
    price: int
    currency: str
    delivery_fee: int
    return_shipping_fee: int
    market: int
    policy_version: int
    class_flags: int

    def terms(self) -> ListingTerms:
        """What a buyer commits to when buying this listing (IReturnEscrow.ListingTerms)."""
        return ListingTerms.from_fields_of(self)


@dataclass(frozen=True)
class ListingTerms(AbiStruct):
    """IReturnEscrow.ListingTerms: any difference from the listing makes the purchase revert."""

    SOLIDITY = "IReturnEscrow.ListingTerms"

    market: int
    policy_version: int
    currency: str
    price: int
    delivery_fee: int
    return_shipping_fee: int
    class_flags: int


@dataclass(frozen=True)
class Order(AbiStruct):
    """IReturnEscrow.Order. `facts`, `grade` and `diminished_value` are the inspection's (or the
    arbiter's correction); after a settlement `grade` is the grade settled on (NONE: no inspection
    decided it)."""

    SOLIDITY = "IReturnEscrow.Order"

    buyer: str
    purchased_at: int
    status: OrderStatus
    reason: ReturnReason
    hygiene_sealed: bool
    in_withdrawal: bool  # the return request fell in the statutory withdrawal period
    facts: int  # returntrace.escrow.Facts bits
    grade: Grade
    remedy: Remedy
    merchant: str
    price: int
    currency: str
    delivery_fee: int
    unit_id: bytes
    return_shipping_fee: int
    market: int
    policy_version: int  # the market's policy version in force at purchase
    requested_at: int
    dispute_deadline: int
    exception_confirmed: bool
    diminished_value: int
    disputed_at: int
    window_extension: int  # the time defect claims kept the return period from running
    inspector_org: int  # GLN of the inspection a dispute would be about (0: none); it may not arbitrate

    @property
    def claim_rejected(self) -> bool:
        """Whether the order's defect claim was rejected, so the reissue desk takes no other
        (ReissueDeskClaimRejected): an Active order has a request time only after a rejected claim (the
        escrow's openDefectClaim sets it, and only decideDefectClaim's rejection brings an order back)."""
        return self.status == OrderStatus.ACTIVE and self.requested_at != 0

    @property
    def awaits_inspection(self) -> bool:
        """Whether an inspection is taken now (ReturnInspection.check): a return requested, a second
        opinion due, a refund paid before any inspection (which then decides only the unit's fate), or a
        party's dispute opened before any inspection and not attested yet (the facts go to the arbiter)."""
        if self.status == OrderStatus.REFUNDED:
            return self.grade == Grade.NONE
        if self.status == OrderStatus.DISPUTED:
            return self.inspector_org == 0
        return self.status in (OrderStatus.RETURN_REQUESTED, OrderStatus.SECOND_INSPECTION)


@dataclass(frozen=True)
class Law(AbiStruct):
    """IReturnPolicies.Law: a market's consumer law (set by the law admin)."""

    SOLIDITY = "IReturnPolicies.Law"

    withdrawal_days: int  # statutory right of withdrawal, whole days from delivery; 0: none
    refund_days: int  # the refund is due within, from the request (or the receipt)
    refund_from_receipt: bool  # the refund days run from the merchant's receipt (China)
    refunds_delivery: bool  # a withdrawal refunds standard delivery too (EU Art. 13(1))
    hygiene_exception: bool  # opened hygiene-sealed goods lose the right (EU Art. 16(e))
    exception_needs_confirmation: bool  # only if the buyer confirmed it at purchase (China)
    used_loses_right: bool  # goods must come back in good condition (China)
    diminished_value: bool  # a used unit keeps the right less its diminished value, in cash (EU Art. 14(2))
    weekends_extend: bool  # a period ending on a Saturday or Sunday ends on the next working day
    utc_offset_minutes: int  # the market's latest time zone: periods end at midnight there


@dataclass(frozen=True)
class GradeTerms(AbiStruct):
    """IReturnPolicies.GradeTerms: shares of the price, who pays return shipping, the unit's fate."""

    SOLIDITY = "IReturnPolicies.GradeTerms"

    refund_bps: int
    points_bps: int
    merchant_pays_return_shipping: bool
    disposition: UnitDisposition


@dataclass(frozen=True)
class Policy(AbiStruct):
    """IReturnPolicies.Policy: a market's return policy version (set by the policy admin). Times in seconds."""

    SOLIDITY = "IReturnPolicies.Policy"

    return_window: int  # voluntary return window from delivery, beyond the law's
    inspection_sla: int  # after the return warehouse's receiving scan
    dispute_window: int  # after a B/C inspection, for the buyer to contest
    delivery_timeout: int  # no delivery by then: the buyer may cancel; no return by then: the merchant is paid
    arbiter_timeout: int  # a dispute nobody decides by then settles by the attested facts
    max_relay_delay: int  # a scan relayed within this delay counts at its signed time
    hygiene_exempt: bool  # the merchant invokes the law's hygiene exception
    packaging_required_for_a: bool
    terms: tuple[GradeTerms, GradeTerms, GradeTerms]  # A, B, C: returns outside the statutory right
    refund_on_return: bool = False  # refund at an accredited return center's receiving scan
    exchange_offered: bool = False  # the buyer may take a voucher instead of cash
    exchange_bonus_bps: int = 0  # the voucher's bonus on top of the cash refund
    max_diminished_bps: int = 0  # the most of the price an inspector may attest as diminished value
    free_pickup: bool = False  # the merchant collects returns at the door (no withholding)
    waive_defect_return: bool = False  # an unfulfilled reissue refunds without the defective unit back

    def grade_terms(self, grade: Grade | int) -> GradeTerms:
        """The terms of grade A, B or C."""
        if not Grade.A <= grade <= Grade.C:
            raise ValueError(f"grade {grade} is not A, B or C")
        return self.terms[int(grade) - 1]

    def exchange_voucher(self, value: int) -> int:
        """The voucher an exchange gives for a return worth `value` in cash: the value plus the
        policy's bonus, rounded down as ReturnPolicies.settlement rounds it. The one copy of the
        escrow's arithmetic outside the contracts, for a page that offers the exchange before the
        buyer chose it (the escrow's `quote` follows the order's remedy); tests/escrow/test_model_quote.py
        holds it to the contract."""
        return value + value * self.exchange_bonus_bps // BPS


@dataclass(frozen=True)
class Currency(AbiStruct):
    """IReturnPolicies.Currency: a currency a market sells in (set by the policy admin)."""

    SOLIDITY = "IReturnPolicies.Currency"

    allowed: bool
    decimals: int
    reissue_auto_approve_limit: int  # base units: defect claims on orders priced at or under it are approved at once
    dual_inspection_above: int  # base units: returns of orders priced above it need two inspections (0: never)


@dataclass(frozen=True)
class OrderTerms(AbiStruct):
    """IReturnPolicies.OrderTerms: what a settlement needs to know of an order."""

    SOLIDITY = "IReturnPolicies.OrderTerms"

    market: int
    policy_version: int
    price: int
    delivery_fee: int
    return_shipping_fee: int  # the return shipping the buyer was told they bear, where the terms say so
    hygiene_sealed: bool
    exception_confirmed: bool  # the buyer confirmed the hygiene exception at purchase
    exchange: bool  # the buyer chose the exchange voucher


@dataclass(frozen=True)
class Settlement(AbiStruct):
    """IReturnPolicies.Settlement: refund + merchant_amount == price + delivery fee; the return's cash
    value is price_refunded + delivery_refunded - shipping_deducted: the refund, or for an exchange the
    voucher less its bonus (the voucher is part of the points). returntrace.escrow.settlement names the parts."""

    SOLIDITY = "IReturnPolicies.Settlement"

    statutory: bool
    refund: int
    merchant_amount: int
    points: int
    voucher: int
    bonus: int
    diminished: int
    shipping_deducted: int
    disposition: UnitDisposition
    price_refunded: int
    delivery_refunded: int


@dataclass(frozen=True)
class Reissue(AbiStruct):
    """IReissueDesk.Reissue: a replacement owed for a defective unit, approved at `approved_at`,
    `replacement` once linked (zero before)."""

    SOLIDITY = "IReissueDesk.Reissue"

    replacement: bytes
    approved_at: int


# Every struct of IReturnEscrow, IReturnPolicies and IReissueDesk the model reads or writes, by Solidity
# name. The other structs there are EIP-712 messages (returntrace.eip712.TYPES: ReturnRequest,
# Inspection, DefectClaim).
STRUCTS: dict[str, type[AbiStruct]] = {
    cls.SOLIDITY: cls
    for cls in (Listing, ListingTerms, Order, Law, GradeTerms, Policy, Currency, OrderTerms, Settlement, Reissue)
}
