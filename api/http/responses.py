"""What the JSON routes answer: one model each (their `response_model`), one naming convention:
camelCase, as `/v1/messages` has always used (`txHash`).

The unit and parcel views (api/read/views.py) were served with their Python names (`return_status`,
`tx_hash`, …). Those names are deprecated aliases for one release (CHANGELOG.md, Unreleased): every
object of a view carries each field under its camelCase name and, where it differs, under its old
snake_case name too, with the same value.

Models refuse fields they do not declare (`extra="forbid"`): a route that starts answering a new
field without declaring it fails its tests instead of dropping it silently.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from pydantic.alias_generators import to_camel


class Answer(BaseModel):
    """A JSON answer whose fields are named in camelCase already."""

    model_config = ConfigDict(extra="forbid")


class CamelView(BaseModel):
    """A view object: Python names inside, camelCase outside, plus the deprecated snake_case names."""

    model_config = ConfigDict(
        extra="forbid", from_attributes=True, alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )

    @model_serializer(mode="wrap")
    def _with_deprecated_names(
        self, handler: SerializerFunctionWrapHandler
    ):  # no return annotation: the schema stays the fields
        data = handler(self)
        for name, field in type(self).model_fields.items():
            alias = field.alias or name
            if alias != name and alias in data:
                data[name] = data[alias]  # deprecated: the snake_case name, served for one release
        return data


# ------------------------------------------------------------------ signed messages


class MessageOut(Answer):
    id: str
    kind: str
    signer: str
    nonce: int
    items: int
    status: str  # accepted | submitted | confirmed | failed
    txHash: str | None
    block: int | None
    error: str | None
    acceptedAt: float
    updatedAt: float


class NonceOut(Answer):
    signer: str
    kind: str
    chainNonce: int
    nextNonce: int


class MessageTypeOut(Answer):
    post: str
    primaryType: str
    domain: dict[str, Any]
    types: dict[str, Any]
    typeString: str


class DocumentTypeOut(MessageTypeOut):
    authority: str  # "accreditor", the actor roles that may sign it, or "the order's buyer"
    subject: list[str]
    description: str
    restricted: bool  # served only to the readers its rule names, never publicly


class Eip712Out(Answer):
    chainId: int
    messages: dict[str, MessageTypeOut]
    documents: dict[str, DocumentTypeOut]
    vocabulary: dict[str, Any]
    notes: list[str]


class BlockOut(Answer):
    number: int
    hash: str


class DocumentOut(Answer):
    """A signed document with what proves it (api/write/documents.py DocumentDesk.proof)."""

    id: str
    kind: str
    subject: str
    signer: str
    issuedAt: int
    message: dict[str, Any]
    signature: str
    checkedAt: BlockOut
    typedData: dict[str, Any]
    verify: list[str]


# ------------------------------------------------------------------ health


class HealthOut(Answer):
    status: str


class ReadyOut(Answer):
    ready: bool
    outbox: dict[str, int]
    chain: dict[str, Any]
    relayer: dict[str, Any]
    indexer: dict[str, Any]
    legacyIndexers: list[dict[str, Any]]
    # With the node unreachable, the error shape beside the checks.
    error: str | None = None
    detail: str | None = None


# ------------------------------------------------------------------ evidence


class EvidenceOut(Answer):
    cid: str
    size: int
    contentType: str
    digest: str
    pinnedRemote: bool
    expiresAt: int | None = Field(
        description="Unix time the file is deleted at unless a confirmed signed message, a signed document or an "
        "indexed chain record carries its digest first (a message still on its way keeps it meanwhile); null: one "
        "does, it is kept"
    )


# ------------------------------------------------------------------ audit


class AuditEventOut(Answer):
    unitId: str
    gtin: str | None
    serial: str | None
    parcelSscc: str | None
    seq: int
    kind: str
    bizStep: str
    bizStepCode: int
    bizStepUri: str | None
    label: str
    disposition: str | None
    dispositionUri: str | None
    location: str
    eventTime: int
    eventTimeIso: str
    signer: str
    signerRole: str
    evidence: dict[str, Any] | None
    bizTransaction: dict[str, Any] | None
    block: int
    txHash: str
    logIndex: int
    structHash: str
    record: str
    aggregation: dict[str, Any] | None = None  # aggregations only: {sscc, action, childIds}


class AuditEventsOut(Answer):
    indexedBlock: int | None
    count: int
    events: list[AuditEventOut]
    nextCursor: str | None


class CountsOut(Answer):
    total: int
    verified: int
    mismatched: int


class IntegrityOut(Answer):
    block: int
    units: CountsOut
    parcels: CountsOut
    events: int
    mismatches: list[dict[str, Any]]
    orders: int
    evidence: dict[str, Any]
    legacy: list[dict[str, Any]]  # each previous deployment's report, with its `deployment`


# ------------------------------------------------------------------ unit and parcel views (api/read/views.py)


class TimelineEntryOut(CamelView):
    seq: int
    step: str
    label: str
    step_uri: str
    disposition: str | None
    disposition_uri: str | None
    location: str
    event_time: int
    signer: str
    signer_role: str
    evidence: str | None
    biz_transaction: str | None
    tx_hash: str
    block: int
    parcel: str | None = None
    action: str | None = None
    via_parcel: bool = False
    log_index: int | None = None


class SettlementOut(CamelView):
    grade: str | None
    statutory: bool
    refund: str
    merchant_amount: str
    points: str
    disposition: str
    tx_hash: str
    block: int
    log_index: int | None = None
    parts: dict[str, Any] | None = None


class ReturnStatusOut(CamelView):
    order_id: int
    market: str
    status: str
    currency: str
    price: str
    delivery_fee: str
    reason: str | None
    requested_at: int | None
    inspection: dict[str, Any] | None
    settlement: SettlementOut | None
    events: list[dict[str, Any]]
    remedy: str | None = None
    voucher_points: str | None = None
    return_options: dict[str, Any] | None = None
    refund_on_receipt: dict[str, Any] | None = None
    second_inspection: dict[str, Any] | None = None
    defect_claim: dict[str, Any] | None = None
    reissue: dict[str, Any] | None = None
    in_withdrawal: bool | None = None
    dispute: dict[str, Any] | None = None
    dispatched_at: int | None = None
    proof: dict[str, Any] | None = None


class VerificationOut(CamelView):
    verified: bool
    block: int | None
    onchain_count: int | None
    rebuilt_count: int
    reason: str | None
    closed: bool = False


class UnitViewOut(CamelView):
    unit_id: str
    gtin: str
    serial: str
    brand: str
    hygiene_sealed: bool
    digital_link: str
    timeline: list[TimelineEntryOut]
    return_status: ReturnStatusOut | None
    verification: VerificationOut
    replacement_for: dict[str, Any] | None = None
    closed: bool = False
    fate: dict[str, Any] | None = None
    deployment: dict[str, Any] | None = None


class ParcelMemberOut(CamelView):
    unit_id: str
    gtin: str | None
    serial: str | None
    link: str | None


class ParcelViewOut(CamelView):
    parcel_id: str
    sscc: str
    digital_link: str
    timeline: list[TimelineEntryOut]
    contents: list[ParcelMemberOut]
    verification: VerificationOut
    contents_verified: bool
    contents_reason: str | None
    onchain_size: int | None


def unit_json(view: Any) -> dict[str, Any]:
    """A UnitView (api/read/views.py) as the resolver answers it."""
    return UnitViewOut.model_validate(view).model_dump(mode="json")


def parcel_json(view: Any) -> dict[str, Any]:
    """A ParcelView as the resolver answers it."""
    return ParcelViewOut.model_validate(view).model_dump(mode="json")


# ------------------------------------------------------------------ shipping (api/read/shipping.py)


class PinnedBlockOut(Answer):
    """The block a statement is made at, with its time."""

    number: int
    hash: str
    time: int


class QuoteOut(Answer):
    carrier: str
    service: str  # drop-off | pickup
    currency: str  # ISO 4217
    price: int  # the currency's minor unit
    transitDays: int
    weightBandMaxGrams: int
    destination: str  # GLN
    validUntil: int
    cheapest: bool  # the lowest price in its currency
    fastest: bool  # the fewest transit days of all
    source: str
    proof: dict[str, Any]  # the signed card's reference and the block the carrier's accreditation was read at


class LegOut(Answer):
    originMarket: str
    destinations: list[dict[str, str]]


class ShippingQuotesOut(Answer):
    orderId: int
    block: PinnedBlockOut
    leg: LegOut
    weightGrams: int
    byPrice: list[QuoteOut]
    bySpeed: list[QuoteOut]
    excluded: list[dict[str, Any]]
    reason: str | None
    sources: list[str]


class CombinedOfferOut(Answer):
    destination: str
    currency: str
    orders: list[int]
    totalGrams: int
    singles: dict[str, QuoteOut]
    singlesTotal: int
    combined: QuoteOut
    saving: int
    parcel: dict[str, Any]


class CombinedReturnsOut(Answer):
    buyer: str
    block: PinnedBlockOut
    openReturns: list[dict[str, int]]
    excluded: list[dict[str, Any]]
    offers: list[CombinedOfferOut]
    reason: str | None


class PickupStatusOut(Answer):
    status: str  # booked | collected | scanned_not_counted
    block: PinnedBlockOut
    orderStatus: str
    scan: dict[str, Any] | None
    dispatchedAt: int | None
    dispatchedRefundClaimableFrom: int | None


class PickupOut(Answer):
    id: str
    orderId: int
    unitId: str
    rmaRef: str
    buyer: str
    carrier: str
    addressRef: str
    windowFrom: int
    windowUntil: int
    destination: str
    card: dict[str, Any]
    bookedAt: int
    bookedBlock: int
    onChain: PickupStatusOut | None


class CarrierPickupsOut(Answer):
    carrier: str
    pickups: list[PickupOut]


# ------------------------------------------------------------------ sign-in and cases (docs/people.md)


class SiweNonceOut(Answer):
    message: str | None  # the canonical EIP-4361 text for `?address=`, else null
    nonce: str
    expiresAt: float
    domain: str
    uri: str
    chainId: int
    version: str
    statement: str


class SignInOut(Answer):
    account: str
    expiresAt: float
    token: str


class SessionOut(Answer):
    account: str
    expiresAt: float
    issuedAt: str
    block: int  # the roles and organisation are read at this block
    roles: int
    organization: int | None
    staff: bool
    auditor: bool


class SignedOutOut(Answer):
    signedOut: bool


class CaseUnitOut(Answer):
    gtin: str | None
    serial: str | None
    unitId: str | None


class CaseAssessmentOut(Answer):
    language: str | None
    reason: str | None
    confidence: float | None


class HandoffOut(Answer):
    why: list[str]
    urgent: bool


class SlaOut(Answer):
    dueAt: float
    overdue: bool


class MediationRouteOut(Answer):
    name: str
    what: str
    url: str


class MediationOut(Answer):
    decideBy: int
    arbiterTimeout: int
    atBlock: int
    routes: list[MediationRouteOut]
    sources: list[str]


class CaseTextOut(Answer):
    text: str
    consent: str  # asked_for_person | signed_return_request
    storedAt: float


class CaseLogEntryOut(Answer):
    seq: int
    at: float
    actor: str
    action: str
    detail: dict[str, Any]


class NotificationOut(Answer):
    id: int
    contact: str | None
    status: str  # pending | sent | no_contact
    attempts: int
    sentAt: float | None


class CaseOut(Answer):
    """A case; `buyer`, `organization`, `log` and `notifications` are null in the buyer's own view."""

    id: int
    orderId: int | None
    unit: CaseUnitOut
    history: dict[str, Any]
    status: str  # open | offered | escalated | closed
    assessment: CaseAssessmentOut
    handoff: HandoffOut
    openedAt: float
    sla: SlaOut
    offer: dict[str, Any] | None
    dispute: dict[str, Any] | None
    mediation: MediationOut | None
    closedAt: float | None
    outcome: str | None
    texts: list[CaseTextOut]
    buyer: str | None = None
    organization: int | None = None
    log: list[CaseLogEntryOut] | None = None
    notifications: list[NotificationOut] | None = None


