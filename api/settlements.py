"""Every settlement of an order as its parts, checked against the escrow's own totals.

The escrow's events state a settlement's totals; the order's terms (OrderPlaced), the buyer's
request (ReturnRequested), the inspection (InspectionSubmitted) and the market's policy version
(PolicySet) — all logs the index holds — state why. `returntrace.settlement` turns those into
parts; a breakdown whose totals differ from the event's is marked `verified: false` and its parts
are not shown as fact.
"""

from __future__ import annotations

from typing import Any

from returntrace import settlement
from returntrace.policies import Facts, Grade, Policy

REMEDY_EXCHANGE = 1
REASON_DEFECTIVE = 1  # IReturnEscrow.ReturnReason.Defective


def _before(events: list[dict[str, Any]], name: str, position: tuple[int, int]) -> dict[str, Any] | None:
    found = [e for e in events if e["name"] == name and (int(e["block"]), int(e["log_index"])) < position]
    return found[-1] if found else None


def breakdown(order: dict[str, Any], events: list[dict[str, Any]], event: dict[str, Any], policy: Policy | None) -> settlement.Breakdown | None:
    """The parts of the settlement `event` (an idx_escrow_events row of the order) from what came
    before it; None when the policy it needs is not indexed."""
    price, fee, shipping = int(order["price"]), int(order["delivery_fee"]), int(order["return_shipping_fee"])
    a = event["args"]
    name = event["name"]
    if name == "OrderCompleted":
        return settlement.without_return(settlement.COMPLETED, price, fee)
    if name == "OrderCancelled":
        return settlement.without_return(settlement.CANCELLED, price, fee)
    if name == "OrderSettled" and int(a["grade"]) == Grade.NONE:
        return settlement.without_return(settlement.TIMEOUT_REFUND, price, fee)
    if policy is None:
        return None
    position = (int(event["block"]), int(event["log_index"]))
    requested = _before(events, "ReturnRequested", position)
    request_args = requested["args"] if requested else {}
    exchange = int(request_args.get("remedy", 0)) == REMEDY_EXCHANGE
    request_statutory = bool(request_args.get("statutory", False))
    if name == "RefundReleasedOnReceipt":
        defective_reason = int(request_args.get("reason", -1)) == REASON_DEFECTIVE
        return settlement.refund_on_receipt(price, fee, shipping, policy, request_statutory, defective_reason, exchange)
    inspected = _before(events, "InspectionSubmitted", position)
    facts = int(inspected["args"]["facts"]) if inspected else 0
    return settlement.graded(
        price, fee, shipping, policy, int(a["grade"]), bool(a["statutory"]), bool(facts & Facts.DEFECTIVE), exchange, request_statutory
    )


def totals(event: dict[str, Any]) -> tuple[int, int, int]:
    """(refund, merchant amount, points) as the escrow's event states them."""
    a = event["args"]
    if event["name"] == "OrderCompleted":
        return 0, int(a["merchantAmount"]), 0
    if event["name"] == "OrderCancelled":
        return int(a["refund"]), 0, 0
    return int(a["refund"]), int(a["merchantAmount"]), int(a["points"])


def parts_json(order: dict[str, Any], events: list[dict[str, Any]], event: dict[str, Any], policy: Policy | None) -> dict[str, Any]:
    """The settlement `event` as JSON parts (amounts as decimal strings in base units):
    {kind, verified, price, deliveryFee, deductions: [{reason, amount}], refund, points, voucher,
    exchangeBonus, merchantAmount, grade, statutory, hygieneException, currency, block, logIndex, txHash}.
    `verified`: the parts add up to the totals the escrow's event states; when they do not (or the
    policy is not indexed) only the event's totals are given."""
    refund, merchant, points = totals(event)
    b = breakdown(order, events, event, policy)
    out: dict[str, Any] = {
        "event": event["name"], "currency": order["currency"], "price": str(order["price"]), "deliveryFee": str(order["delivery_fee"]),
        "refund": str(refund), "merchantAmount": str(merchant), "points": str(points),
        "block": int(event["block"]), "logIndex": int(event["log_index"]), "txHash": event["tx_hash"],
    }
    if b is None or not b.matches(refund, merchant, points):
        return {**out, "kind": b.kind if b else None, "verified": False, "deductions": None}
    return {
        **out, "kind": b.kind, "verified": True,
        "deductions": [{"reason": d.reason, "amount": str(d.amount)} for d in b.deductions],
        "voucher": str(b.voucher), "exchangeBonus": str(b.exchange_bonus),
        "grade": Grade(b.grade).name if b.grade else None, "statutory": b.statutory, "hygieneException": b.hygiene_exception,
    }
