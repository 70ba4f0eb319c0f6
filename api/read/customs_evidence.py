"""What a customs declarant needs to claim duty relief on a returned unit, from its verified view
(api/read/unit_views.py) and the brand's signed customs declaration (returntrace/documents.py):

    evidence(view, declaration, now, authorised) -> dict      (ApiError 409 when there is nothing to claim)

the unit's identity; the clearance the relief runs from (the customs-clearing scan whose commitment the
declaration opens) with the declaration reference for an authorised reader, only the commitment for
anyone else; the return's dates against the regime's limits (returntrace/customs_regimes.py); the
inspection's attested state; and what proves each (the scans' and the escrow's transactions, the unit's
chain verified against TraceRegistry.unitRecord and the order against ReturnEscrow.order at a stated block).
It supports the customs declaration and never replaces it (NOTICE).
"""

from __future__ import annotations

from typing import Any

from returntrace import customs
from returntrace.customs_regimes import REGIMES, Regime
from returntrace.policies import MARKET_NAMES

from ..errors import ApiError
from ..store.documents import Document
from .views import TimelineEntry, UnitView

NOTICE = (
    "This evidence supports the customs declaration for relief from duty on returned goods; it does not replace "
    "the declaration, and customs decide whether the relief is granted."
)
MARKETS = {name: number for number, name in MARKET_NAMES.items()}
CLEARING = "customs_clearing"


def _market_number(name: str) -> int:
    """A ReturnStatus's market ("EU", or the number of a market without a name) as its number."""
    return MARKETS[name] if name in MARKETS else int(name)


def _clearances(view: UnitView) -> list[TimelineEntry]:
    return [e for e in view.timeline if e.step == CLEARING and not e.via_parcel]


def _transaction(what: str, entry: TimelineEntry) -> dict[str, Any]:
    return {"what": what, "txHash": entry.tx_hash, "block": entry.block, "time": entry.event_time}


def _received(view: UnitView, after: int) -> TimelineEntry | None:
    """The return center's receiving scan of the returned unit (the goods are back)."""
    return next(
        (e for e in view.timeline if e.step == "receiving" and e.disposition == "returned" and e.event_time >= after),
        None,
    )


def export_of(view: UnitView, declaration: Document | None) -> tuple[TimelineEntry, Regime, Document]:
    """The clearance the declaration's reference and salt open, its regime, and the declaration."""
    clearances = _clearances(view)
    if not clearances:
        raise ApiError(
            409,
            "no_export",
            f"unit {view.gtin}/{view.serial} has no customs-clearing scan: there is no export to claim relief on",
        )
    if declaration is None:
        raise ApiError(
            409,
            "declaration_not_recorded",
            f"the brand has not recorded the customs declaration of unit {view.gtin}/{view.serial} "
            "(POST /v1/documents/CustomsDeclaration)",
        )
    message = declaration.message
    commitment = "0x" + customs.commitment(message["declarationReference"], bytes.fromhex(message["salt"][2:])).hex()
    entry = next((e for e in clearances if (e.biz_transaction or "").lower() == commitment), None)
    if entry is None:  # accepted against the chain, so only an index that lost the scan gets here
        raise ApiError(
            409, "no_export", f"no indexed customs-clearing scan of {view.gtin}/{view.serial} carries {commitment}"
        )
    return entry, REGIMES[message["regime"]], declaration


# The escrow's events a declarant may cite: the return's request, the inspection, the settlement.
CITED_EVENTS = ("ReturnRequested", "InspectionSubmitted", "OrderInspected", "OrderSettled", "RefundReleasedOnReceipt")


def evidence(view: UnitView, declaration: Document | None, now: int, authorised: bool) -> dict[str, Any]:
    """The evidence of `view`'s return under its declaration's regime, as of `now` (unix seconds);
    the declaration's reference, salt and declarant only when `authorised`."""
    entry, regime, declaration = export_of(view, declaration)
    rs = view.return_status
    if rs is None or rs.requested_at is None or not regime.applies(_market_number(rs.market)):
        raise ApiError(
            409,
            "no_cross_border_return",
            f"unit {view.gtin}/{view.serial} has no return of an order that crosses the {MARKET_NAMES[regime.market]}"
            f" border under {regime.code}",
        )
    received = _received(view, rs.requested_at)
    received_at = received.event_time if received else None
    message = declaration.message
    # The scans by their step, the escrow's events by their name, in chain order.
    transactions = sorted(
        [_transaction(e.step, e) for e in (entry, received) if e is not None]
        + [
            {"what": e["name"], "txHash": e["txHash"], "block": e["block"], "time": e["time"]}
            for e in rs.events
            if e["name"] in CITED_EVENTS
        ],
        key=lambda t: t["block"],
    )
    inspection = rs.inspection
    return {
        "notice": NOTICE,
        "unit": {
            "unitId": view.unit_id,
            "gtin": view.gtin,
            "serial": view.serial,
            "brand": view.brand,
            "digitalLink": view.digital_link,
        },
        "regime": regime.as_json(),
        "clearance": {
            "kind": regime.clearance,
            "market": MARKET_NAMES[regime.market],
            "time": entry.event_time,
            "location": entry.location,
            "signer": entry.signer,
            "txHash": entry.tx_hash,
            "block": entry.block,
            "commitment": entry.biz_transaction,
            "declaration": {
                "reference": message["declarationReference"],
                "salt": message["salt"],
                "declarant": message["declarant"],
                "document": declaration.id,
            }
            if authorised
            else None,
        },
        "order": {"orderId": rs.order_id, "market": rs.market, "status": rs.status},
        "return": {
            "requestedAt": rs.requested_at,
            "receivedAt": received_at,
            "receivedAtLocation": received.location if received else None,
        },
        "limits": [c.as_json() for c in regime.check(entry.event_time, rs.requested_at, received_at, now)],
        "inspection": None
        if inspection is None
        else {
            "facts": inspection["facts"],
            "grade": inspection["derivedGrade"],
            "claimedGrade": inspection["claimedGrade"],
            "inspector": inspection["inspector"],
            "evidence": inspection["evidence"],
            "condition": regime.condition,
        },
        "proofs": {
            "transactions": transactions,
            "unit": {
                "verified": view.verification.verified,
                "block": view.verification.block,
                "onchainCount": view.verification.onchain_count,
                "reason": view.verification.reason,
                "against": "TraceRegistry.unitRecord(unitId): the hash chain of every scan above, rebuilt",
            },
            "order": rs.proof,
        },
        "readerAuthorised": authorised,
    }