class CaseViewOut(CaseOut):
    block: int
    role: str  # staff | auditor | buyer: how the signed-in account sees it


class CaseListOut(Answer):
    block: int
    role: str  # staff (the organisation's open cases) | buyer (their own)
    cases: list[CaseOut]


class EscalationOut(Answer):
    transaction: dict[str, Any]  # {from, to, data, value, chainId}: openDispute(orderId), for the staff's wallet
    case: CaseOut


class ErasureOut(Answer):
    account: str
    erased: int
    cases: list[int]


class InsuranceQuoteEntryOut(Answer):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    for_: str = Field(alias="for")  # "merchant" or "consumer"
    cover: str  # "return_costs" or "return_shipping"
    premium: str  # base units
    breakdown: dict[str, Any]  # every input and intermediate (docs/insurance.md)


class InsuranceQuoteOut(Answer):
    gtin: str
    market: str
    marketId: int
    policyVersion: int
    currency: str
    decimals: int
    price: str | None
    offeredTo: list[str]
    consumerCovers: list[str]
    lawBasis: str
    history: dict[str, Any]
    quotes: list[InsuranceQuoteEntryOut]
    index: dict[str, Any]
    chain: dict[str, Any]


# ------------------------------------------------------------------ customs evidence (api/read/customs_evidence.py)


