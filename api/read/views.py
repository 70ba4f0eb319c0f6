"""What the consumer page, the resolver's JSON and the auditor views show of a unit.

These dataclasses are the contract between the indexer side (which fills them from the index
database and proves them against on-chain heads) and the presentation side (HTML page, JSON,
QR). Their JSON form, served for `Accept: application/json`, is api/http/responses.py's: camelCase,
with these snake_case names as deprecated aliases for one release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TimelineEntry:
    seq: int  # 1-based position in the unit's hash chain
    step: str  # "commissioning" or a BizStep name in lower case ("delivering", "receiving", …)
    label: str  # what a parent reads: "Made", "Shipped", "Cleared customs", "Delivered", …
    step_uri: str  # CBV or urn:returntrace: URI
    disposition: str | None  # lower-case Disposition name, None if unspecified
    disposition_uri: str | None
    location: str  # 13-digit GLN
    event_time: int  # unix seconds, as the signer attested
    signer: str  # checksummed address
    signer_role: str  # "brand", "carrier", … as accredited when indexed
    evidence: str | None  # CID of the evidence file if the store knows it, else 0x digest; None if none
    biz_transaction: str | None  # 0x order reference or RMA, None if none
    tx_hash: str
    block: int
    parcel: str | None = (
        None  # 18-digit SSCC: the parcel an aggregation packed into or unpacked from, or that a via-parcel scan covered
    )
    action: str | None = None  # aggregations: "ADD" or "DELETE"
    via_parcel: bool = False  # a scan of the parcel while the unit was in it (a link of the parcel's chain)
    log_index: int | None = None  # the log's index in its block: with `block`, its place in chain order


@dataclass
class Settlement:
    grade: (
        str | None
    )  # "A", "B", "C"; None when no inspection decided (a refund before one, a cancellation, a completion)
    statutory: bool  # the law, not the grade terms, decided the refund
    refund: str  # decimal string in the currency's base units
    merchant_amount: str
    points: str
    disposition: str  # "restock", "donate", "recycle", "destroy"; "pending" before the inspection; "kept" by the buyer
    tx_hash: str
    block: int
    log_index: int | None = None
    # The settlement as the escrow's parts (api.read.settlements.parts_json): its path, price, delivery fee, each
    # deduction with its reason, refund, points, voucher, merchant amount; `verified` when they add up.
    parts: dict[str, Any] | None = None


@dataclass
class ReturnStatus:
    order_id: int
    market: str  # "EU", "US", "CN" or the market number
    # IReturnEscrow.OrderStatus in lower case: active, return_requested, inspected, disputed, settled, refunded, …
    status: str
    currency: str  # "native" or the ERC-20 address
    price: str
    delivery_fee: str
    reason: str | None  # ReturnReason name in lower case, once a return was requested
    requested_at: int | None
    inspection: (
        dict[str, Any] | None
    )  # {"inspector", "facts": [names], "claimedGrade", "derivedGrade", "diminishedValue", "evidence"}
    settlement: Settlement | None
    events: list[dict[str, Any]] = field(default_factory=list)  # escrow events of this order, oldest first
    remedy: str | None = None  # "refund" or "exchange" (voucher in store points), once a return was requested
    voucher_points: str | None = None  # the exchange voucher's store points, once paid
    # while a return is possible: {"closesAt", "refund", "statutory", "exchangeOffered", "exchangeBonusBps", "voucher",
    # "refundOnReturn", "freePickup"}
    return_options: dict[str, Any] | None = None
    refund_on_receipt: dict[str, Any] | None = (
        None  # {"location", "refund", "points", "block", "txHash"}: released at the return center's scan
    )
    second_inspection: dict[str, Any] | None = (
        None  # {"firstOrganization", "pending"}: a second, independent inspector is needed
    )
    defect_claim: dict[str, Any] | None = None  # {"evidence", "autoApproved", "decided", "approved", "status"}
    # {"replacement": {unitId, gtin, serial, link}, "verified", "reason", "deliveredAt", "unfulfilled", "returnWaived"}
    reissue: dict[str, Any] | None = None
    in_withdrawal: bool | None = None  # the return request fell in the statutory withdrawal period
    # {"openedBy": buyer|merchant|inspection_mismatch, "account", "decideBy", "time", "pending", "lapsed",
    #  "resolution": {"arbiter", "facts", "grade", "diminishedValue", "reason", "evidence", "time", "txHash"} | None}
    dispute: dict[str, Any] | None = None
    dispatched_at: int | None = None  # while the return travels: when a carrier's scan proved it was sent back
    proof: dict[str, Any] | None = (
        None  # {"verified", "block", "reason"}: status, facts and grade against ReturnEscrow.order
    )


@dataclass
class Verification:
    verified: bool  # the rebuilt hash chain equals the on-chain record
    block: int | None  # the block at which the on-chain record was read
    onchain_count: int | None
    rebuilt_count: int
    reason: str | None  # why not verified (mismatch, chain unreachable, not indexed yet)
    closed: bool = False  # the on-chain record's closed flag (isClosed): the unit's lifecycle has ended


@dataclass
class UnitView:
    unit_id: str  # 0x keccak id
    gtin: str  # 14 digits
    serial: str
    brand: str
    hygiene_sealed: bool
    digital_link: str
    timeline: list[TimelineEntry]
    return_status: ReturnStatus | None  # the unit's latest order, if any
    verification: Verification
    # This unit replaces a defective one: {"orderId", "original": {unitId, gtin, serial, link}, "verified", "reason"}
    replacement_for: dict[str, Any] | None = None
    closed: bool = False  # isClosed(unit), read with the record the verification compared
    # The event that closed it: {"kind": donated|recycled|destroyed|decommissioned, "organization" (GLN), "location",
    # "time", …}
    fate: dict[str, Any] | None = None
    # The deployment the unit is recorded under: None for the gateway's current one; a previous one it
    # serves read-only (RT_LEGACY_MANIFESTS) is {"schema", "chainId", "registry", "readOnly": True}, and
    # its units show no orders (its escrow is not read).
    deployment: dict[str, Any] | None = None


@dataclass
class ParcelMember:
    unit_id: str
    gtin: str | None  # None: a unit the index does not know
    serial: str | None
    link: str | None  # the unit's Digital Link (its page)


@dataclass
class ParcelView:
    """A parcel (SSCC) as its /00/ page shows it: its chain, verified, and its content proved on-chain."""

    parcel_id: str
    sscc: str  # 18 digits
    digital_link: str
    timeline: list[TimelineEntry]
    contents: list[ParcelMember]
    verification: Verification
    contents_verified: bool  # every member's parentOf is this parcel and there are parcelSize of them
    contents_reason: str | None
    onchain_size: int | None