class EvidenceUnitOut(Answer):
    unitId: str
    gtin: str
    serial: str
    brand: str
    digitalLink: str


class RegimeOut(Answer):
    code: str  # returntrace/customs_regimes.py: EU-UCC-203, US-HTSUS-9801.00.10, CN-CBEC-RETURN
    market: int
    clearance: str  # export | import_release
    name: str
    legalBasis: str
    condition: str  # the state the goods must come back in
    timeZone: str  # where its days are counted: "UTC+8"
    source: str  # the copy of its texts in the repository


class DeclarationOut(Answer):
    """Only for the brand's side and the declarant the declaration names."""

    reference: str
    salt: str
    declarant: str
    document: str  # the CustomsDeclaration's id


class ClearanceOut(Answer):
    kind: str  # export | import_release
    market: str
    time: int
    location: str  # GLN
    signer: str
    txHash: str
    block: int
    commitment: str | None  # TraceRegistry.customsCommitment(reference, salt): the scan's bizTransaction
    declaration: DeclarationOut | None


class EvidenceOrderOut(Answer):
    orderId: int
    market: str
    status: str


class EvidenceReturnOut(Answer):
    requestedAt: int
    receivedAt: int | None  # the return center's receiving scan
    receivedAtLocation: str | None


class LimitOut(Answer):
    name: str
    text: str
    measuredTo: str  # requested | received
    from_: int = Field(alias="from")
    deadline: int  # the last second of the period's last day
    at: int | None
    met: bool | None  # None: pending

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class EvidenceInspectionOut(Answer):
    facts: list[str]
    grade: str | None
    claimedGrade: str | None
    inspector: str
    evidence: str | None
    condition: str  # the regime's: customs judge the facts against it


class CitedTransactionOut(Answer):
    what: str  # a scan's step, or an escrow event's name
    txHash: str
    block: int
    time: int | None


class UnitProofOut(Answer):
    verified: bool
    block: int | None
    onchainCount: int | None
    reason: str | None
    against: str


class EvidenceProofsOut(Answer):
    transactions: list[CitedTransactionOut]
    unit: UnitProofOut
    order: dict[str, Any] | None  # status, facts and grade against ReturnEscrow.order


class CustomsEvidenceOut(Answer):
    notice: str  # supports and does not replace the customs declaration
    unit: EvidenceUnitOut
    regime: RegimeOut
    clearance: ClearanceOut
    order: EvidenceOrderOut
    return_: EvidenceReturnOut = Field(alias="return")
    limits: list[LimitOut]
    inspection: EvidenceInspectionOut | None
    proofs: EvidenceProofsOut
    readerAuthorised: bool

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


def customs_evidence_json(answer: dict[str, Any]) -> dict[str, Any]:
    """The evidence as its model serves it (every field declared, nothing else)."""
    return CustomsEvidenceOut.model_validate(answer).model_dump(mode="json", by_alias=True)


# ------------------------------------------------------------------ return analytics (docs/analytics.md)


class AnalyticsIndexOut(Answer):
    """The index block the figures were computed at, proved against the chain."""

    block: int | None
    blockHash: str | None
    orders: int  # orders indexed
    verified: bool  # the block's hash is the chain's, and the escrow's orderCount there is `orders`
    reason: str | None = None  # why not verified: not_indexed, no_chain, reorganised, order_count_mismatch, …
    onchainOrders: int | None = None


class AnalyticsOut(Answer):
    """Every figure (returntrace/analytics.py defines each; amounts per currency in base units)."""

    orders: int
    returns: int
    returnRate: dict[str, Any]  # {rate, target, met}
    byGtin: list[dict[str, Any]]  # [{key, orders, returns, rate}]
    byMarket: list[dict[str, Any]]
    byMonth: list[dict[str, Any]]  # purchase-month cohorts
    byReason: list[dict[str, Any]]  # [{key, returns, share, rate}]
    gradeMix: dict[str, Any]
    exchangeShare: dict[str, Any]
    timeToRefund: dict[str, Any]  # {byMarket, byPath}: [{key, count, p50, p90}] in seconds
    costs: dict[str, Any]  # per currency
    costReduction: dict[str, Any]  # per currency, against the brand's baseline period
    satisfaction: dict[str, Any]
    highReturns: list[dict[str, Any]]
    membership: list[dict[str, Any]]
    settings: dict[str, Any]  # the brand's ReturnAnalyticsSettings as applied, and its document
    index: AnalyticsIndexOut


class AnalyticsTableOut(Answer):
    table: str
    index: AnalyticsIndexOut
    rows: list[dict[str, Any]]


class ReasonCodeOut(Answer):
    orderId: int
    code: str


# ------------------------------------------------------------------ inspection station (api/read/inspections.py)


class FactsOut(Answer):
    bits: int
    names: list[str]  # seal_intact, packaging_intact, used, defective


class BuyerGetsOut(Answer):
    refund: str  # base units of the order's currency
    points: str
    voucher: str


class MerchantGetsOut(Answer):
    amount: str


class DeductedOut(Answer):
    diminished: str
    returnShipping: str


class GradeTermsOut(Answer):
    grade: str
    refundBps: int
    pointsBps: int
    merchantPaysReturnShipping: bool
    disposition: str  # restock | donate | recycle | destroy


class TermsOut(Answer):
    packagingRequiredForA: bool
    maxDiminishedBps: int
    inspectionSla: int
    disputeWindow: int
    byGrade: list[GradeTermsOut]


class PrefilledOut(Answer):
    kind: str  # Inspection | EventBatch
    post: str
    typedData: dict[str, Any]  # eth_signTypedData_v4 JSON
    fill: list[str]  # the fields the client fills in before signing (the evidence digest)


class InspectionPreviewOut(Answer):
    orderId: int
    block: BlockOut
    status: str
    unitId: str
    market: int
    policyVersion: int
    remedy: str
    currency: str
    price: str
    deliveryFee: str
    facts: FactsOut
    diminishedValue: str
    grade: str  # A | B | C: what deriveGrade gives for the facts
    then: str  # settles | buyer_may_contest | second_opinion | disposition_only
    buyer: BuyerGetsOut
    merchant: MerchantGetsOut
    statutory: bool
    deducted: DeductedOut
    disposition: str
    terms: TermsOut
    message: PrefilledOut | None  # the Inspection (for an accredited inspector)
    scan: PrefilledOut | None  # the INSPECTING scan that goes with it
